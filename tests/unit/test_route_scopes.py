"""The scope a write needs, read from its path and body before the body is validated."""

from __future__ import annotations

from typing import Any

import pytest

from bulk_import.entrypoints.routes import route_scope, write_scope


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


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("POST", "/external-api/v1/debts/batch", "debts:write"),
        ("GET", "/v1/imports", "imports:read"),
        ("GET", "/v1/imports/<importId>/errors", "imports:read"),
        ("GET", "/customers/batch/<job_id>", "imports:read"),
        ("GET", "/payments/payments/import/<job_id>", "imports:read"),
        ("GET", "/api/v1/campaigns", None),
        ("GET", "/v1/webhooks", None),
        ("PUT", "/v1/webhooks", "webhooks:write"),
        ("DELETE", "/v1/webhooks", "webhooks:write"),
        ("POST", "/v1/imports/<importId>/retry", None),  # the import's kind decides: the route checks it
    ],
)
def test_the_scope_of_a_request_is_known_before_its_body_or_query_is_validated(
    method: str, path: str, scope: str | None
) -> None:
    assert route_scope(method, path, {}) == scope  # the rule of the route the request matched
