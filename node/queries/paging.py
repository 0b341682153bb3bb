"""Pages and cursors shared by every paginated query; no SQL here.

A cursor is the sort key of the last row of the previous page (``"id"`` or
``"value:id"``), so page N costs what page 1 costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marketnode.node.queries.schema import MAX_SQL_INT


class BadCursor(ValueError):
    """The cursor was not produced by this query (the RPC layer answers -32602)."""


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def parse_cursor(cursor: str | None, count: int, first_max: int = MAX_SQL_INT) -> tuple[int, ...] | None:
    """The ``count`` integers of a ``"a:b"`` cursor, or None for the first page.

    The last part is an id (at most MAX_SQL_INT: no row has a larger one);
    a first part before it is a sort value, at most ``first_max`` (2^64-1 for a price).
    """
    if cursor is None:
        return None
    parts = cursor.split(":")
    if len(parts) != count or not all(p.isdecimal() and len(p) <= 20 for p in parts):
        raise BadCursor(f"cursor {cursor!r} is not one this query returned")
    values = tuple(int(p) for p in parts)
    limits = (first_max,) * (count - 1) + (MAX_SQL_INT,)
    if any(value > limit for value, limit in zip(values, limits)):
        raise BadCursor(f"cursor {cursor!r} is not one this query returned")
    return values
