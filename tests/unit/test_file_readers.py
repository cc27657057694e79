"""Reading files into rows of a kind: formats, encodings, delimiters, headers, numbering, memory."""

from __future__ import annotations

import codecs
import csv
import gc
import io
import json
import re
import tracemalloc
import zipfile
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from bulk_import.engine.files import xlsx as readers
from bulk_import.engine.files.columns import FieldMap, Layout, normalize_name
from bulk_import.engine.files.errors import FileFormatError
from bulk_import.engine.files.readers import file_format, guess_delimiter, guess_encoding, xlsx_rows
from bulk_import.engine.files.rows import FileReader, FileRow, FileSurvey
from bulk_import.kinds import get_kind
from bulk_import.rules.strings import INVISIBLE

EVENTS = Path(__file__).resolve().parents[2] / "events"
DEBTS = get_kind("debts")
LOANS = get_kind("campaign-customers")
CUSTOMERS = get_kind("customers")
PAYMENTS = get_kind("payments")


def opener(data: bytes) -> Any:
    return lambda: io.BytesIO(data)


def read(data: bytes, fmt: str = "csv", kind: Any = DEBTS) -> tuple[FileSurvey, list[FileRow]]:
    reader = FileReader(opener(data), fmt, kind)
    survey = reader.survey()
    again = FileReader(opener(data), fmt, kind, encoding=survey.encoding, delimiter=survey.delimiter)
    return survey, list(again.rows())


def records(data: bytes, fmt: str = "csv", kind: Any = DEBTS) -> list[Any]:
    return [r.record for r in read(data, fmt, kind)[1]]


def failure(data: bytes, fmt: str = "csv", kind: Any = DEBTS) -> str:
    with pytest.raises(FileFormatError) as info:
        FileReader(opener(data), fmt, kind).survey()
    return info.value.message


# -- formats -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("debts.csv", "csv"),
        ("DEBTS.CSV", "csv"),
        ("relances juillet.xlsx", "xlsx"),
        ("rows.json", "json"),
        ("rows.jsonl", "jsonl"),
        ("rows.ndjson", "jsonl"),
    ],
)
def test_the_extension_gives_the_format(name: str, fmt: str) -> None:
    assert file_format(name) == fmt


@pytest.mark.parametrize("name", ["debts.txt", "debts.xls", "debts", "debts.csv.zip", ".csv"])
def test_other_extensions_are_refused_with_the_ones_accepted(name: str) -> None:
    with pytest.raises(FileFormatError, match=r"name it \.csv, \.xlsx, \.json or \.jsonl"):
        file_format(name)


# -- CSV: delimiters, encodings, quoting ------------------------------------------------------------------
HEADER = ["firstname", "lastname", "amount", "currency", "phone"]
ROW = ["Léa", "Petit", "12,50", "EUR", "06 12 34 56 78"]
EXPECTED = dict(zip(HEADER, ROW, strict=True))


def csv_bytes(
    rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8", newline: str = "\r\n"
) -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=newline).writerows(rows)
    return out.getvalue().encode(encoding)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "utf-16"])
@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_csv_delimiter_and_encoding_are_detected(delimiter: str, encoding: str, newline: str) -> None:
    survey, rows = read(csv_bytes([HEADER, ROW, ROW], delimiter, encoding, newline))
    assert (survey.delimiter, survey.encoding, survey.rows) == (delimiter, encoding, 2)
    assert [r.record for r in rows] == [EXPECTED, EXPECTED]


def test_quoted_fields_keep_delimiters_quotes_and_line_breaks() -> None:
    tricky = ['Jean, "le grand"', "Dupont;\nde la Tour", "10", "EUR", "06\t12 34 56 78"]
    for delimiter in (",", ";", "\t"):
        rows = read(csv_bytes([HEADER, tricky, ROW], delimiter))[1]
        assert [r.record for r in rows] == [dict(zip(HEADER, tricky, strict=True)), EXPECTED]
        assert [r.index for r in rows] == [0, 1]  # a line break inside a value is not a row


def test_a_file_that_is_ascii_at_first_and_windows_1252_further_on_is_read_as_windows_1252() -> None:
    rows = [HEADER] + [["Jean", "Martin", "10", "EUR", "0612345678"]] * 5000 + [ROW]
    data = csv_bytes(rows, ";", "cp1252")
    assert len(data) > 64 * 1024 and data[: 64 * 1024].isascii()
    survey, read_rows = read(data)
    assert survey.encoding == "cp1252"
    assert read_rows[-1].record == EXPECTED


def test_bytes_that_are_neither_utf8_nor_windows_1252_fail_the_file() -> None:
    data = csv_bytes([HEADER, ROW], ";", "cp1252") + b"Jean;Ma\x81rtin;1;EUR;0612345678\r\n"
    assert "neither UTF-8 nor Windows-1252" in failure(data)


def test_a_file_mixing_utf8_and_windows_1252_fails() -> None:
    head = csv_bytes([HEADER, ROW] + [["Jean", "Martin", "10", "EUR", "0612345678"]] * 5000, ";", "utf-8")
    data = head + "Zoé;Faure;1;EUR;0612345678\r\n".encode("cp1252")
    message = failure(data)
    assert "not valid UTF-8" in message and "after line" in message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\r\n\r\n,,,\r\n", "only empty rows"),
        (b"PK\x03\x04rest of a zip", "XLSX workbook"),
        (b"a,b\x00c\n", "binary data"),
        (b"Nom complet,Adresse\r\nJean,Paris\r\n", "no header row"),
        (b'firstname,lastname,amount\r\nJean,"Martin,10\r\n' + b"x" * 10, "quote that is never closed"),
        (b"firstname,First Name,amount\r\nJean,Jean,10\r\n", "both name the field firstname"),
    ],
)
def test_csv_files_that_cannot_be_read_fail_with_the_reason(data: bytes, message: str) -> None:
    if message == "quote that is never closed":
        data = data.replace(b"x" * 10, b"x" * 1_100_000)
    assert message in failure(data)


def test_a_header_but_no_data_rows_reads_zero_rows() -> None:
    assert read(csv_bytes([HEADER]))[0].rows == 0


# -- header ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("header", "kind", "field"),
    [
        ("First Name", LOANS, "first_name"),
        ("FIRST_NAME", LOANS, "first_name"),
        ("first-name", LOANS, "first_name"),
        (" firstName ", LOANS, "first_name"),
        ("Phone Number", CUSTOMERS, "phoneNumber"),
        ("phone_number", CUSTOMERS, "phoneNumber"),
        ("SSN last four", CUSTOMERS, "ssnLastFour"),
        ("Do not call", LOANS, "doNotCall"),
        ("EMI Due Date*", LOANS, "emi_due_date"),
        ("Source ID", PAYMENTS, "source.id"),
        ("source.id", PAYMENTS, "source.id"),
        ("Amount.Currency", PAYMENTS, "amount.currency"),
        ("user_tags", PAYMENTS, "user_tags"),
        ("Prénom", DEBTS, "firstname"),
        ("Téléphone", DEBTS, "phone"),
        ("E-mail", DEBTS, "email"),
        ("Temp ID", DEBTS, "temp_id"),
        ("\ufeffamount", DEBTS, "amount"),
    ],
)
def test_header_names_match_fields_ignoring_case_spacing_and_accents(
    header: str, kind: Any, field: str
) -> None:
    spec = FieldMap.of(kind).lookup(header)
    assert spec is not None and spec.name == field


@pytest.mark.parametrize("name", ["First Name", "first_name", "FIRST-NAME", "firstName", "  first  name  "])
def test_normalized_names_are_the_same(name: str) -> None:
    assert normalize_name(name) == "firstname"


def test_unknown_columns_are_ignored_and_listed() -> None:
    data = csv_bytes([[*HEADER, "Notes", "Agence"], [*ROW, "rappeler", "Lyon"]])
    survey, rows = read(data)
    assert rows[0].record == EXPECTED
    assert survey.unknown_columns == ["Notes", "Agence"]
    assert "Notes, Agence" in survey.warnings[0]


def test_a_column_without_a_name_but_with_values_is_reported() -> None:
    survey, _ = read(csv_bytes([[*HEADER, ""], [*ROW, "orphan"]]))
    assert survey.warnings == ["column 6 has no name in the header; its values were ignored"]


def test_a_whole_object_column_and_one_of_its_fields_cannot_both_be_given() -> None:
    header = ["source", "source.id", "target.id"]
    with pytest.raises(FileFormatError, match="gives the whole source"):
        Layout.of(header, FieldMap.of(PAYMENTS))


def test_nested_fields_and_json_cells_build_the_payment_objects() -> None:
    header = ["id", "Source ID", "target.id", "amount.type", "amount.amount", "user_tags", "attachments"]
    row = [
        "p1",
        "grp-main",
        "ct-1",
        "SEND",
        "10.5",
        '{"team": "ops"}',
        '[{"url": "https://x.example/a.pdf"}]',
    ]
    (record,) = records(csv_bytes([header, row]), kind=PAYMENTS)
    assert record == {
        "id": "p1",
        "source": {"id": "grp-main"},
        "target": {"id": "ct-1"},
        "amount": {"type": "SEND", "amount": "10.5"},
        "user_tags": {"team": "ops"},
        "attachments": [{"url": "https://x.example/a.pdf"}],
    }


def test_rows_above_the_header_are_not_data() -> None:
    data = csv_bytes([["Relances de juillet"], [], HEADER, ROW])
    survey, rows = read(data)
    assert survey.header_row == 3 and [r.index for r in rows] == [0]


# -- numbering and skipped rows ------------------------------------------------------------------------
def test_each_row_index_is_its_data_row_number_and_empty_or_instruction_rows_are_skipped() -> None:
    data = csv_bytes(
        [
            HEADER,
            ["* Prénom", "* Nom", "* Montant", "* Devise", "Téléphone"],
            ROW,
            ["", "", "", "", ""],
            ROW,
            ["", "", "", "", "Les champs obligatoires sont marqués d'un *"],
            ["firstname", "lastname", "amount", "currency", "phone"],
            ROW,
            [],
            ["", ""],
        ],
        ";",
    )
    survey, rows = read(data)
    assert survey.rows == 7  # the empty rows at the end are not rows
    assert [(r.index, r.skip) for r in rows] == [
        (0, "template instruction row (starts with *)"),
        (1, None),
        (2, "empty row"),
        (3, None),
        (4, 'template instruction row (contains "champs obligatoires")'),
        (5, "repeated header row"),
        (6, None),
    ]


def test_a_row_with_more_values_than_columns_is_rejected_not_the_file() -> None:
    rows = read(csv_bytes([HEADER, [*ROW, "extra"], ROW]))[1]
    assert rows[0].reject is not None and "has 6 values but the header has 5 columns" in rows[0].reject
    assert rows[1].reject is None and rows[1].record == EXPECTED


def test_the_french_sample_reads_as_windows_1252_semicolons() -> None:
    survey, rows = read((EVENTS / "files" / "debts-relances-fr.csv").read_bytes())
    assert (survey.encoding, survey.delimiter, survey.rows) == ("cp1252", ";", 14)
    assert rows[0].skip and rows[0].skip.startswith("template instruction row")
    assert rows[1].record["firstname"] == "Camille"
    assert rows[3].record["amount"] == "1 234,50"
    assert rows[5].skip == "empty row"
    assert rows[7].record["lastname"] == "Françoise"


# -- Hypothesis: any CSV the csv module writes reads back ---------------------------------------------------
CP1252_TEXT = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 éèàçÉ€£'\",;\t\n\r.-_/()")), min_size=0, max_size=12
)
UNICODE_TEXT = st.text(
    alphabet=st.characters(
        # Invisible characters around values are trimmed like spaces: no round trip keeps them.
        blacklist_categories=("Cs", "Cc"),
        blacklist_characters=INVISIBLE,
    )
    | st.sampled_from(list('",;\t\n\r')),
    max_size=12,
)


@st.composite
def csv_files(draw: Any) -> tuple[str, str, list[list[str]]]:
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    text = CP1252_TEXT if encoding == "cp1252" else UNICODE_TEXT
    n = draw(st.integers(min_value=1, max_value=12))
    rows = [[f"T-{i}", draw(text), draw(text), draw(text)] for i in range(n)]
    return encoding, delimiter, rows


def _decodes_as_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_files())
def test_csv_round_trip(case: tuple[str, str, list[list[str]]]) -> None:
    encoding, delimiter, rows = case
    header = ["temp_id", "firstname", "email", "lastname"]
    data = csv_bytes([header, *rows], delimiter, encoding)
    # Windows-1252 bytes that also form UTF-8 (É£ is the UTF-8 of ɣ) say nothing of their encoding: no
    # reader can tell such a file from a UTF-8 one, so it is no round trip to ask for.
    assume(encoding != "cp1252" or not _decodes_as_utf8(data) or data.isascii())
    survey, read_rows = read(data)
    assert survey.delimiter == delimiter
    assert survey.rows == len(rows)
    for expected, got in zip(rows, read_rows, strict=True):
        want = {h: v for h, v in zip(header, expected, strict=True) if v.strip()}
        assert got.record == want
        assert got.values == expected


# -- XLSX ------------------------------------------------------------------------------------------------
def xlsx_bytes(*sheets: list[list[Any]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for n, rows in enumerate(sheets):
        sheet = workbook.create_sheet(f"Sheet{n + 1}")
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_xlsx_first_sheet_with_typed_cells() -> None:
    data = xlsx_bytes(
        [
            ["Relances"],
            [],
            [
                "Loan ID",
                "First Name",
                "Phone Number",
                "Loan Amount",
                "EMI Amount",
                "EMI Due Date",
                "Do Not Call",
            ],
            [1001, "Camille", "06 12 34 56 78", 12000, 450.5, datetime(2026, 12, 5), True],
            [None, None, None, None, None, None, None],
            ["LN-2", "Hugo", 33612345679, 8000.0, "210,50", date(2026, 12, 10), None],
        ],
        [["firstname"], ["not the first sheet"]],
    )
    survey, rows = read(data, "xlsx", LOANS)
    assert (survey.format, survey.rows, survey.header_row, survey.encoding) == ("xlsx", 3, 3, None)
    assert rows[0].record == {
        "loan_id": "1001",
        "first_name": "Camille",
        "phone_number": "06 12 34 56 78",
        "loan_amount": "12000",
        "emi_amount": "450.5",
        "emi_due_date": "2026-12-05",
        "doNotCall": "true",
    }
    assert rows[1].skip == "empty row"
    assert rows[2].record["phone_number"] == "33612345679" and rows[2].record["loan_amount"] == "8000"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"firstname,lastname\n", "not an XLSX workbook"),
        (b"PK\x03\x04" + b"\x00" * 100, "not an XLSX workbook"),
    ],
)
def test_broken_xlsx_files_fail_with_the_reason(data: bytes, message: str) -> None:
    assert message in failure(data, "xlsx")


def test_an_xlsx_file_without_rows_is_empty() -> None:
    assert "empty" in failure(xlsx_bytes([]), "xlsx")


def _patched(data: bytes, sheet_xml: Any = None, drop: str | None = None) -> bytes:
    """The workbook with its first sheet's XML rewritten by ``sheet_xml``, or one of its parts left out."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename == drop:
                continue
            part = source.read(info.filename)
            if sheet_xml is not None and info.filename == "xl/worksheets/sheet1.xml":
                part = sheet_xml(part)
            target.writestr(info, part)
    return out.getvalue()


def _cells(data: bytes) -> list[list[str]]:
    return list(xlsx_rows(opener(data)))


def test_xlsx_cells_read_as_a_csv_export_would_give_them() -> None:
    data = xlsx_bytes(
        [
            [
                1001,
                450.5,
                12000.0,
                -0.0,
                33612345679,
                1e20,
                0.1 + 0.2,
                True,
                False,
                datetime(2026, 12, 5),
                date(2026, 12, 10),
                time(9, 30),
                datetime(2026, 1, 2, 3, 4, 5),
                timedelta(hours=5),
                "  spaced  ",
                "",
                None,
                "06 12 34 56 78",
            ]
        ]
    )
    assert _cells(data) == [
        [
            "1001",
            "450.5",
            "12000",  # a whole number has no .0, however it was stored
            "0",
            "33612345679",  # a long phone number stays whole, not 3.36e10
            "100000000000000000000",
            "0.3",  # stored with 15 significant digits, as Excel does
            "true",
            "false",
            "2026-12-05",  # a date cell at midnight is a date
            "2026-12-10",
            "09:30:00",
            "2026-01-02T03:04:05",
            "5:00:00",
            "  spaced  ",
            "",
            "",
            "06 12 34 56 78",
        ]
    ]


def test_empty_rows_and_columns_before_the_data_keep_the_spreadsheet_numbering() -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet["C3"], sheet["D3"], sheet["E3"] = "Loan ID", "First Name", "Phone Number"
    sheet["C5"], sheet["D5"], sheet["E5"] = "L-1", "Camille", "06 12 34 56 78"
    sheet.merge_cells("C7:E7")
    sheet["C7"] = "merged: the value is in the first cell only"
    out = io.BytesIO()
    workbook.save(out)
    rows = _cells(out.getvalue())
    assert not any(rows[0] + rows[1] + rows[3])  # empty rows, as many as in the sheet
    assert rows[2] == ["", "", "Loan ID", "First Name", "Phone Number"]
    assert rows[4] == ["", "", "L-1", "Camille", "06 12 34 56 78"]
    assert rows[6] == ["", "", "merged: the value is in the first cell only", "", ""]
    survey, read_rows = read(out.getvalue(), "xlsx", LOANS)
    assert survey.header_row == 3
    assert read_rows[0].skip == "empty row"
    assert read_rows[1].record == {
        "loan_id": "L-1",
        "first_name": "Camille",
        "phone_number": "06 12 34 56 78",
    }


def test_a_sheet_with_wrong_dimensions_or_cells_without_references_is_read_whole() -> None:
    data = xlsx_bytes([["firstname", "lastname"], ["Léa", "Martin"], ["Hugo", "Petit"]])
    wrong = _patched(data, lambda xml: re.sub(rb"<dimension [^>]*/>", b'<dimension ref="A1:A1"/>', xml))
    unnumbered = _patched(data, lambda xml: re.sub(rb' r="[A-Z]*[0-9]+"', b"", xml))
    for workbook in (wrong, unnumbered):
        assert _cells(workbook) == [["firstname", "lastname"], ["Léa", "Martin"], ["Hugo", "Petit"]]


def test_a_formula_error_reads_as_an_empty_cell() -> None:
    # The one cell value openpyxl read differently: it gave the error's text.
    data = xlsx_bytes([["firstname", "amount"], ["Léa", 12]])
    broken = _patched(
        data, lambda xml: re.sub(rb'<c r="B2" t="n"><v>12</v></c>', b'<c r="B2" t="e"><v>#N/A</v></c>', xml)
    )
    assert _cells(broken) == [["firstname", "amount"], ["Léa", ""]]


def test_the_first_worksheet_is_read_even_when_hidden_and_after_a_chart_sheet() -> None:
    workbook = Workbook()
    workbook.active.title = "Hidden"
    workbook.active.append(["firstname"])
    workbook.active.sheet_state = "hidden"
    workbook.create_sheet("Visible").append(["lastname"])
    workbook.move_sheet("Visible", offset=1)
    workbook.create_chartsheet("Chart", 0)
    out = io.BytesIO()
    workbook.save(out)
    assert _cells(out.getvalue()) == [["firstname"]]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[: len(data) // 2], "this is not an XLSX workbook"),  # cut short
        (lambda data: data[:-10], "this is not an XLSX workbook"),
        (
            lambda data: _patched(data, lambda xml: xml[: len(xml) // 2]),
            "the first sheet cannot be read (XmlError",
        ),
        (lambda data: _patched(data, drop="xl/worksheets/sheet1.xml"), "the first sheet cannot be read"),
        (lambda data: _patched(data, drop="xl/workbook.xml"), "the workbook has no sheet"),
        (lambda data: _zip_of({"notes.txt": b"hello"}), "this is not a readable XLSX workbook"),
        (
            lambda data: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600),
            "this is not an XLSX workbook",
        ),  # an old .xls workbook: a compound document, not a zip archive
    ],
)
def test_a_damaged_workbook_fails_the_file_with_the_reason(damage: Any, message: str) -> None:
    data = damage(xlsx_bytes([["firstname", "lastname"], ["Léa", "Martin"]]))
    assert message in failure(data, "xlsx")


def _zip_of(parts: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, part in parts.items():
            archive.writestr(name, part)
    return out.getvalue()


def test_a_workbook_larger_than_the_memory_spool_is_read_from_a_temporary_file(monkeypatch: Any) -> None:
    monkeypatch.setattr(readers, "SPOOL_BYTES", 1024)
    rows = [["loan_id", "first_name"], *[[f"L-{i:05d}", "Camille"] for i in range(2_000)]]
    data = xlsx_bytes(rows)
    assert len(data) > 10 * 1024
    assert _cells(data) == rows


# -- JSON and JSON Lines ---------------------------------------------------------------------------------
def test_json_array_rows_map_their_keys() -> None:
    data = json.dumps([{"First Name": "Ada", "nickname": "A"}, {}, 42, {"firstName": "A", "first_name": "B"}])
    survey, rows = read(data.encode(), "json", LOANS)
    assert survey.rows == 4
    assert rows[0].record == {"first_name": "Ada"} and survey.unknown_columns == ["nickname"]
    assert rows[1].skip == "empty row"
    assert rows[2].record == 42  # the kind says a row must be an object
    assert rows[3].reject == "row: keys 'firstName' and 'first_name' both give the field first_name"


def test_json_body_gives_its_options_and_rows() -> None:
    body = {
        "campaignId": "camp-loans",
        "records": [{"loan_id": "L1"}, {"loan_id": "L2"}],
        "initiateCall": False,
    }
    survey, rows = read(json.dumps(body, indent=2).encode("utf-8-sig"), "json", LOANS)
    assert survey.options == {"campaignId": "camp-loans", "initiateCall": False}
    assert [r.record for r in rows] == [{"loan_id": "L1"}, {"loan_id": "L2"}]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"  \n ", "the file is empty"),
        (b'"rows"', "must hold an array of rows"),
        (b'{"campaignId": "c"}', 'with the rows in "records"'),
        (b'{"records": {"a": 1}}', "records: must be a list of rows"),
        (b'[{"loan_id": "L1"}, {"loan_id": }]', "row 1: not valid JSON"),
        (b'[{"loan_id": "L1"}] [', "text after the end"),
        (b'[{"loan_id": "L1"} {"loan_id": "L2"}]', "a comma or ] after row 0"),
    ],
)
def test_broken_json_files_fail_with_the_reason(data: bytes, message: str) -> None:
    assert message in failure(data, "json", LOANS)


def test_json_values_cut_across_read_windows_are_read_whole() -> None:
    big = [{"loan_id": f"L{i}", "first_name": "x" * 300, "loan_amount": 123456789 + i} for i in range(2000)]
    rows = read(json.dumps(big).encode(), "json", LOANS)[1]
    assert [r.record["loan_amount"] for r in rows] == [123456789 + i for i in range(2000)]


def test_jsonl_rows_blank_lines_and_broken_lines() -> None:
    data = b'{"loan_id": "L1"}\n\n{"loan_id": \n{"loan_id": "L3"}\n\n\n'
    survey, rows = read(data, "jsonl", LOANS)
    assert survey.rows == 4
    assert [(r.index, r.record, r.skip) for r in rows[:2]] == [
        (0, {"loan_id": "L1"}, None),
        (1, {}, "empty row"),
    ]
    assert rows[2].reject and rows[2].reject.startswith("row: not valid JSON")
    assert rows[3].record == {"loan_id": "L3"}


def test_an_empty_jsonl_file_fails() -> None:
    assert failure(b"", "jsonl", LOANS) == "the file is empty"


# -- guesses -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sample", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("a;b;c\n1,5;2,5;3\n", ";"),
        ("a\tb\n1;2\t3,4\n", "\t"),
        ("name\nAda\n", ","),
        ('"a;b",c\n"1;2",3\n', ","),
    ],
)
def test_guess_delimiter(sample: str, delimiter: str) -> None:
    assert guess_delimiter(sample) == delimiter


@pytest.mark.parametrize(
    ("prefix", "encoding"),
    [
        (codecs.BOM_UTF8 + b"a,b", "utf-8-sig"),
        (codecs.BOM_UTF16_LE + "a,b".encode("utf-16-le"), "utf-16"),
        ("é,b".encode(), "utf-8"),
        ("é,b".encode("cp1252"), "cp1252"),
        (b"plain", "utf-8"),
    ],
)
def test_guess_encoding(prefix: bytes, encoding: str) -> None:
    assert guess_encoding(prefix, at_eof=True) == encoding


# -- memory --------------------------------------------------------------------------------------------
def _peak_reading(path: Path, fmt: str, kind: Any) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        count = 0
        for _ in FileReader(lambda: path.open("rb"), fmt, kind).rows():
            count += 1
        return tracemalloc.get_traced_memory()[1] if count else 0
    finally:
        tracemalloc.stop()


def _write(path: Path, fmt: str, n: int) -> None:
    rows = [
        {
            "loan_id": f"L-{i:06d}",
            "first_name": "Camille",
            "phone_number": "06 12 34 56 78",
            "loan_amount": "1200",
        }
        for i in range(n)
    ]
    if fmt == "csv":
        path.write_bytes(csv_bytes([list(rows[0])] + [list(r.values()) for r in rows], ";"))
    elif fmt == "json":
        path.write_text(json.dumps({"campaignId": "c", "records": rows}))
    else:
        path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_reading_memory_does_not_grow_with_the_file(tmp_path: Path, fmt: str) -> None:
    small, large = tmp_path / f"small.{fmt}", tmp_path / f"large.{fmt}"
    _write(small, fmt, 2_000)
    _write(large, fmt, 50_000)
    assert large.stat().st_size > 20 * small.stat().st_size
    peak_small = _peak_reading(small, fmt, LOANS)
    peak_large = _peak_reading(large, fmt, LOANS)
    # Same peak give or take the read windows, while the file is 25 times larger (~4 MB).
    assert peak_large < peak_small * 1.5 + 256 * 1024, (peak_small, peak_large)
    assert peak_large < large.stat().st_size / 2


def test_empty_cells_after_the_header_are_not_columns_but_a_huge_header_fails() -> None:
    survey, rows = read(csv_bytes([[*HEADER, "", "", ""], [*ROW, "", "", ""]]))
    assert survey.columns == HEADER and rows[0].record == EXPECTED and rows[0].reject is None
    wide = [*HEADER, *[f"extra {i}" for i in range(1000)]]
    assert "at most 1,000 columns" in failure(csv_bytes([wide, ROW]))


def test_a_workbook_too_large_to_hold_in_memory_is_refused_before_it_is_read(monkeypatch: Any) -> None:
    data = xlsx_bytes([["loan_id", "first_name"], *[[f"L-{i:05d}", "Camille"] for i in range(500)]])
    monkeypatch.setattr(readers, "MAX_XLSX_XML_BYTES", 8 * 1024)
    message = failure(data, "xlsx")
    assert "the workbook is too large to read" in message and "save it as CSV" in message
    monkeypatch.setattr(readers, "MAX_XLSX_XML_BYTES", 1024 * 1024)
    assert len(_cells(data)) == 501


def test_a_zip_bomb_is_refused_from_its_declared_size() -> None:
    small = xlsx_bytes([["firstname"], ["Léa"]])
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(small)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bomb,
    ):
        for info in source.infolist():
            part = source.read(info.filename)
            if info.filename != "xl/worksheets/sheet1.xml":
                bomb.writestr(info.filename, part)
                continue
            head, tail = part.split(b"<sheetData>")
            with bomb.open(info.filename, "w", force_zip64=True) as sheet:
                sheet.write(head)
                blank = b" " * (1024 * 1024)
                for _ in range(readers.MAX_XLSX_XML_BYTES // len(blank) + 1):
                    sheet.write(blank)  # white space between elements: valid XML, 513 MiB of it
                sheet.write(b"<sheetData>" + tail)
    assert out.tell() < 2 * 1024 * 1024
    assert "the workbook is too large to read: 513 MiB" in failure(out.getvalue(), "xlsx")
