"""Files as spreadsheets and editors leave them: encodings mixed within the first rows, quotes left open.

A CSV file whose first rows are UTF-8 and a later row Windows-1252 (two exports pasted together)
used to be read whole as Windows-1252 when the bad byte came early: every UTF-8 letter before it was
stored garbled (``Zoé`` as ``ZoÃ©``). Such a file fails, saying why, as it does when the bad byte
comes later in the file. So does a CSV quote that is never closed, which used to make every later
line one value of its row. JSON files read numbers as the API reads them, never as floats.
"""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import Workbook

from bulk_import.engine.files.errors import FileFormatError
from bulk_import.engine.files.rows import FileReader
from bulk_import.kinds import get_kind

DEBTS = get_kind("debts")
HEADER = "firstname;lastname;amount;currency;phone\r\n"


def survey_and_rows(data: bytes) -> tuple[Any, list[Any]]:
    reader = FileReader(lambda: io.BytesIO(data), "csv", DEBTS)
    survey = reader.survey()
    again = FileReader(lambda: io.BytesIO(data), "csv", DEBTS, encoding=survey.encoding, delimiter=";")
    return survey, [row.record for row in again.rows()]


@pytest.mark.parametrize("utf8_rows", [1, 200])
def test_utf8_rows_then_a_windows_1252_row_fail_the_file_instead_of_being_garbled(utf8_rows: int) -> None:
    data = (
        HEADER.encode()
        + "Zoé;Faure;10;EUR;0612345678\r\n".encode() * utf8_rows
        + "Hélène;Roux;12;EUR;0612345679\r\n".encode("cp1252")
    )
    with pytest.raises(FileFormatError) as failed:
        FileReader(lambda: io.BytesIO(data), "csv", DEBTS).survey()
    assert "mixes encodings" in failed.value.message, failed.value.message


@pytest.mark.parametrize(
    "names",
    [("Hélène", "Roux"), ("JOÃO", "SILVA"), ("Zoë", "Œuvre"), ("Renée", "Noël – “dit” Léo")],
)
def test_a_file_all_in_windows_1252_is_still_read_as_such(names: tuple[str, str]) -> None:
    first, last = names
    data = (HEADER + f"Jean;Martin;10;EUR;0612345678\r\n{first};{last};12;EUR;0612345679\r\n").encode(
        "cp1252"
    )
    survey, rows = survey_and_rows(data)
    assert survey.encoding == "cp1252"
    assert (rows[1]["firstname"], rows[1]["lastname"]) == (first, last)


def test_a_file_all_in_utf8_is_read_as_utf8() -> None:
    data = (HEADER + "Zoé;Faure;10;EUR;0612345678\r\nالعربية;中文;12;EUR;0612345679\r\n").encode()
    survey, rows = survey_and_rows(data)
    assert survey.encoding == "utf-8" and rows[1]["firstname"] == "العربية"


def test_a_quote_never_closed_fails_the_file_instead_of_swallowing_the_rows_after_it() -> None:
    # Before, the rest of the file became one value of row 0: the valid rows after it were never imported.
    data = (HEADER + '"Zoé;Faure;10;EUR;0612345678\r\nJean;Martin;12;EUR;0612345679\r\n').encode()
    with pytest.raises(FileFormatError) as failed:
        survey_and_rows(data)
    assert failed.value.message.startswith("line 2: a quote opened on this line is never closed")


@pytest.mark.parametrize(
    "text",
    [
        'Zoé;"Faure\r\nde la Tour";10;EUR;0612345678\r\n',
        'Zoé;Faure;10;EUR;"06 12\r\n34 56 78"',
        'Zoé;Faure;10;EUR;"06 12\r\n34 56 78"\r\n\r\n',
        "Zoé;Faure 5'6\";10;EUR;0612345678\r\n",
    ],
)
def test_quoted_line_breaks_and_stray_quotes_still_read_as_values(text: str) -> None:
    _, rows = survey_and_rows((HEADER + text).encode())
    assert rows[0]["firstname"] == "Zoé" and rows[0]["currency"] == "EUR"


METADATA_ROW = (
    '{"id": "c-%d", "taskType": "collections", "firstName": "Ada", "lastName": "B",'
    ' "phoneNumber": "4155550100",'
    ' "timezone": "America/New_York", "streetAddress1": "1 Main St", "city": "Boston", "state": "MA",'
    ' "zipCode": "02134", "externalMetadata": {"n": %s}}'
)


def file_rows(fmt: str, numbers: list[str]) -> list[Any]:
    rows = [METADATA_ROW % (i, n) for i, n in enumerate(numbers)]
    text = "[" + ", ".join(rows) + "]" if fmt == "json" else "\n".join(rows)
    reader = FileReader(lambda: io.BytesIO(text.encode()), fmt, get_kind("customers"))
    reader.survey()
    return [row.record["externalMetadata"]["n"] for row in reader.rows()]


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_numbers_of_a_json_file_are_read_as_the_api_reads_them(fmt: str) -> None:
    # Read as floats, 20 digits were rounded and 1e400 became infinity; a 5,000-digit integer failed the
    # whole file ("could not be imported (ValueError)") instead of its row.
    read = file_rows(fmt, ["12345678901234567890.125", "1e400", "1" + "0" * 5000, "7"])
    assert read[0] == Decimal("12345678901234567890.125") and isinstance(read[0], Decimal)
    assert read[1] == Decimal("1e400")
    assert read[2] == 10**5000 and isinstance(read[2], Decimal)
    assert read[3] == 7 and isinstance(read[3], int)


def test_a_json_cell_of_a_csv_file_keeps_its_decimals() -> None:
    data = (
        b"id,taskType,firstName,lastName,phoneNumber,timezone,streetAddress1,city,state,zipCode,"
        b"externalMetadata\n"
        b'c-1,collections,A,B,4155550100,America/New_York,1,Boston,MA,02134,"{""n"": 1234567890123456.125}"\n'
    )
    reader = FileReader(lambda: io.BytesIO(data), "csv", get_kind("customers"))
    reader.survey()
    (row,) = reader.rows()
    assert row.record["externalMetadata"] == {"n": Decimal("1234567890123456.125")}


@pytest.mark.parametrize(
    "header",
    [
        "First Name;Last Name;Amount (€);Currency;Phone #",
        "Prénom;Nom;Montant [EUR];Devise;Téléphone :",
        "firstname;lastname;Amount(EUR);currency;Tél.",
    ],
)
def test_a_header_with_units_and_signs_after_its_names_still_names_the_fields(header: str) -> None:
    survey, rows = survey_and_rows((header + "\r\nZoé;Faure;10;EUR;0612345678\r\n").encode())
    assert not survey.unknown_columns, survey.unknown_columns
    assert rows[0]["amount"] == "10" and rows[0]["phone"] == "0612345678"


DUPLICATED = (
    '{"firstname": "Zoé", "lastname": "Faure", "amount": 10, "amount": 1000, "currency": "EUR",'
    ' "phone": "0612345678"}'
)
UNIQUE = '{"firstname": "Jean", "lastname": "Roux", "amount": 10, "currency": "EUR", "phone": "0612345679"}'


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_a_json_row_naming_a_field_twice_fails_alone_instead_of_keeping_the_last_value(fmt: str) -> None:
    text = f"[{DUPLICATED}, {UNIQUE}]" if fmt == "json" else f"{DUPLICATED}\n{UNIQUE}\n"
    reader = FileReader(lambda: io.BytesIO(text.encode()), fmt, DEBTS)
    reader.survey()
    first, second = reader.rows()
    assert first.reject is not None and first.reject.startswith("row: 'amount' is given twice"), first.reject
    assert second.reject is None and second.record["amount"] == 10


def test_a_key_given_twice_inside_a_nested_object_names_its_path() -> None:
    row = METADATA_ROW.replace('{"n": %s}', '{"n": 1, "n": 2}') % 0
    reader = FileReader(lambda: io.BytesIO(row.encode()), "jsonl", get_kind("customers"))
    reader.survey()
    (only,) = reader.rows()
    assert only.reject is not None and only.reject.startswith("row: 'externalMetadata.n' is given twice")


def test_a_tiny_number_in_a_workbook_cell_reads_as_a_decimal_not_in_exponent_notation() -> None:
    # Written as repr() gives it (1e-07), the amount failed as "must be a number" rather than on its value.
    workbook = Workbook()
    workbook.active.append(["firstname", "lastname", "amount", "currency", "phone"])
    workbook.active.append(["Zoé", "Faure", 1e-07, "EUR", "0612345678"])
    workbook.active.append(["Jean", "Roux", 1.5e-5, "EUR", "0612345679"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    reader = FileReader(lambda: io.BytesIO(buffer.getvalue()), "xlsx", DEBTS)
    reader.survey()
    assert [row.record["amount"] for row in reader.rows()] == ["0.0000001", "0.000015"]


def test_windows_1252_bytes_that_happen_to_be_utf8_before_a_bad_byte_are_still_windows_1252() -> None:
    # "É£" is the valid UTF-8 of "ɣ", a letter no Western export holds: the file is Windows-1252 all along.
    data = (HEADER + "É£;Faure;10;EUR;0612345678\r\nHélène;Roux;12;EUR;0612345679\r\n").encode("cp1252")
    survey, rows = survey_and_rows(data)
    assert survey.encoding == "cp1252" and rows[0]["firstname"] == "É£"
