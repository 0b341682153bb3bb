"""The stepped plan: a text search with many matches, sorted by price or rating.

Sorting every match would cost their number, and FTS5 cannot read in price
order; so the plan walks the sort index in value ranges and asks FTS5 only
for the matches in each range (a bucket cover of facet tokens), until the
page is full. Its rows equal a brute-force sort (tests/api/test_listing_search_plans.py).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from marketnode.node.queries.listing_query import FTS_JOIN, LISTING_COLUMNS, ListingQuery, SortOrder, page_of
from marketnode.node.queries.paging import Page
from marketnode.node.queries.schema import MAX_SQL_INT
from marketnode.node.queries.text_match import match_query

# A text search sorted by price or rating steps along the sort index this many listings at first, doubling
# up to MAX_STEP_LISTINGS while the page is not full.
FIRST_STEP_LISTINGS = 256
MAX_STEP_LISTINGS = 4096


@dataclass(frozen=True)
class Walk:
    """The sort index a stepped search walks, and the filter (category, active) it holds."""

    order: SortOrder
    index: str
    condition: str
    args: list[Any]

    def edge(self, conn: sqlite3.Connection, bound: int, listings: int) -> int | None:
        """The value ``listings`` listings past ``bound`` in sort order (None: fewer are left)."""
        column, order = self.order.column, self.order
        compare = ">=" if order.ascending else "<="
        row = conn.execute(
            f"SELECT {column} FROM listings INDEXED BY {self.index} WHERE {self.condition} AND {column} {compare} ? "
            f"ORDER BY {column} {order.direction} LIMIT 1 OFFSET ?",
            (*self.args, order.to_sql(bound), listings)).fetchone()
        return None if row is None else order.from_sql(row[0])

    def extreme(self, conn: sqlite3.Connection, highest: bool) -> int | None:
        column = self.order.column
        row = conn.execute(
            f"SELECT {column} FROM listings INDEXED BY {self.index} WHERE {self.condition} "
            f"ORDER BY {column} {'DESC' if highest else 'ASC'} LIMIT 1", self.args).fetchone()
        return None if row is None else self.order.from_sql(row[0])


def stepped(conn: sqlite3.Connection, q: ListingQuery, order: SortOrder, text: str) -> Page:
    """Many matches sorted by a value: step along the sort index, ask FTS5 for each step's bucket cover.

    A step spans a value range held by a number of the category's listings
    that starts at FIRST_STEP_LISTINGS and doubles (up to MAX_STEP_LISTINGS)
    while the page is not full, so its matches are few to sort; or one value
    held by more than that, whose rows FTS5 reads in id order, stopping at
    the page. Steps are disjoint value ranges in sort order, so their rows
    concatenate in order.
    """
    assert order.column is not None
    if q.category is not None:
        walk = Walk(order, order.category_index, "category = ? AND active = 1", [q.category])
    else:
        walk = Walk(order, order.index or "", "active = 1", [])
    low, high = q.price_range() if order.column == "price" else (0, MAX_SQL_INT)
    after = order.after(q.cursor)
    bound = walk.extreme(conn, highest=not order.ascending)
    if bound is None:
        return Page([], None)
    bound = max(bound, low) if order.ascending else min(bound, high)
    if after is not None:
        bound = max(bound, after[0]) if order.ascending else min(bound, after[0])
    step, listings = (1 if order.ascending else -1), FIRST_STEP_LISTINGS
    rows: list[sqlite3.Row] = []
    while len(rows) <= q.limit and low <= bound <= high:
        edge = walk.edge(conn, bound, listings)
        if edge is None:  # fewer left: this step reaches the far end, unless none are left at all
            far = walk.extreme(conn, highest=order.ascending)
            if far is None or (far - bound) * step < 0:
                break
            span = (bound, far)
        else:
            span = (bound, bound if edge == bound else edge - step)
        first, last = sorted(span)
        first, last = max(first, low), min(last, high)
        if first <= last:
            rows += step_rows(conn, q, order, text, (first, last), after, q.limit + 1 - len(rows))
        if edge is None:
            break
        bound = edge if edge != bound else bound + step
        listings = min(listings * 2, MAX_STEP_LISTINGS)
    return page_of(rows, q.limit, order.cursor_of)


def step_rows(conn: sqlite3.Connection, q: ListingQuery, order: SortOrder, text: str, span: tuple[int, int],
               after: tuple[int, ...] | None, need: int) -> list[sqlite3.Row]:
    """The matches valued within ``span``, in sort order, at most ``need``."""
    assert order.column is not None and order.cover is not None
    first, last = span
    where, args = q.row_filters()
    keyset, keyset_args = order.keyset(after)
    match = match_query(q, text, order.cover(first, last))
    if first == last:
        # one value: its rows are in id order, which FTS5 reads natively
        if after is not None and after[0] == first:
            keyset, keyset_args = [f"f.rowid {'>' if order.ascending else '<'} ?"], [after[1]]
        sql = (f"SELECT {LISTING_COLUMNS} FROM {FTS_JOIN} WHERE listings_fts MATCH ? AND l.{order.column} = ? AND "
               f"{' AND '.join(where + keyset)} ORDER BY f.rowid {order.direction} LIMIT ?")
        return conn.execute(sql, (match, order.to_sql(first), *args, *keyset_args, need)).fetchall()
    sql = (f"SELECT {LISTING_COLUMNS} FROM {FTS_JOIN} WHERE listings_fts MATCH ? AND l.{order.column} BETWEEN ? AND ? "
           f"AND {' AND '.join(where + keyset)} ORDER BY {order.sql()} LIMIT ?")
    return conn.execute(sql, (match, order.to_sql(first), order.to_sql(last), *args, *keyset_args,
                              need)).fetchall()
