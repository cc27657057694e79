"""E-mail address syntax."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.rules import RuleError, normalize_email


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("jane.doe@example.com", "jane.doe@example.com"),
        ("  Jane.Doe@Example.COM ", "Jane.Doe@example.com"),  # domain lower-cased, local part kept
        ("j+tag@sub.example.co.uk", "j+tag@sub.example.co.uk"),
        ("o'brien@example.ie", "o'brien@example.ie"),
        ("user_name-1@my-domain.fr", "user_name-1@my-domain.fr"),
        ("x@example.museum", "x@example.museum"),
        ("a@b.io", "a@b.io"),
        ("user@xn--80ak6aa92e.xn--p1ai", "user@xn--80ak6aa92e.xn--p1ai"),  # punycode IDN
    ],
)
def test_accepts_addresses(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "plainaddress",
        "jane@",
        "@example.com",
        "jane@@example.com",
        "jane@doe@example.com",
        "jane doe@example.com",
        "jane@exam ple.com",
        "jane@example",  # no TLD
        "jane@example.c",  # TLD of one letter
        "jane@example.c0m",  # digits in TLD
        "jane.@example.com",
        ".jane@example.com",
        "ja..ne@example.com",
        "jane@-example.com",
        "jane@example-.com",
        "jane@example..com",
        "jane@.example.com",
        "jane@example.com.",
        "jané@example.com",  # non-ASCII
        "jane@exämple.com",
        "jane,doe@example.com",
        "<jane@example.com>",
        "Jane <jane@example.com>",
        "mailto:jane@example.com",
        "a" * 65 + "@example.com",  # local part over 64
        "a@" + "b" * 250 + ".com",  # over 254 in total
        "jane@" + "a" * 64 + ".com",  # label over 63
    ],
)
def test_rejects_invalid(raw: str) -> None:
    with pytest.raises(RuleError) as excinfo:
        normalize_email(raw)
    assert str(excinfo.value) == "not a valid email address"


@given(
    local=st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9_+-]{1,8}){0,2}", fullmatch=True),
    domain=st.from_regex(r"[A-Za-z0-9]{1,10}(\.[A-Za-z0-9]{1,10}){0,2}\.[A-Za-z]{2,6}", fullmatch=True),
)
def test_well_formed_addresses_pass_with_lower_case_domain(local: str, domain: str) -> None:
    assert normalize_email(f"{local}@{domain}") == f"{local}@{domain.lower()}"


def test_pathological_input_is_rejected() -> None:
    # Inputs built to make a backtracking regex explode; a user pasting a huge cell must not stall a batch
    # (a catastrophic regex would hang here; ``make bench`` measures the normal cost).
    attacks = ["a" * 5000 + "@", "a@" + "a." * 120 + "-", "a@" + "a-" * 60 + "!", "a." * 32 + "@a"]
    for attack in attacks:
        with pytest.raises(RuleError):
            normalize_email(attack)
