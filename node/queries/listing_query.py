"""The parts every listing_search plan shares: the query, the sort orders and their indexes, rows to pages.

A plan (listings.py for the table alone, text plans and stepped.py with
FTS5) differs in which index it reads; what it reads, how a sort's values
are stored and how a page and its cursor are built is the same for all, so
it is here once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marketnode.core.encoding import INT_MAX
from marketnode.node.queries import facets
from marketnode.node.queries.paging import Page, parse_cursor
from marketnode.node.queries.schema import MAX_SQL_INT, from_sql_u64, sql_key, to_sql_u64

LISTING_COLUMNS = ("l.id, l.shop, l.seller, l.type, l.category, l.title, l.tags, l.asset, l.price, l.stock, "
                   "l.active, l.created_ms, l.rating_count, l.rating_milli, l.sales")
FTS_JOIN = "listings_fts AS f CROSS JOIN listings AS l ON l.id = f.rowid"


# A value bound into a statement; a plan's filter index with its condition and arguments.
SqlValue = int | str | bytes | None
Candidate = tuple[str, str, list[SqlValue]]


@dataclass(frozen=True)
class SortOrder:
    """A value sort (``column`` None: by id alone), the index walking it, and the one walking it in a category.

    Values outside SQL (cursors, bounds, covers) are the real ones; ``u64``
    columns are stored shifted (schema.to_sql_u64) and converted at each statement.
    """

    column: str | None
    ascending: bool
    index: str | None
    category_index: str
    cover: Callable[[int, int], list[str] | None] | None = None
    u64: bool = False

    def to_sql(self, value: int) -> int:
        return to_sql_u64(value) if self.u64 else value

    def from_sql(self, stored: int) -> int:
        return from_sql_u64(stored) if self.u64 else stored

    @property
    def max_value(self) -> int:
        return INT_MAX if self.u64 else MAX_SQL_INT

    @property
    def direction(self) -> str:
        return "ASC" if self.ascending else "DESC"

    def sql(self) -> str:
        keys = ["l.id"] if self.column is None else [f"l.{self.column}", "l.id"]
        return ", ".join(f"{key} {self.direction}" for key in keys)

    def after(self, cursor: str | None) -> tuple[int, ...] | None:
        return parse_cursor(cursor, 1) if self.column is None else parse_cursor(cursor, 2, self.max_value)

    def keyset(self, after: tuple[int, ...] | None, id_column: str = "l.id") -> tuple[list[str], list[Any]]:
        """The condition for rows after the cursor's row, in this order."""
        if after is None:
            return [], []
        compare = ">" if self.ascending else "<"
        if self.column is None:
            return [f"{id_column} {compare} ?"], [after[0]]
        return [f"(l.{self.column}, l.id) {compare} (?, ?)"], [self.to_sql(after[0]), after[1]]

    def cursor_of(self, row: sqlite3.Row) -> str:
        return str(row["id"]) if self.column is None else f"{self.from_sql(row[self.column])}:{row['id']}"


ORDERS = {
    "newest": SortOrder(None, False, None, "listings_cat"),
    "price_asc": SortOrder("price", True, "listings_price", "listings_cat_price", facets.price_cover, u64=True),
    "price_desc": SortOrder("price", False, "listings_price", "listings_cat_price", facets.price_cover, u64=True),
    "rating": SortOrder("rating_milli", False, "listings_rating", "listings_cat_rating", facets.rating_cover),
}


@dataclass(frozen=True)
class ListingQuery:
    """One listing_search call: the words of its text, its filters, its sort and its page."""

    words: tuple[str, ...] = ()
    category: str | None = None
    shop: int | None = None
    seller: bytes | None = None
    type: str | None = None
    min_price: int | None = None
    max_price: int | None = None
    asset: str | None = None
    in_stock: bool = False
    sort: str = "newest"
    limit: int = 20
    cursor: str | None = None

    def price_range(self) -> tuple[int, int]:
        """The price filter's bounds, real u64 values (absent: 0 and 2^64-1)."""
        low = 0 if self.min_price is None else self.min_price
        return low, INT_MAX if self.max_price is None else min(self.max_price, INT_MAX)

    def price_range_sql(self) -> list[int]:
        """price_range as stored (schema.to_sql_u64), for a BETWEEN on l.price."""
        return [to_sql_u64(bound) for bound in self.price_range()]

    def has_row_only_filters(self) -> bool:
        """True when a filter has no exact facet token (price range, in_stock): rows must be read to test it."""
        return self.min_price is not None or self.max_price is not None or self.in_stock

    def row_filters(self) -> tuple[list[str], list[Any]]:
        """Every filter as SQL over ``l`` (listings): the exact test each plan applies last."""
        where, args = ["l.active = 1"], []
        for column in ("category", "shop", "seller", "type", "asset"):
            value = getattr(self, column)
            if value is not None:
                where.append(f"l.{column} = ?")
                args.append(sql_key(value) if column == "shop" else value)
        if self.min_price is not None or self.max_price is not None:
            where.append("l.price BETWEEN ? AND ?")
            args.extend(self.price_range_sql())
        if self.in_stock:
            where.append("l.stock > 0")
        return where, args


def listing_row(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out.pop("score", None)
    out["tags"] = json.loads(out["tags"])
    out["active"] = bool(out["active"])
    out["price"] = from_sql_u64(out["price"])
    return out


def page_of(rows: list[sqlite3.Row], limit: int, cursor_of: Callable[[sqlite3.Row], str]) -> Page:
    items = [listing_row(r) for r in rows[:limit]]
    return Page(items, cursor_of(rows[limit - 1]) if len(rows) > limit else None)
