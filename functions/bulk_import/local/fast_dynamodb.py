"""A DynamoDB query on the local stack reads the partition it names, not the whole table.

moto's ``Table.query`` starts from ``Table.all_items()``: every item of the table, sorted by key. For a
query of the table itself it then keeps the items of the partition asked for and sorts them again; for a
query of an index it keeps the items with the index's key values and sorts them by the index's key and
the table's key. Sorting the whole table compares ``DynamoType`` values in Python, so a query of a
thousand items on a table of fifty thousand takes seconds whatever its partition holds, and paging
through an import of ten thousand rows takes minutes.

``fast_dynamodb`` leaves every step of moto's query as it is except where the items come from:

* a query of the table reads the items of its partition alone (moto stores them in a dictionary per
  partition key value), in the order they were stored, which moto's own sort then puts in key order;
* a query of an index reads every item unsorted, as moto sorts them again by a key that includes the
  table's key, which no two items share, so the order they came in cannot change the answer.

Key conditions, ``Limit``, ``ExclusiveStartKey``, ``ScanIndexForward``, filters and projections all run
in moto's code, so the answers are moto's.

moto also writes every answer through a serializer that walks the service's shapes: for each attribute
value of each item it asks for every member of ``AttributeValue`` (``S``, ``N``, ``B``, ``M``...) in turn,
so answering a ``BatchGetItem`` of 100 stored records takes about a second, and re-importing rows already
stored (whose versions the pipeline reads first) several times as long as creating them. ``fast_dynamodb``
writes an attribute value that already is in its wire form (its type and its text) as it is, an item
whose values all are in one step, and leaves anything else (binary values, anything unexpected) to moto's
serializer.

A read asking for a few top-level attributes (a re-import reads three fields of each stored payment)
takes them from the stored item as they are: moto turns the whole item into plain JSON once per path,
then builds a new item checking its size again for every attribute added, which made reading a stored
payment's three fields cost as much as writing it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: Keyword arguments of moto's ``Table.query`` that are not conditions of the legacy QueryFilter.
_QUERY_OPTIONS = frozenset(
    {"consistent_read", "filter_expression", "hash_key_conditions", "range_key_conditions"}
)

#: Items ``Table.all_items`` returns to the query running on this thread, when it runs one.
_query_items = threading.local()


def _partition_items(table: Any, hash_key: Any) -> list[Any]:
    """The items of ``table`` whose partition key is ``hash_key``, in the order moto stored them."""
    # ``table.items`` is a defaultdict: ``get`` reads it without adding an empty partition.
    partition = table.items.get(hash_key)
    if partition is None:
        return []
    if table.range_key_attr:
        return list(partition.values())
    return [partition]


def _unsorted_items(table: Any) -> list[Any]:
    """Every item of ``table``, in no particular order."""
    if not table.range_key_attr:
        return list(table.items.values())
    return [item for partition in table.items.values() for item in partition.values()]


def _first(items: list[Any], before: Callable[[Any], bool]) -> int:
    """The index of the first of ``items`` for which ``before`` is false (it is true of a prefix only)."""
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi) // 2
        if before(items[mid]):
            lo = mid + 1
        else:
            hi = mid
    return lo


def _partition_window(
    table: Any,
    hash_key: Any,
    range_comparison: str | None,
    range_objs: list[Any],
    exclusive_start_key: dict[str, Any] | None,
    scan_index_forward: bool,
) -> list[Any]:
    """The items of the partition moto's query loop can return or stop at, in the order it visits them.

    The loop skips the items up to the start key, then visits the rest in order, appending those that
    meet the sort key condition until the page is full or would pass 1 MB. An item it visits before the
    first one it appends changes nothing (the page is empty then, and an item is at most 400 KB), so the
    window starts at the first item past the start key that meets the condition. The items after it are
    all kept: moto checks each one against the size of the page, met condition or not.
    """
    from moto.dynamodb.comparisons import get_comparison_func
    from moto.dynamodb.models.dynamo_type import DynamoType

    items = _partition_items(table, hash_key)
    # moto orders DynamoType values by their cast values; sorting by those spares a call per comparison.
    items.sort(key=lambda item: item.range_key.cast_value)
    if not scan_index_forward:
        items.reverse()
    if exclusive_start_key is not None:
        attrs = [table.hash_key_attr]
        ranges = [table.range_key_attr]
        start = exclusive_start_key.get(table.hash_key_attr)
        if start is not None and DynamoType(start) == hash_key:
            # Within one partition "comes before the start key" holds for a prefix of the visiting order.
            items = items[
                _first(
                    items,
                    lambda item: table._item_comes_before_dct(
                        item, exclusive_start_key, attrs, ranges, scan_index_forward
                    ),
                ) :
            ]
    if range_comparison:
        # What DynamoType.compare does, its comparison function and operands looked up once.
        meets = get_comparison_func(range_comparison)
        operands = [value.cast_value for value in range_objs]
        first = 0
        while first < len(items) and not meets(items[first].range_key.cast_value, *operands):
            first += 1
        items = items[first:]
    return items


def _fast_query(query: Callable[..., Any]) -> Callable[..., Any]:
    def fast_query(
        self: Any,
        hash_key: Any,
        range_comparison: str | None,
        range_objs: list[Any],
        limit: int,
        exclusive_start_key: dict[str, Any] | None,
        scan_index_forward: bool,
        projection_expressions: Any,
        index_name: str | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        def moto() -> Any:
            return query(
                self,
                hash_key,
                range_comparison,
                range_objs,
                limit,
                exclusive_start_key,
                scan_index_forward,
                projection_expressions,
                index_name,
                *args,
                **kwargs,
            )

        conditions = kwargs.get("range_key_conditions") or []
        if set(kwargs) - _QUERY_OPTIONS or (conditions and conditions[-1][0] != self.range_key_attr):
            # Conditions of the legacy QueryFilter parameter, or on more than the sort key: moto's code alone.
            return moto()
        if index_name:
            items = _unsorted_items(self)
        elif hash_key is not None and self.range_key_attr:
            items = _partition_window(
                self, hash_key, range_comparison, range_objs, exclusive_start_key, scan_index_forward
            )
        elif hash_key is not None and not range_comparison:
            items = _partition_items(self, hash_key)
        else:
            return moto()
        _query_items.table, _query_items.items = self, items
        try:
            return moto()
        finally:
            _query_items.table = _query_items.items = None

    fast_query.fast = True  # type: ignore[attr-defined]
    return fast_query


def _fast_all_items(all_items: Callable[[Any], list[Any]]) -> Callable[[Any], list[Any]]:
    def fast_all_items(self: Any) -> list[Any]:
        if getattr(_query_items, "table", None) is self:
            return list(_query_items.items)
        return all_items(self)

    return fast_all_items


def _wire(value: Any) -> Any:
    """An attribute value (``{"S": "x"}``, moto's ``DynamoType``) in its wire form; None when moto's own
    serializer must write it (binary values, anything else)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    if isinstance(value, DynamoType):
        value = value.to_json()
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((kind, inner),) = value.items()
    if kind in ("S", "N"):
        return value if isinstance(inner, str) else None
    if kind in ("BOOL", "NULL"):
        return value if isinstance(inner, bool) else None
    if kind in ("SS", "NS"):
        return value if isinstance(inner, list) and all(isinstance(v, str) for v in inner) else None
    if kind == "M" and isinstance(inner, dict):
        members = {k: _wire(v) for k, v in inner.items()}
        return None if any(v is None for v in members.values()) else {"M": members}
    if kind == "L" and isinstance(inner, list):
        elements = [_wire(v) for v in inner]
        return None if any(v is None for v in elements) else {"L": elements}
    return None


def _fast_structure(serialize: Callable[..., None]) -> Callable[..., None]:
    def fast_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue":
            wire = _wire(value)
            if wire is not None:
                serialized[self.get_serialized_name(shape, key)] = wire
                return
        serialize(self, serialized, value, shape, key)

    return fast_structure


def _fast_project(project: Any) -> Any:
    """moto's projection, without turning the whole item into plain JSON once per path when every path
    is a top-level attribute (the only kind this project's reads ask for); nested paths take moto's way.

    The projected item holds the stored item's own values, as moto's unprojected reads answer with the
    stored item itself: every caller only reads it to write the answer. It skips moto's size check
    (which sums every attribute's size again for each one added): a part of a stored item is no larger
    than the item, which passed the check when it was written. Being read only, it sums its size once
    (``BatchGetItem`` asks for it twice an item, for its 16 MB limit).
    """
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict

    class ProjectedItem(Item):
        _size: int | None = None

        def size(self) -> int:
            if self._size is None:
                self._size = super().size()
            return self._size

    def fast(self: Any, projection_expressions: list[list[str]]) -> Any:
        if any(len(path) != 1 or "[" in path[0] for path in projection_expressions):
            return project(self, projection_expressions)
        stored = self.attrs
        attrs = LimitedSizeDict.__new__(LimitedSizeDict)
        for (name,) in projection_expressions:
            value = stored.get(name)
            if value is not None:
                dict.__setitem__(attrs, name, value)
        projected: Any = ProjectedItem.__new__(ProjectedItem)
        projected.hash_key, projected.range_key, projected.attrs = self.hash_key, self.range_key, attrs
        return projected

    return fast


def _fast_map(serialize: Callable[..., None]) -> Callable[..., None]:
    def fast_map(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        # An item (``AttributeMap``: name -> AttributeValue) in wire form is written in one step.
        if getattr(shape.value, "name", None) == "AttributeValue" and isinstance(value, dict):
            members = {name: _wire(member) for name, member in value.items()}
            if all(member is not None for member in members.values()):
                serialized[self.get_serialized_name(shape, key)] = members
                return
        serialize(self, serialized, value, shape, key)

    return fast_map


@contextmanager
def fast_dynamodb() -> Iterator[None]:
    """Within the block, moto's DynamoDB query reads the partition it names (an index query: unsorted),
    and attribute values in their wire form are written as they are.

    Blocks may nest: the outermost one replaces moto's query, inner ones leave it as they find it.
    """
    from moto.core.serialize import BaseJSONSerializer
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    query = Table.query
    project = Item.project
    all_items = Table.all_items
    structure = BaseJSONSerializer._serialize_type_structure
    mapping = BaseJSONSerializer._serialize_type_map
    if getattr(query, "fast", False):
        yield
        return
    Table.query = _fast_query(query)  # type: ignore[method-assign]
    Table.all_items = _fast_all_items(all_items)  # type: ignore[method-assign,assignment]
    BaseJSONSerializer._serialize_type_structure = _fast_structure(structure)  # type: ignore[method-assign]
    BaseJSONSerializer._serialize_type_map = _fast_map(mapping)  # type: ignore[method-assign]
    Item.project = _fast_project(project)  # type: ignore[method-assign]
    try:
        yield
    finally:
        Table.query = query  # type: ignore[method-assign]
        Table.all_items = all_items  # type: ignore[method-assign]
        BaseJSONSerializer._serialize_type_structure = structure  # type: ignore[method-assign]
        BaseJSONSerializer._serialize_type_map = mapping  # type: ignore[method-assign]
        Item.project = project  # type: ignore[method-assign]
