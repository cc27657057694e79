"""Header names -> a kind's fields: case, accents, spaces, underscores and dashes ignored.

``First Name``, ``first_name``, ``FIRST-NAME`` and ``firstName`` all normalize to ``firstname``; the
kind's row model field names (and its ``file_aliases``) are normalized the same way, so each header cell
finds its field whatever the kind's own spelling. Fields whose type is a nested model can be given one
column per sub-field (``source.id`` or ``Source ID``); fields holding objects or lists take JSON text.
"""

from __future__ import annotations

import json
import re
import types
import typing
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from bulk_import.engine.files.errors import FileFormatError
from bulk_import.kinds.base import ImportKind
from bulk_import.rules.exact_json import parse_integer
from bulk_import.rules.strings import INVISIBLE, is_blank

_SEPARATORS = re.compile(r"[\s_\-]+")
# What exports add after a column's name: a unit or currency in brackets ("Amount (€)", "Montant [EUR]"),
# a number sign ("Phone #"), a colon, an abbreviation's dot ("Tél."). They name no other field.
_DECORATION = re.compile(r"(?:\s*(?:\([^()]*\)|\[[^\[\]]*\]|[#:.€$£%]))+\s*$")
_INVISIBLE = INVISIBLE
#: Header names of columns whose values never appear in a report, whatever the kind (``ssn``,
#: ``SSN Last Four``, ``social security number``…): a defence for columns no field claims.
_SENSITIVE = ("ssn", "socialsecurity")
#: What replaces a sensitive value in reports.
MASK = "***"


def normalize_name(name: object) -> str:
    """A header or field name as compared: lower case, no accents, no spaces, ``_`` or ``-``, no ``*``, and
    no unit after it (``Amount (€)``, ``Phone #``: ``amount``, ``phone``)."""
    text = unicodedata.normalize("NFKD", str(name)).casefold()
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = text.strip().strip(_INVISIBLE).strip().strip("*").strip()
    undecorated = _DECORATION.sub("", text)
    return _SEPARATORS.sub("", undecorated or text)


def fold_text(text: str) -> str:
    """Lower case, no accents, single spaces: for finding instruction markers in free text."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.replace("_", " ").split())


def is_sensitive(name: str) -> bool:
    """True for a header naming a social security number, whatever the kind."""
    normalized = normalize_name(name)
    return any(marker in normalized for marker in _SENSITIVE)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """Where a column's values go in a row: ``("firstName",)`` or ``("source", "id")``.

    ``json``: the field holds objects or lists, so a cell starting with ``{`` or ``[`` is read as JSON.
    """

    path: tuple[str, ...]
    json: bool = False

    @property
    def name(self) -> str:
        """The field as the kind names it, dotted for sub-fields."""
        return ".".join(self.path)

    def value(self, cell: Any) -> Any:
        """The value a cell gives this field (JSON text parsed for object and list fields)."""
        if self.json and isinstance(cell, str) and cell.lstrip()[:1] in ("{", "["):
            try:
                return json.loads(cell, parse_float=Decimal, parse_int=parse_integer)
            except ValueError:
                return cell  # the kind's rule says what is wrong with it
        return cell


def _unwrap(annotation: Any) -> list[Any]:
    """The members of an optional or union annotation (``Source | None`` -> ``[Source]``)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        return [a for a in typing.get_args(annotation) if a is not type(None)]
    return [annotation]


def _model_of(annotation: Any) -> type[BaseModel] | None:
    for member in _unwrap(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return None


def _is_container(annotation: Any) -> bool:
    for member in _unwrap(annotation):
        if typing.get_origin(member) in (dict, list) or member in (dict, list):
            return True
        if isinstance(member, type) and issubclass(member, BaseModel):
            return True
    return False


@dataclass
class FieldMap:
    """Normalized header name -> field, for one kind."""

    kind: str
    by_name: dict[str, FieldSpec]
    #: The kind's field names, as listed in messages.
    fields: tuple[str, ...]

    _cache: typing.ClassVar[dict[str, FieldMap]] = {}

    @classmethod
    def of(cls, kind: ImportKind[Any]) -> FieldMap:
        """The field map of ``kind`` (built once)."""
        if kind.name not in cls._cache:
            cls._cache[kind.name] = cls._build(kind)
        return cls._cache[kind.name]

    @classmethod
    def _build(cls, kind: ImportKind[Any]) -> FieldMap:
        model = kind.row_model
        if model is None:
            raise FileFormatError(f"{kind.name} imports cannot be read from files")
        by_name: dict[str, FieldSpec] = {}
        weak: dict[str, FieldSpec] = {}
        for name, info in model.model_fields.items():
            spec = FieldSpec((name,), _is_container(info.annotation))
            by_name[normalize_name(name)] = spec
            if info.alias:
                by_name.setdefault(normalize_name(info.alias), spec)
            sub = _model_of(info.annotation)
            if sub is None:
                continue
            for sub_name, sub_info in sub.model_fields.items():
                sub_spec = FieldSpec((name, sub_name), _is_container(sub_info.annotation))
                by_name[normalize_name(f"{name}.{sub_name}")] = sub_spec
                # "Source ID" as well as "source.id", unless that spelling names a field of its own.
                weak.setdefault(normalize_name(f"{name}{sub_name}"), sub_spec)
        for alias, target in kind.file_aliases.items():
            aliased = by_name.get(normalize_name(target))
            if aliased is not None:
                by_name.setdefault(normalize_name(alias), aliased)
        for name, spec in weak.items():
            by_name.setdefault(name, spec)
        return cls(kind=kind.name, by_name=by_name, fields=tuple(model.model_fields))

    def lookup(self, name: object) -> FieldSpec | None:
        """The field a header cell (or a JSON key) names, or None."""
        return self.by_name.get(normalize_name(name))


@dataclass
class Layout:
    """How the columns of a file's header map to fields.

    ``mapped`` pairs each column position with its field; ``unknown`` lists the header names that name
    no field (their values are ignored); ``unnamed`` holds the positions of columns without a name.
    """

    columns: list[str]
    mapped: list[tuple[int, FieldSpec]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    unnamed: list[int] = field(default_factory=list)
    normalized: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, header: Sequence[str], fields: FieldMap) -> Layout:
        """The layout of a header row.

        Raises
        ------
        FileFormatError
            Two columns name the same field, or a column gives a whole object some of whose fields have
            columns of their own (which value wins would be a guess).
        """
        layout = cls(columns=[str(h) for h in header])
        claimed: dict[tuple[str, ...], int] = {}
        for position, name in enumerate(layout.columns):
            layout.normalized.append(normalize_name(name))
            if is_blank(name):
                layout.unnamed.append(position)
                continue
            spec = fields.lookup(name)
            if spec is None:
                layout.unknown.append(name.strip())
                continue
            if spec.path in claimed:
                first = layout.columns[claimed[spec.path]]
                raise FileFormatError(
                    f"columns {first.strip()!r} and {name.strip()!r} both name the field {spec.name}"
                )
            claimed[spec.path] = position
            layout.mapped.append((position, spec))
        for path, position in claimed.items():
            if len(path) == 1 and any(len(p) == 2 and p[0] == path[0] for p in claimed):
                raise FileFormatError(
                    f"column {layout.columns[position].strip()!r} gives the whole {path[0]} while other "
                    f"columns give some of its fields: keep one or the other"
                )
        return layout

    def record(self, cells: Sequence[Any]) -> dict[str, Any]:
        """The row for the kind: each named field's non-blank cell (blank cells count as missing)."""
        record: dict[str, Any] = {}
        size = len(cells)
        for position, spec in self.mapped:
            if position >= size:
                continue
            cell = cells[position]
            if is_blank(cell):
                continue
            put(record, spec, spec.value(cell))
        return record


def put(record: dict[str, Any], spec: FieldSpec, value: Any) -> None:
    """Set ``spec``'s field of ``record`` (nested fields in their object)."""
    if len(spec.path) == 1:
        record[spec.path[0]] = value
        return
    parent = record.get(spec.path[0])
    if not isinstance(parent, dict):
        parent = record[spec.path[0]] = {}
    parent[spec.path[1]] = value


def get(record: Mapping[str, Any], spec: FieldSpec) -> Any:
    """The value of ``spec``'s field in ``record`` (None when missing)."""
    value: Any = record
    for part in spec.path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value
