"""The command line explains itself: every command and option says what it does and its default."""

from __future__ import annotations

import argparse
import io
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.cli import build_parser, main
from bulk_import.cli_http import CommandError
from bulk_import.cli_import import parse_options
from bulk_import.cli_output import Reporter
from bulk_import.cli_text import counts_line, failed_rows, more_line

#: Markup of docstrings that has no place in a terminal.
REST = re.compile(r"``|:(func|class|meth|mod|ref):|\.\. \w+::")


def commands(
    parser: argparse.ArgumentParser | None = None, prefix: str = ""
) -> dict[str, argparse.ArgumentParser]:
    """Every command and subcommand, by its words (``webhooks listen``)."""
    found: dict[str, argparse.ArgumentParser] = {}
    for action in (parser or build_parser())._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                found[prefix + name] = command
                found.update(commands(command, f"{prefix}{name} "))
    return found


def test_the_main_help_lists_every_command_with_a_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as end:
        main(["--help"])
    out = capsys.readouterr().out
    assert end.value.code == 0
    for name in ("serve", "seed", "validate", "import", "demo"):
        assert re.search(rf"^\s+{name}\s+\w", out, re.M), name
    assert not REST.search(out)


@pytest.mark.parametrize("name", sorted(commands()))
def test_every_command_describes_itself_and_every_option_its_default(name: str) -> None:
    command = commands()[name]
    assert command.description and command.description.rstrip().endswith("."), name
    assert not REST.search(command.format_help())
    for action in command._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        assert action.help, f"{name} {action.dest}: no help"
        assert not REST.search(action.help)
        if action.option_strings:
            assert action.required or "default" in action.help, f"{name} {action.dest}"


@pytest.mark.parametrize(
    "argv",
    [[], ["nope"], ["import"], ["validate", "x.csv"], ["serve", "--port", "http"], ["import", "a", "--kind"]],
)
def test_a_wrong_command_line_is_one_line_and_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as end:
        main(argv)
    err = capsys.readouterr().err
    assert end.value.code == 2
    assert err.count("\n") == 1 and err.startswith("bulk-import") and "--help" in err


@given(
    st.dictionaries(st.sampled_from(["total", "valid", "failed", "skipped", "extra"]), st.integers(0, 10**7))
)
def test_counts_read_as_words_and_numbers_never_as_a_dict(counts: dict[str, int]) -> None:
    line = counts_line(counts)
    assert "{" not in line and "'" not in line
    for name, value in counts.items():
        assert f"{name} {value:,}" in line
    assert line.count(" · ") == max(len(counts) - 1, 0) or not counts


def test_counts_keep_the_usual_order() -> None:
    assert counts_line({"failed": 0, "valid": 3, "total": 3}) == "total 3 · valid 3 · failed 0"


def test_a_cut_list_says_how_many_more() -> None:
    assert more_line(5, 5) is None
    assert more_line(10, 1234, "errors.csv") == "… and 1,224 more (errors.csv)"


def test_errors_of_a_row_are_grouped_with_its_reference() -> None:
    errors = [
        {"index": 3, "loan_id": "L-3", "field": "a", "message": "a: bad"},
        {"index": 3, "loan_id": "L-3", "field": "b", "message": "b: bad"},
        {"index": 5, "field": "c", "message": "c: bad"},
    ]
    assert failed_rows(errors) == [(3, "loan_id=L-3", ["a: bad", "b: bad"]), (5, "", ["c: bad"])]


@given(
    st.text(st.characters(blacklist_characters="=", blacklist_categories=["Cs"]), min_size=1).filter(
        str.strip
    ),
    st.text(st.characters(blacklist_categories=["Cs"])),
)
def test_an_option_value_may_hold_anything_even_an_equals_sign(name: str, value: str) -> None:
    assert parse_options([f"{name}={value}"]) == {name.strip(): value.strip()}


@pytest.mark.parametrize("pair", ["campaign-id", "=camp-loans", " =x"])
def test_an_option_without_a_name_or_a_value_is_refused(pair: str) -> None:
    with pytest.raises(CommandError, match="write NAME=VALUE"):
        parse_options([pair])


def test_output_that_is_not_a_terminal_gets_plain_lines_only() -> None:
    stream = io.StringIO()
    out = Reporter(stream)
    assert not out.terminal
    with out.bar("uploading a.csv", 100, unit="bytes") as moved:
        moved(50, None)
    out.table("failed rows", ["row", "errors"], [("1", "[bold]x[/bold]")])
    assert stream.getvalue() == "uploading a.csv\nfailed rows\n  1  [bold]x[/bold]\n"


def test_a_terminal_gets_a_bar_and_values_shown_as_they_are() -> None:
    stream = io.StringIO()
    out = Reporter(stream, terminal=True)
    with out.bar("importing", 10) as moved:
        moved(10, None)
    out.table("failed rows", ["row", "errors"], [("1", "[bold]x[/bold]")])
    shown = stream.getvalue()
    assert "\x1b[" in shown and "10/10" in shown
    assert "[bold]x[/bold]" in shown  # a value from a file is not read as markup


@pytest.mark.parametrize("terminal", [False, True])
def test_control_characters_from_a_file_never_reach_the_output(terminal: bool) -> None:
    stream = io.StringIO()
    out = Reporter(stream, terminal=terminal)
    out.line("row 3: name: \x1b]0;owned\x07 is not valid")
    out.table("failed rows", ["row", "errors"], [("3", "\x1b[2Jcleared\x9b")])
    shown = stream.getvalue()
    assert "\\x1b]0;owned\\x07" in shown and "\\x1b[2Jcleared\\x9b" in shown
    assert "\x07" not in shown and "\x9b" not in shown and "\x1b]" not in shown and "\x1b[2J" not in shown
