"""Keys of dropped files as people and tools name their folders: the kind's folder in another case is
that kind; a folder naming no kind stays as written, for the import's reason to quote."""

from __future__ import annotations

import pytest

from bulk_import.engine.files.options import parse_key


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("incoming/acme/debts/relances.csv", "debts"),
        ("incoming/acme/Debts/relances.csv", "debts"),
        ("incoming/acme/Campaign-Customers/loans.csv", "campaign-customers"),
        ("incoming/acme/PAYMENTS/sub/dir/p.json", "payments"),
        ("incoming/acme/widgets/w.csv", "widgets"),
    ],
)
def test_the_kind_folder_of_a_dropped_file_is_read_in_any_case(key: str, kind: str) -> None:
    assert parse_key(key).kind == kind


def test_the_tenant_and_the_file_name_keep_their_case() -> None:
    parts = parse_key("incoming/Acme/Debts/Relances Juillet.csv")
    assert (parts.tenant_id, parts.name) == ("Acme", "Relances Juillet.csv")
