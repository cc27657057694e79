"""What every request body (the envelope around the rows) shares: its rows and its options with defaults.

A body's top-level shape is checked before anything is written, and a problem there is the request's 400.
Two things are not the envelope's to refuse: a row, whatever it holds (``Rows``: a row that is not an
object fails alone, as it does in a JSON file), and ``null`` for an option that has a default (``Envelope``:
it means the default, as leaving the option out does; generated clients send every field they know).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Strict, WithJsonSchema, model_validator
from pydantic.fields import FieldInfo

from bulk_import.rules.errors import RuleError
from bulk_import.rules.strings import clean, spelled_as

#: The rows of a bulk body: documented as objects, each one checked on its own by its kind.
Row = Annotated[Any, WithJsonSchema({"additionalProperties": True, "type": "object"})]
Rows = list[Row]


class Envelope(BaseModel):
    """A request body: unknown fields refused; ``null`` for a field with a default is that default (except
    for a strict field, which takes only its type)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _null_is_the_default(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        fields = cls.model_fields
        if not any(value is None and name in fields for name, value in data.items()):
            return data
        # A strict field (an upload's ``dryRun``) takes only what it says: null there stays refused.
        return {
            name: value
            for name, value in data.items()
            if value is not None or name not in fields or fields[name].is_required() or _strict(fields[name])
        }


def _strict(info: FieldInfo) -> bool:
    return any(isinstance(m, Strict) and m.strict for m in info.metadata)


def _id_text(value: Any) -> Any:
    # An id written as a number (``"agentId": 42``) is the id "42"; anything else is the model's to judge.
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return value
    try:
        return clean(value)
    except RuleError:
        return value


#: An id or a name in an envelope: text, or a number written without quotes (its text).
IdText = Annotated[str, BeforeValidator(_id_text)]


def folded(*allowed: str) -> BeforeValidator:
    """A validator giving text that spells one of ``allowed`` in another case (or with spaces around it)
    the allowed spelling; anything else is left for the field's own type to refuse."""

    def run(value: Any) -> Any:
        if isinstance(value, str):
            return spelled_as(value, allowed) or value
        return value

    return BeforeValidator(run)
