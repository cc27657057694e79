"""Chunks of an asynchronous import: the message a chunk worker receives, and cutting rows into them.

Rows are cut as they come (only one chunk is held at a time); a row repeating an earlier row's key is
marked a duplicate, whichever chunk either lands in. A chunk's rows travel inline in its message, or
through the payload store when the message would be too large.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bulk_import.core.model import ImportJob
from bulk_import.core.ports import Deps, payload_key
from bulk_import.engine.messages import MAX_REASON_CHARS, batches, body_bytes
from bulk_import.kinds.base import ImportKind
from bulk_import.rules.exact_json import tag_decimals, untag_decimals

#: A chunk message whose body (rows inline) would pass this many bytes carries its rows through the
#: payload store instead: a message stays a quarter of SQS's 1 MiB, so several fit one batch.
INLINE_CHUNK_BYTES = 256 * 1024


@dataclass
class ChunkMessage:
    """What a chunk worker receives: which rows of which import, inline or by payload key.

    ``duplicates`` (index -> first index) marks rows repeating an earlier row of the import, with the
    field to report in ``duplicate_fields`` when it is not the kind's default; ``skipped`` and
    ``rejected`` (index -> reason) are rows a file reader judged already.
    """

    tenant_id: str
    import_id: str
    kind: str
    chunk: int
    start: int
    count: int
    rows: list[Any] | None = None
    rows_key: str | None = None
    duplicates: dict[int, int] = field(default_factory=dict)
    duplicate_fields: dict[int, str] = field(default_factory=dict)
    skipped: dict[int, str] = field(default_factory=dict)
    rejected: dict[int, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The message body."""
        body: dict[str, Any] = {
            "v": 1,
            "tenantId": self.tenant_id,
            "importId": self.import_id,
            "kind": self.kind,
            "chunk": self.chunk,
            "start": self.start,
            "count": self.count,
        }
        if self.rows is not None:
            # The queue's encoding would write decimals as text, and the worker's read them back as
            # such: tagged, they reach the worker as the decimals that were sent.
            body["rows"], tag = tag_decimals(self.rows)
            if tag is not None:
                body["decimalTag"] = tag
        if self.rows_key is not None:
            body["rowsKey"] = self.rows_key
        for name, value in (
            ("duplicates", self.duplicates),
            ("duplicateFields", self.duplicate_fields),
            ("skipped", self.skipped),
            ("rejected", self.rejected),
        ):
            if value:
                body[name] = {str(k): v for k, v in value.items()}
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ChunkMessage:
        """Parse a message body (raises KeyError/ValueError on a malformed one)."""

        def by_index(name: str) -> dict[int, Any]:
            return {int(k): v for k, v in (body.get(name) or {}).items()}

        return cls(
            tenant_id=str(body["tenantId"]),
            import_id=str(body["importId"]),
            kind=str(body["kind"]),
            chunk=int(body["chunk"]),
            start=int(body["start"]),
            count=int(body["count"]),
            rows=untag_decimals(body.get("rows"), body.get("decimalTag")),
            rows_key=body.get("rowsKey"),
            duplicates={k: int(v) for k, v in by_index("duplicates").items()},
            duplicate_fields={k: str(v) for k, v in by_index("duplicateFields").items()},
            skipped={k: str(v) for k, v in by_index("skipped").items()},
            rejected={k: str(v) for k, v in by_index("rejected").items()},
        )


@dataclass(slots=True)
class SplitRow:
    """One row on its way into a chunk: the row, and a file reader's verdict on it, if any."""

    raw: Any
    skip: str | None = None
    reject: str | None = None


def _digest(namespace: str, value: str) -> int:
    """A 96-bit digest of a key within its namespace (collisions: about 1 in 10^16 for a million keys)."""
    data = f"{namespace}\0{value}".encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=12).digest(), "big")


def split_rows(
    deps: Deps,
    kind: ImportKind[Any],
    job: ImportJob,
    rows: Iterable[Any],
    *,
    start: int = 0,
    options: Any = None,
    inline_bytes: int | None = None,
) -> Iterator[ChunkMessage]:
    """Cut rows into chunk messages (streaming: only one chunk is held at a time).

    Rows pass through ``kind.before_split`` and ``kind.dedupe_key``: a key seen earlier in the import
    marks the later row a duplicate, whichever chunk either lands in; so does a value of one of
    ``kind.unique_refs`` used by an earlier row. ``options`` (the import's) are handed to
    ``dedupe_key``. ``inline_bytes``: the body size above which a chunk's rows go through the payload
    store (default ``INLINE_CHUNK_BYTES``).
    """
    items = (SplitRow(raw) for raw in rows)
    return split_file_rows(deps, kind, job, items, start=start, options=options, inline_bytes=inline_bytes)


def split_file_rows(
    deps: Deps,
    kind: ImportKind[Any],
    job: ImportJob,
    rows: Iterable[SplitRow],
    *,
    start: int = 0,
    options: Any = None,
    inline_bytes: int | None = None,
) -> Iterator[ChunkMessage]:
    """``split_rows`` for rows that may carry a verdict already (skipped or rejected file rows).

    Judged rows travel in their chunk like any other (so every row is accounted for there) but take no
    part in duplicate detection.
    """
    assert deps.payloads is not None
    # Keys seen so far, as 96-bit digests: a file of a million rows keeps two million of them.
    seen: dict[int, int] = {}
    chunk: list[Any] = []
    dupes: dict[int, int] = {}
    dupe_fields: dict[int, str] = {}
    skipped: dict[int, str] = {}
    rejected: dict[int, str] = {}
    number = 0
    index = start
    first = start

    def flush() -> ChunkMessage:
        nonlocal number
        msg = ChunkMessage(
            job.tenant_id,
            job.import_id,
            kind.name,
            number,
            first,
            len(chunk),
            duplicates=dict(dupes),
            duplicate_fields=dict(dupe_fields),
            skipped={i: why[:MAX_REASON_CHARS] for i, why in skipped.items()},
            rejected={i: why[:MAX_REASON_CHARS] for i, why in rejected.items()},
        )
        msg.rows = list(chunk)
        if body_bytes(msg.to_json()) > (INLINE_CHUNK_BYTES if inline_bytes is None else inline_bytes):
            # Measured on the whole body as sent: rows of any size, in any alphabet, fit a message.
            msg.rows = None
            msg.rows_key = payload_key(job.tenant_id, job.import_id, f"chunk-{number:06d}.json")
            assert deps.payloads is not None
            deps.payloads.put_json(msg.rows_key, chunk)
        number += 1
        return msg

    for item in rows:
        if item.skip is not None:
            skipped[index] = item.skip
            row = item.raw
        elif item.reject is not None:
            rejected[index] = item.reject
            row = item.raw
        else:
            row = kind.before_split(item.raw, index, job.import_id)
            key = kind.dedupe_key(row, options)
            if key is not None:
                mark = _digest("k", key)
                if mark in seen:
                    dupes[index] = seen[mark]
                else:
                    seen[mark] = index
            if kind.unique_refs and index not in dupes:
                refs = kind.references(row)
                for name in kind.unique_refs:
                    if name not in refs:
                        continue
                    mark = _digest(name, refs[name])
                    if mark in seen:
                        dupes[index], dupe_fields[index] = seen[mark], name
                        break
                    seen[mark] = index
        chunk.append(row)
        index += 1
        if len(chunk) >= kind.chunk_size:
            yield flush()
            chunk, dupes, dupe_fields, first = [], {}, {}, index
            skipped, rejected = {}, {}
    if chunk:
        yield flush()


def split_indexed_rows(
    deps: Deps,
    kind: ImportKind[Any],
    job: ImportJob,
    rows: list[tuple[int, Any]],
    options: Any,
    inline_bytes: int | None = None,
) -> list[ChunkMessage]:
    """Chunk messages of rows that keep their index in an earlier import (``(index, raw)`` pairs).

    A chunk covers consecutive indexes: each run of consecutive rows becomes chunks of its own, so
    every row is validated and reported at its original index.
    """
    assert deps.payloads is not None
    runs: list[list[tuple[int, Any]]] = []
    for index, raw in rows:
        if runs and runs[-1][-1][0] == index - 1 and len(runs[-1]) < kind.chunk_size:
            runs[-1].append((index, raw))
        else:
            runs.append([(index, raw)])
    messages: list[ChunkMessage] = []
    for run in runs:
        raws = [raw for _, raw in run]
        for message in split_rows(
            deps, kind, job, raws, start=run[0][0], options=options, inline_bytes=inline_bytes
        ):
            message.chunk = len(messages)
            if message.rows_key is not None:
                # Each run numbers its chunks from 0 (the next run writes the same key): stored again
                # at once under the chunk's own number.
                key = payload_key(job.tenant_id, job.import_id, f"retry-{message.chunk:06d}.json")
                deps.payloads.put_json(key, deps.payloads.get_json(message.rows_key))
                message.rows_key = key
            messages.append(message)
    return messages


def send_chunks(deps: Deps, messages: Iterable[ChunkMessage]) -> int:
    """Send chunk messages in batches of at most 10 entries and ``messages.BATCH_BYTES``; return how many."""
    assert deps.queue is not None
    sent = 0
    for batch in batches(m.to_json() for m in messages):
        deps.queue.send(batch)
        sent += len(batch)
    return sent
