"""The scope a write needs, read from its path and body before the body is validated."""

from __future__ import annotations

from typing import Any

import pytest

from bulk_import.entrypoints.routes import write_scope


@pytest.mark.parametrize(
    ("path", "document", "scope"),
    [
        ("/api/v1/campaigns", {}, "campaigns:write"),
        ("/external-api/v1/debts/batch", {"debts": []}, "debts:write"),
        ("/v1/imports/uploads", {"kind": "payments"}, "payments:write"),
        ("/v1/imports/uploads", {"kind": "nope"}, None),
        ("/v1/imports/uploads", {"kind": {}}, None),
        ("/v1/imports/uploads", {"kind": ["debts"]}, None),
        ("/v1/imports/uploads", ["debts"], None),
    ],
)
def test_a_write_s_scope_comes_from_its_route_or_the_kind_it_names_as_text(
    path: str, document: Any, scope: str | None
) -> None:
    assert write_scope(path, document) == scope
