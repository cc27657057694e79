"""What happened to each row of an import, stored a chunk at a time: one item per write, a few when large.

``add_rows`` writes the rows it is given (a chunk, or every row of a synchronous import) as one *block*:
one item whose sort key is ``ROWS#{last:09d}#{part:03d}`` (``last``: the highest row index of the block,
``part``: 0), or a few parts when the block is large. An item holds, for the rows of its part, zlib-compressed
JSON:

* ``res``: ``[[index, result], ...]``, the rows' results (asynchronous imports);
* ``err``: ``[[index, [entry, ...]], ...]``, the error entries of the rows that have some;

and ``tally`` (the results' count per ``status``, read by ``count_results`` without decompressing),
``parts`` (how many items the block was written as), ``w`` (a digest of the block's content) and
``expiresAt``.

Why this layout:

* **One write unit a row is the cost floor.** A result is about 140 bytes and an item is billed by the
  started kilobyte, so one item per row cost a unit per row; 250 results compressed fit in a few KB.
* **Keys by a block's last row** make every read a range Query: the rows from index ``i`` on are in the
  blocks whose last row is ``i`` or more, that is from sort key ``ROWS#{i:09d}`` on, in row order (blocks
  never overlap: chunks hold disjoint rows).
* **Rewriting a block is idempotent.** A chunk delivered again writes the same rows under the same keys.
  A rewrite that takes fewer parts than before leaves the earlier parts behind: readers take the parts of
  a block that carry part 0's ``w`` and number less than its ``parts``, and skip the others.
* **Rows never appear twice.** Readers yield rows in index order and skip a row index already yielded, so a
  block written again with fewer rows (a synchronous import that failed after its errors were written
  records them again) cannot repeat a row.

A part stays under ``MAX_PART_BYTES`` compressed (DynamoDB refuses items over 400 KB) and
``MAX_PLAIN_BYTES`` uncompressed (what a reader inflates at once). A single row too large for one part
keeps the first entries of its lists that fit.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bulk_import.adapters.dynamo_codec import as_text_numbers, clipped, from_item
from bulk_import.adapters.dynamo_import_items import EXPIRES_AT
from bulk_import.adapters.dynamo_keys import import_pk
from bulk_import.adapters.dynamo_paging import decode_error_cursor, encode_error_cursor
from bulk_import.core.errors import TransientError
from bulk_import.core.model import ImportJob, RowOutcome
from bulk_import.core.ports import ErrorPage, ResultPage

#: Sort key prefix of the row blocks of an import.
ROWS_PREFIX = "ROWS#"
#: Compressed bytes of one part (DynamoDB's limit is 400 KB per item, names and keys included).
MAX_PART_BYTES = 350_000
#: Uncompressed bytes of one part: what reading it inflates in memory at once.
MAX_PLAIN_BYTES = 4_000_000
#: Items the first Query of a read asks for; each further Query asks for twice as many, up to the most.
FIRST_QUERY_ITEMS = 2
MOST_QUERY_ITEMS = 64

#: A row as written: its index, its result (None: none given) and its error entries.
_Row = tuple[int, dict[str, Any] | None, list[dict[str, Any]]]


def block_sk(last: int, part: int) -> str:
    """Sort key of part ``part`` of the block whose highest row index is ``last``."""
    return f"{ROWS_PREFIX}{last:09d}#{part:03d}"


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, default=_json_default, allow_nan=False, separators=(",", ":"))
    except ValueError:
        # NaN or Infinity among the caller's references: kept as text, as JSON cannot hold them.
        return json.dumps(as_text_numbers(value), default=_json_default, separators=(",", ":"))


def _loads(data: bytes) -> Any:
    # Decimals, as every other number read from DynamoDB: money never goes through binary floats.
    return json.loads(zlib.decompress(data), parse_float=Decimal)


def _shrunk(value: Any, keep: int) -> Any:
    """``value`` with only the first ``keep`` elements of each list and entries of each mapping."""
    if isinstance(value, dict):
        return {k: _shrunk(v, keep) for k, v in list(value.items())[:keep]}
    if isinstance(value, list):
        return [_shrunk(v, keep) for v in value[:keep]]
    return value


class _Part:
    """The rows of one part, serialized once; compressed on demand."""

    def __init__(self, rows: list[_Row], fragments: list[tuple[str | None, str | None]]) -> None:
        self.rows = rows
        self.fragments = fragments
        self.res = [r for r, _ in fragments if r is not None]
        self.err = [e for _, e in fragments if e is not None]
        self.plain = sum(len(f) + 1 for f in self.res + self.err)
        self.blobs = {
            name: zlib.compress(f"[{','.join(frags)}]".encode())
            for name, frags in (("res", self.res), ("err", self.err))
            if frags
        }
        self.size = sum(len(b) for b in self.blobs.values())

    def fits(self) -> bool:
        return self.size <= MAX_PART_BYTES and self.plain <= MAX_PLAIN_BYTES

    def halves(self) -> list[_Part]:
        half = len(self.rows) // 2
        return [
            _Part(self.rows[:half], self.fragments[:half]),
            _Part(self.rows[half:], self.fragments[half:]),
        ]


def _fragments(row: _Row) -> tuple[str | None, str | None]:
    index, result, entries = row
    return (
        _dumps([index, result]) if result is not None else None,
        _dumps([index, entries]) if entries else None,
    )


def _fitted(row: _Row) -> _Part:
    """A part of one row, its lists cut to their first elements until it fits."""
    part = _Part([row], [_fragments(row)])
    keep = 1024
    while not part.fits() and keep >= 1:
        index, result, entries = row
        cut: _Row = (index, _shrunk(result, keep), _shrunk(entries, keep))
        part = _Part([cut], [_fragments(cut)])
        keep //= 2
    return part


def _split(part: _Part) -> list[_Part]:
    if part.fits():
        return [part]
    if len(part.rows) == 1:
        return [_fitted(part.rows[0])]
    return [p for half in part.halves() for p in _split(half)]


def _tally(rows: Sequence[_Row]) -> dict[str, dict[str, str]]:
    counts: dict[str, int] = {}
    for _, result, _ in rows:
        if result is not None:
            status = str(result.get("status"))
            counts[status] = counts.get(status, 0) + 1
    return {status: {"N": str(n)} for status, n in counts.items()}


def block_items(
    pk: str,
    outcomes: Sequence[RowOutcome],
    results: Sequence[dict[str, Any]] | None,
    expires_at: int,
) -> list[dict[str, Any]]:
    """The items (DynamoDB JSON) of one block: the rows of ``outcomes``, with ``results`` (by position).

    Texts are clipped as every value the service writes about a row (``clipped``). No item for rows
    that have neither a result nor an error.
    """
    given = list(results or ())
    rows: list[_Row] = []
    for n, o in enumerate(outcomes):
        result = clipped(given[n]) if n < len(given) else None
        entries = [clipped(e) for e in o.error_entries()]
        if result is not None or entries:
            rows.append((o.index, result, entries))
    if not rows:
        return []
    rows.sort(key=lambda r: r[0])
    last = max(o.index for o in outcomes)
    parts = _split(_Part(rows, [_fragments(r) for r in rows]))
    digest = hashlib.blake2b(digest_size=6)
    for p in parts:
        for blob in p.blobs.values():
            digest.update(blob)
    token = digest.hexdigest()
    items = []
    for number, p in enumerate(parts):
        item: dict[str, Any] = {
            "pk": {"S": pk},
            "sk": {"S": block_sk(last, number)},
            "parts": {"N": str(len(parts))},
            "w": {"S": token},
            EXPIRES_AT: {"N": str(expires_at)},
            **{name: {"B": blob} for name, blob in p.blobs.items()},
        }
        tally = _tally(p.rows)
        if tally:
            item["tally"] = {"M": tally}
        items.append(item)
    return items


def _current_parts(client: Any, table: str, pk: str, first: int, attribute: str) -> Iterator[dict[str, Any]]:
    """The parts of the blocks holding rows from ``first`` on, in key order, leftovers skipped.

    Only the key, ``parts``, ``w`` and ``attribute`` are read back. Queries start small and grow, so a
    page of a few rows reads a few items, and a whole import reads every item in few calls.
    """
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
        "ExpressionAttributeValues": {
            ":pk": {"S": pk},
            ":lo": {"S": f"{ROWS_PREFIX}{max(first, 0):09d}"},
            ":hi": {"S": f"{ROWS_PREFIX}~"},
        },
        "ProjectionExpression": "#sk, #parts, #w, #a",
        "ExpressionAttributeNames": {"#sk": "sk", "#parts": "parts", "#w": "w", "#a": attribute},
    }

    def pages() -> Iterator[dict[str, Any]]:
        limit = FIRST_QUERY_ITEMS
        while True:
            kwargs["Limit"] = limit
            resp = client.query(**kwargs)
            yield from resp.get("Items", [])
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
            limit = min(limit * 2, MOST_QUERY_ITEMS)

    yield from current_parts(pages(), lambda sk: sk.removeprefix(ROWS_PREFIX).partition("#")[::2])


def current_parts(
    items: Iterable[dict[str, Any]], name_of: Callable[[str], tuple[str, str]]
) -> Iterator[dict[str, Any]]:
    """The current parts among ``items`` (in key order) of packed values written as numbered parts.

    ``name_of`` splits a sort key into the value's name and its part number (``"000"``…). A value written
    again in fewer parts leaves its old parts behind: those whose digest (``w``) is not part 0's, or
    whose number is past its ``parts``, are skipped.
    """
    name: str | None = None
    token: str | None = None
    parts = 0
    for item in items:
        current, number = name_of(item["sk"]["S"])
        if current != name:
            name = current
            # Without its part 0 (being written), a value's parts are taken as they are.
            token = item["w"]["S"] if number == "000" else None
            parts = int(item["parts"]["N"])
        if token is not None and (item["w"]["S"] != token or int(number) >= parts):
            continue
        yield item


def _rows(client: Any, table: str, pk: str, first: int, attribute: str) -> Iterator[tuple[int, Any]]:
    """``(row index, value)`` of ``attribute`` (``res`` or ``err``) from row ``first`` on, in row order,
    each row once."""
    position = first - 1
    for item in _current_parts(client, table, pk, first, attribute):
        blob = item.get(attribute, {}).get("B")
        if blob is None:
            continue
        for index, value in _loads(blob):
            if index > position:
                position = index
                yield index, value


class ImportRowResults:
    """The per-row part of ``ImportRepository``: results and error entries, a block per write.

    Mixed into the imports repository, whose ``client``, ``table``, ``writer`` and ``expiry`` it uses.
    """

    client: Any
    table: str
    writer: Any
    expiry: Any

    def add_rows(
        self, job: ImportJob, outcomes: Sequence[RowOutcome], results: Sequence[dict[str, Any]] | None = None
    ) -> None:
        """See ``ImportRepository.add_rows``: the rows as one block (a few items when large)."""
        if not outcomes:
            return
        pk = import_pk(job.tenant_id, job.import_id)
        items = block_items(pk, outcomes, results, self.expiry.for_job(job))
        failed = self.writer.put(self.table, items)
        if failed:
            # The records themselves are stored; losing what happened to their rows must not go unnoticed.
            message = f"{len(failed)} row items of import {job.import_id} not stored: {failed[0].reason}"
            if all(not u.permanent for u in failed):
                raise TransientError(message)
            raise RuntimeError(message)

    def list_results(self, tenant_id: str, import_id: str) -> list[dict[str, Any]]:
        """See ``ImportRepository.list_results``."""
        pk = import_pk(tenant_id, import_id)
        return [result for _, result in _rows(self.client, self.table, pk, 0, "res")]

    def list_results_page(
        self, tenant_id: str, import_id: str, limit: int, after: int | None = None
    ) -> ResultPage:
        """See ``ImportRepository.list_results_page``: the blocks from the row after ``after`` on, read
        until one row more than ``limit`` is found (so the last page says it is the last)."""
        first = 0 if after is None else after + 1
        rows: list[tuple[int, dict[str, Any]]] = []
        for row in _rows(self.client, self.table, import_pk(tenant_id, import_id), first, "res"):
            rows.append(row)
            if len(rows) > limit:
                break
        return ResultPage(rows=rows[:limit], more=len(rows) > limit)

    def count_results(self, tenant_id: str, import_id: str) -> dict[str, int]:
        """See ``ImportRepository.count_results``: the blocks' tallies, nothing decompressed."""
        tally: dict[str, int] = {}
        pk = import_pk(tenant_id, import_id)
        for item in _current_parts(self.client, self.table, pk, 0, "tally"):
            for status, n in from_item(item).get("tally", {}).items():
                tally[status] = tally.get(status, 0) + int(n)
        return tally

    def list_errors(self, tenant_id: str, import_id: str, limit: int, cursor: str | None) -> ErrorPage:
        """See ``ImportRepository.list_errors``: entries in row order, then in the order of the row's
        errors; the cursor names the last entry of the page before, bound to this tenant's import."""
        after = decode_error_cursor(tenant_id, import_id, cursor) if cursor else None
        first, skip = (after[0], after[1] + 1) if after is not None else (0, 0)
        found: list[tuple[int, int, dict[str, Any]]] = []
        pk = import_pk(tenant_id, import_id)
        for index, entries in _rows(self.client, self.table, pk, first, "err"):
            start = skip if index == first else 0
            for n in range(start, len(entries)):
                found.append((index, n, entries[n]))
            if len(found) > limit:
                break
        page = found[:limit]
        more = len(found) > limit
        next_cursor = encode_error_cursor(tenant_id, import_id, page[-1][0], page[-1][1]) if more else None
        return ErrorPage(items=[entry for _, _, entry in page], next_cursor=next_cursor)
