"""Pages and cursors shared by every paginated query; no SQL here.

A cursor is the sort key of the last row of the previous page (``"id"`` or
``"value:id"``), so page N costs what page 1 costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_SQL_INT = 2**63 - 1


class BadCursor(ValueError):
    """The cursor was not produced by this query (the RPC layer answers -32602)."""


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def parse_cursor(cursor: str | None, count: int) -> tuple[int, ...] | None:
    """The ``count`` integers of a ``"a:b"`` cursor, or None for the first page."""
    if cursor is None:
        return None
    parts = cursor.split(":")
    if len(parts) != count or not all(p.isdecimal() and len(p) <= 20 for p in parts):
        raise BadCursor(f"cursor {cursor!r} is not one this query returned")
    values = tuple(int(p) for p in parts)
    if max(values) > MAX_SQL_INT:  # SQLite integers are signed 64-bit: no row has such a key
        raise BadCursor(f"cursor {cursor!r} is not one this query returned")
    return values
