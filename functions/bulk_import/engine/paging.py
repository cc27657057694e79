"""Pages of an import's per-row results: what a job view answers per poll, and its opaque cursors.

A job view answers its counts and status for the whole import and its per-row part one page at a time. A
poll without ``limit`` gets every row of the request (10,000 at most) while they fit ``PAGE_BYTES``: a
page ends at ``limit`` rows or once its rows reach ``PAGE_BYTES`` serialized, whichever comes first
(always at least one row). With results of at most 400 KB each (a DynamoDB item), a page stays under
Lambda's 6 MB response limit, however long its errors are; ``nextCursor`` then leads to the rest.

A cursor names the last row of the page before, sealed with a digest of that position and of the tenant
and import it belongs to (``seal_cursor``): a cursor of another import or tenant, one whose position was
edited, or a string this API never returned, answers 400.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bulk_import.core.errors import InvalidRequestError, NotFoundError

if TYPE_CHECKING:
    # For the annotations: the cursors (all the record store's readers need) load no model or kind.
    from bulk_import.core.model import ImportJob
    from bulk_import.core.ports import Deps, ImportRepository
    from bulk_import.core.tenants import Principal

#: Rows per page when the caller gives no ``limit``, and the most a caller may ask for: every row of the
#: largest request.
DEFAULT_PAGE_ROWS = 10_000
MAX_PAGE_ROWS = 10_000
#: Serialized bytes of a page's rows after which the page ends (the next row starts the next page): under
#: Lambda's 6 MB answer with the view around them and one more row of up to 400 KB.
PAGE_BYTES = 4_000_000

_BAD_CURSOR = "cursor: not a cursor of this import (pass nextCursor from this import's previous page)"


@dataclass(frozen=True)
class Page:
    """One page of results, and the cursor of the next one (None on the last page)."""

    results: list[dict[str, Any]]
    next_cursor: str | None


#: The longest cursor any page's ``nextCursor`` can be; a longer string is refused unread.
MAX_CURSOR_CHARS = 1000


def _seal(scope: tuple[str, ...], position: str) -> str:
    text = "\0".join((*scope, position))
    return hashlib.blake2b(text.encode(), digest_size=12, person=b"bulk-import-cur").hexdigest()


def seal_cursor(scope: tuple[str, ...], position: Any) -> str:
    """An opaque cursor carrying ``position`` (any JSON value), good for ``scope`` only.

    ``scope`` names what the cursor pages through (a purpose, the tenant, the import). The digest covers
    the scope and the position, so a cursor used for another scope, or one whose position was edited, is
    refused by ``open_cursor``. It is a check against mistakes and tampering, not a secret: a position,
    even a forged one, only ever reads within the caller's own tenant.
    """
    body = json.dumps(position, separators=(",", ":"), ensure_ascii=True)
    raw = json.dumps({"p": position, "s": _seal(scope, body)}, separators=(",", ":"), ensure_ascii=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def open_cursor(scope: tuple[str, ...], cursor: str) -> Any:
    """The position a cursor of ``seal_cursor`` for this same ``scope`` carries.

    Raises
    ------
    ValueError
        Not such a cursor: not one this API made, made for another scope, edited, or too long.
    """
    if not isinstance(cursor, str) or not 0 < len(cursor) <= MAX_CURSOR_CHARS:
        raise ValueError("not a cursor")
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        position, seal = data["p"], data["s"]
    except (ValueError, KeyError, TypeError, IndexError):
        raise ValueError("not a cursor") from None
    body = json.dumps(position, separators=(",", ":"), ensure_ascii=True)
    if not isinstance(seal, str) or not hmac.compare_digest(seal, _seal(scope, body)):
        raise ValueError("not a cursor")
    # The base64 alphabet reads a few strings the same (padding bits): only the form it wrote is one.
    if seal_cursor(scope, position) != cursor:
        raise ValueError("not a cursor")
    return position


def encode_cursor(tenant_id: str, import_id: str, after: int) -> str:
    """The opaque cursor of the page that starts after row ``after`` of this import."""
    return seal_cursor(("results", tenant_id, import_id), after)


def decode_cursor(tenant_id: str, import_id: str, cursor: str) -> int:
    """The row a cursor of this import continues after.

    Raises
    ------
    InvalidRequestError
        Not a cursor this API returned for this tenant's import.
    """
    try:
        after = open_cursor(("results", tenant_id, import_id), cursor)
    except ValueError:
        raise InvalidRequestError(_BAD_CURSOR) from None
    if type(after) is not int or after < 0:
        raise InvalidRequestError(_BAD_CURSOR)
    return after


def page_limit(limit: Any) -> int:
    """The rows per page a caller asked for (``DEFAULT_PAGE_ROWS`` when not given).

    Raises
    ------
    InvalidRequestError
        Not a whole number from 1 to ``MAX_PAGE_ROWS``.
    """
    if limit is None or limit == "":
        return DEFAULT_PAGE_ROWS
    value = 0
    if isinstance(limit, int) and not isinstance(limit, bool):
        value = limit
    elif isinstance(limit, str) and limit.strip().isascii() and limit.strip().isdigit() and len(limit) <= 10:
        value = int(limit)
    if not 1 <= value <= MAX_PAGE_ROWS:
        raise InvalidRequestError(f"limit: must be a whole number from 1 to {MAX_PAGE_ROWS}")
    return value


def read_page(
    imports: ImportRepository, tenant_id: str, import_id: str, limit: Any = None, cursor: str | None = None
) -> Page:
    """One page of an import's per-row results, in row order, cut by rows and by bytes."""
    rows_wanted = page_limit(limit)
    after = decode_cursor(tenant_id, import_id, cursor) if cursor else None
    found = imports.list_results_page(tenant_id, import_id, rows_wanted, after)
    results, cut = _cut([result for _, result in found.rows])
    last = found.rows[len(results) - 1][0] if results else after
    more = found.more or cut
    next_cursor = encode_cursor(tenant_id, import_id, last) if more and last is not None else None
    return Page(results, next_cursor)


def _cut(results: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
    """The results that fit one page's bytes (always at least one), and whether some were cut."""
    size = 0
    for count, result in enumerate(results):
        size += len(json.dumps(result, default=str, separators=(",", ":")).encode())
        if count and size > PAGE_BYTES:
            return results[:count], True
    return results, False


def first_page(results: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], bool]:
    """The first page of results computed in memory (a dry run's), and whether more rows follow."""
    page, cut = _cut(results[:DEFAULT_PAGE_ROWS])
    return page, cut or len(results) > len(page)


def job_view(
    deps: Deps,
    principal: Principal,
    kind_name: str,
    job_id: str,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> dict[str, Any]:
    """An async import in its kind's own shape with one page of its rows' results (404: other kind/tenant).

    ``limit`` and ``cursor`` (from the query string) select the page (``read_page``): without
    them, the first page. The view's counts and status are the whole import's; ``nextCursor`` is the
    cursor of the next page, None on the last one.

    Raises
    ------
    NotFoundError
        No such import of this kind for the caller's tenant.
    InvalidRequestError
        A ``limit`` out of range, or a cursor that is not one of this import's.
    """
    job = deps.imports.get(principal.tenant_id, job_id)
    if job is None or job.kind != kind_name:
        raise NotFoundError(f"job {job_id} not found")
    from bulk_import.kinds import get_kind

    kind = get_kind(kind_name)
    page = read_page(deps.imports, principal.tenant_id, job_id, limit, cursor)
    view = kind.job_view(job, page.results)
    _whole_import_counts(deps, job, view)
    view["nextCursor"] = page.next_cursor
    return view


def _whole_import_counts(deps: Deps, job: ImportJob, view: dict[str, Any]) -> None:
    # A view that tallies its counts by result status (customers: created, updated, failed) saw one page
    # only; its counts are those of every stored result.
    counts = view.get("counts")
    if not isinstance(counts, dict) or not {"created", "updated", "failed", "pending"} <= set(counts):
        return
    tally = deps.imports.count_results(job.tenant_id, job.import_id)
    created, updated = tally.get("created", 0), tally.get("updated", 0)
    stored = sum(tally.values())
    counts.update(
        created=created,
        updated=updated,
        failed=stored - created - updated,
        pending=max(0, job.counts.total - stored - int(counts.get("cancelled", 0))),
    )
