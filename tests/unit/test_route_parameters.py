"""Query parameters a route does not take: a write refuses them, a read ignores them."""

from __future__ import annotations

import json
from typing import Annotated, Any

import pytest

from bulk_import.entrypoints.http_types import ProxyEvent, Query, RequestValidationError
from bulk_import.entrypoints.router import Route


def _route(method: str) -> Route:
    def handler(dryRun: Annotated[str | None, Query()] = None) -> Any:  # noqa: N803
        return {}

    return Route(method, "/x", handler, {})


def _event(query: dict[str, str]) -> ProxyEvent:
    return ProxyEvent({"httpMethod": "POST", "path": "/x", "queryStringParameters": query}, json.loads)


def test_a_write_refuses_a_misspelt_parameter_naming_the_one_it_takes() -> None:
    with pytest.raises(RequestValidationError) as raised:
        _route("POST").arguments(_event({"dryrun": "true"}), {})
    (error,) = raised.value.errors()
    assert error["loc"] == ("query", "dryrun")
    assert "it takes dryRun" in error["msg"]


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_every_write_method_refuses_a_parameter_it_does_not_take(method: str) -> None:
    with pytest.raises(RequestValidationError):
        _route(method).arguments(_event({"force": "true"}), {})


def test_a_write_takes_the_parameters_it_declares() -> None:
    assert _route("POST").arguments(_event({"dryRun": "true"}), {}) == {"dryRun": "true"}


def test_a_read_ignores_a_parameter_it_does_not_take() -> None:
    # Browsers and proxies add cache-busting parameters to reads.
    assert _route("GET").arguments(_event({"_": "1733000000"}), {}) == {"dryRun": None}
