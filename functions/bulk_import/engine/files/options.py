"""What a dropped file's key and metadata say: tenant, kind, name and import options, checked like a
request."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bulk_import.core.errors import InvalidRequestError
from bulk_import.engine.files.errors import FileFormatError
from bulk_import.kinds import REGISTRY, get_kind
from bulk_import.kinds.base import ImportKind
from bulk_import.rules.flags import parse_flag
from bulk_import.rules.strings import spelled_as

#: Prefix of the keys whose files are imported.
INCOMING = "incoming"
#: Longest file name kept (the rest of the key is the tenant, the kind and the import id).
MAX_NAME_CHARS = 200


#: An uploaded file's name: the import id issued by ``POST /v1/imports/uploads``, a dash, the name.
UPLOADED_NAME = re.compile(r"^(imp_[0-9A-Za-z]{1,64})-(.+)$", re.DOTALL)


_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class FileDrop:
    """One file put in the import bucket, as its S3 notification tells (the key already URL-decoded)."""

    key: str
    size: int | None = None
    etag: str | None = None
    version: str | None = None
    sequencer: str | None = None
    event_time: str | None = None

    def identity(self) -> str:
        """What tells this put of the object from another put at the same key."""
        if self.version:
            return f"version:{self.version}"
        if self.sequencer:
            return f"sequencer:{self.sequencer}"
        return f"etag:{self.etag}:{self.event_time}"


@dataclass(frozen=True)
class DroppedKey:
    """The parts of ``incoming/{tenantId}/{kind}/{name}`` (None for the parts the key lacks)."""

    tenant_id: str | None
    kind: str | None
    name: str


def parse_key(key: str) -> DroppedKey:
    """Split a key of the incoming area into tenant, kind and file name."""
    parts = key.split("/")
    if parts[0] != INCOMING or len(parts) < 2:
        return DroppedKey(None, None, parts[-1])
    if len(parts) == 2:
        return DroppedKey(None, None, parts[1])
    if len(parts) == 3:
        return DroppedKey(parts[1] or None, None, parts[2])
    # A folder naming a kind in another case ("Debts") is that kind; any other stays as written, for the
    # import's reason to quote it.
    kind = spelled_as(parts[2], REGISTRY) or parts[2] or None
    return DroppedKey(parts[1] or None, kind, "/".join(parts[3:]))


def drop_import_id(key: str, identity: str) -> str:
    """The import id of a dropped file: the same for the same put of the same object."""
    return "imp_" + hashlib.sha256(f"{key}\0{identity}".encode()).hexdigest()[:32]


# -- options -------------------------------------------------------------------------------------------
def _set(request: dict[str, Any], path: str, value: Any) -> None:
    head, _, tail = path.partition(".")
    if not tail:
        request[head] = value
        return
    parent = request.get(head)
    if not isinstance(parent, dict):
        parent = request[head] = {}
    parent[tail] = value


def _all_file_options() -> set[str]:
    return {name for kind_name in REGISTRY for name in get_kind(kind_name).file_options}


def options_from_metadata(
    kind: ImportKind[Any], metadata: Mapping[str, str], label: str = "metadata "
) -> tuple[dict[str, Any], list[str]]:
    """The request options of a dropped file from its object metadata, and warnings about the rest.

    Metadata names are the kind's ``file_options`` (``campaign-id``…); flags read ``true``/``false``
    (also yes/no, 1/0). An option of another kind is ignored with a warning; metadata no kind knows is
    left alone (tools add their own). ``label`` starts a message about a value, before its name
    (``"metadata "``; ``"options."`` for the options of an upload request).

    Raises
    ------
    InvalidRequestError
        A flag that is not true or false.
    """
    request: dict[str, Any] = {}
    warnings: list[str] = []
    others = _all_file_options()
    for raw_name, raw_value in sorted(metadata.items()):
        name = raw_name.strip().lower()
        value = str(raw_value).strip()
        spec = kind.file_options.get(name)
        if spec is None:
            if name in others:
                warnings.append(f"metadata {name} does not apply to {kind.name} imports; ignored")
            continue
        path, kind_of_value = spec
        if kind_of_value == "flag":
            try:
                flag = parse_flag(value)
            except ValueError:
                shown = f"{value[:30]!r}"
                raise InvalidRequestError(f"{label}{name}: must be true or false, not {shown}") from None
            if flag is not None:
                _set(request, path, flag)
        elif value:
            _set(request, path, value)
    return request, warnings


def upload_options(kind: ImportKind[Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """The request options of ``POST /v1/imports/uploads``: the kind's body fields (``campaignId``…) or
    the metadata names of a dropped file (``campaign-id``…).

    Raises
    ------
    InvalidRequestError
        An option the kind does not have.
    """
    body_fields = [n for n in kind.request_model.model_fields if n != kind.records_field]
    request: dict[str, Any] = {}
    metadata: dict[str, str] = {}
    for name, value in options.items():
        if name in body_fields:
            request[name] = value
        elif name.lower() in kind.file_options:
            metadata[name] = value if isinstance(value, str) else json.dumps(value)
        else:
            known = ", ".join([*body_fields, *kind.file_options]) or "none"
            raise InvalidRequestError(
                f"options.{name}: not an option of {kind.name} imports (options: {known})"
            )
    from_metadata, _ = options_from_metadata(kind, metadata, label="options.")
    for name, value in from_metadata.items():
        given = request.get(name)
        if isinstance(value, dict) and isinstance(given, dict):
            for part, part_value in value.items():
                _check_same(kind, f"{name}.{part}", given.get(part), part_value)
            request[name] = {**given, **value}
        else:
            _check_same(kind, name, given, value)
            request[name] = value
    return request


def _check_same(kind: ImportKind[Any], path: str, given: Any, value: Any) -> None:
    """Refuse one option given under both its names with two values: neither may silently win."""
    if given is None or given == value:
        return
    names = [n for n, (p, _) in kind.file_options.items() if p == path]
    shown = f" ({names[0]})" if names else ""
    raise InvalidRequestError(
        f"options.{path}: given twice with different values, as {path} and as its metadata name{shown};"
        " send it once"
    )


def with_option_names(kind: ImportKind[Any], message: str, noun: str = "object metadata") -> str:
    """A request-level message about an option, with the metadata names that set it (``campaign-id``):
    the name a file's sender or an upload's caller used, not only the request field it stands for."""
    names = [
        meta for meta, (path, _) in kind.file_options.items() if message.startswith(path.split(".")[0] + ":")
    ]
    return f"{message} ({noun} {', '.join(names)})" if names else message


def check_body_fields(kind: ImportKind[Any], options: Mapping[str, Any]) -> None:
    allowed = [n for n in kind.request_model.model_fields if n != kind.records_field]
    for name in options:
        if name not in allowed:
            raise FileFormatError(
                f"unknown top-level field {name!r} (the body of {kind.route} has "
                f"{', '.join([kind.records_field, *allowed])})"
            )


def merge_body_options(
    kind: ImportKind[Any], body: Mapping[str, Any], given: Mapping[str, Any]
) -> dict[str, Any]:
    """The options of a JSON file holding the kind's body (``body``: its fields other than the rows) with
    the options given beside the file (``given``: object metadata or the upload's options).

    One option both give, with two values, fails the file: a body naming campaign ``camp-leads`` imported
    into ``camp-loans`` because the upload said so would store its customers in the wrong campaign.

    Raises
    ------
    FileFormatError
        A body field the kind does not have, or an option given twice with two values.
    """
    check_body_fields(kind, body)
    merged = dict(body)
    for name, value in given.items():
        mine = body.get(name)
        if isinstance(mine, Mapping) and isinstance(value, Mapping):
            for part, part_value in value.items():
                _same_in_file(f"{name}.{part}", mine.get(part), part_value)
            merged[name] = {**mine, **value}
        else:
            _same_in_file(name, mine, value)
            merged[name] = value
    return merged


def _same_in_file(path: str, in_file: Any, given: Any) -> None:
    if in_file is not None and in_file != given:
        raise FileFormatError(
            f"the file's {path} ({str(in_file)[:60]!r}) and the import's option ({str(given)[:60]!r})"
            " differ: give it once, in the file or as an option"
        )


def safe_name(filename: str) -> str:
    """A client's file name as kept in a key: its last path part, no control characters, bounded.

    Raises
    ------
    InvalidRequestError
        Nothing is left of it.
    """
    name = re.split(r"[/\\]", str(filename).strip())[-1]
    name = _UNSAFE_NAME.sub("_", name).strip()
    if not name or name in (".", ".."):
        raise InvalidRequestError("filename: is required (the file's name, e.g. debts.csv)")
    if len(name) > MAX_NAME_CHARS:
        dot = name.rfind(".")
        extension = name[dot:] if dot > 0 and len(name) - dot <= 10 else ""
        name = name[: MAX_NAME_CHARS - len(extension)] + extension
    return name
