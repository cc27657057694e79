"""The media types and charsets real clients declare on a JSON body: those whose bytes are UTF-8 are read,
any other is a 415 naming what was declared."""

from __future__ import annotations

import pytest

from bulk_import.entrypoints.boundary import RequestRejectedError, check_media_type


@pytest.mark.parametrize(
    "declared",
    [
        "application/json",
        "application/json; charset=utf-8",
        "Application/JSON;charset=UTF8",
        'application/json; charset="utf-8"',
        # ASCII text is UTF-8 as it is: clients that declare it send bytes any UTF-8 reader takes.
        "application/json; charset=us-ascii",
        "application/json; charset=ASCII",
    ],
)
def test_a_json_body_declared_in_a_charset_whose_text_is_utf_8_is_read(declared: str) -> None:
    check_media_type(declared)


@pytest.mark.parametrize(
    ("declared", "named"),
    [
        ("application/json; charset=iso-8859-1", "iso-8859-1"),
        ("application/json; charset=utf-16", "utf-16"),
        ("text/plain", "text/plain"),
        ("application/x-www-form-urlencoded", "application/x-www-form-urlencoded"),
    ],
)
def test_another_media_type_or_charset_is_415_naming_it(declared: str, named: str) -> None:
    with pytest.raises(RequestRejectedError) as refused:
        check_media_type(declared)
    assert refused.value.status == 415 and named in refused.value.message
