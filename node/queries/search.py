"""Read-only queries over the query index: keyset pagination along an index.

Every function takes the connection and plain values and returns rows as
dicts with raw bytes; the RPC layer turns them into JSON. listing_search,
the one with many plans, lives in listings.py.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from marketnode.node.queries.listing_query import LISTING_COLUMNS, listing_row
from marketnode.node.queries.listings import SORTS as SORTS
from marketnode.node.queries.listings import search_listings as search_listings
from marketnode.node.queries.paging import BadCursor as BadCursor
from marketnode.node.queries.paging import Page, parse_cursor
from marketnode.node.queries.schema import from_sql_u64, sql_key


def _by_id_desc(conn: sqlite3.Connection, table: str, columns: str, filters: list[tuple[str, Any]],
                limit: int, cursor: str | None, id_column: str = "id") -> Page:
    """Rows of ``table`` matching equality ``filters``, newest (highest id) first, one page."""
    where = [f"{column} = ?" for column, _ in filters]
    args: list[Any] = [value for _, value in filters]
    after = parse_cursor(cursor, 1)
    if after:
        where.append(f"{id_column} < ?")
        args.append(after[0])
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = conn.execute(f"SELECT {columns} FROM {table} {clause} ORDER BY {id_column} DESC LIMIT ?",
                        (*args, limit + 1)).fetchall()
    items = [dict(r) for r in rows[:limit]]
    next_cursor = str(rows[limit - 1][id_column]) if len(rows) > limit else None
    return Page(items, next_cursor)


def list_shops(conn: sqlite3.Connection, *, owner: bytes | None, region: str | None, include_closed: bool,
               limit: int, cursor: str | None) -> Page:
    filters: list[tuple[str, Any]] = []
    if owner is not None:
        filters.append(("owner", owner))
    if region is not None:
        filters.append(("region", region))
    if not include_closed:
        filters.append(("open", 1))
    return _by_id_desc(conn, "shops", "id, owner, name, region, open, created_ms", filters, limit, cursor)


ORDER_COLUMNS = ("id, listing, shop, buyer, seller, arbiter, status, quantity, asset, total, placed_ms, "
                 "updated_ms, deadline_ms")


def list_orders(conn: sqlite3.Connection, *, buyer: bytes | None, seller: bytes | None, status: str | None,
                limit: int, cursor: str | None) -> Page:
    filters: list[tuple[str, Any]] = []
    if buyer is not None:
        filters.append(("buyer", buyer))
    if seller is not None:
        filters.append(("seller", seller))
    if status is not None:
        filters.append(("status", status))
    page = _by_id_desc(conn, "orders", ORDER_COLUMNS, filters, limit, cursor)
    for item in page.items:
        item["total"] = from_sql_u64(item["total"])
    return page


def order_timeline(conn: sqlite3.Connection, order_id: int) -> list[dict[str, Any]]:
    """Every status change of the order, in chain order."""
    rows = conn.execute(
        "SELECT status, height, tx_index, time_ms, deadline_ms, actor, tx_hash FROM order_events "
        "WHERE order_id = ? ORDER BY height, tx_index", (order_id,)).fetchall()
    return [dict(r) for r in rows]


def list_reviews(conn: sqlite3.Connection, *, listing: int | None, seller: bytes | None, limit: int,
                 cursor: str | None) -> Page:
    filters: list[tuple[str, Any]] = []
    if listing is not None:
        filters.append(("listing", sql_key(listing)))
    if seller is not None:
        filters.append(("seller", seller))
    return _by_id_desc(conn, "reviews", "order_id, listing, seller, reviewer, overall, time_ms", filters, limit,
                       cursor, id_column="order_id")


def listing_sales(conn: sqlite3.Connection, listing_id: int) -> int:
    row = conn.execute("SELECT sales FROM listings WHERE id = ?", (listing_id,)).fetchone()
    return row[0] if row else 0


def shop_listing_count(conn: sqlite3.Connection, shop_id: int) -> int:
    row = conn.execute("SELECT count(*) FROM listings WHERE shop = ? AND active = 1", (shop_id,)).fetchone()
    return row[0]


def certificates_of_record(conn: sqlite3.Connection, record_id: str) -> list[int]:
    return [r[0] for r in conn.execute("SELECT id FROM certificates WHERE record = ? ORDER BY id", (record_id,))]


RECENT_PURCHASES = 20
CO_PURCHASE_FANOUT = 30


def _also_bought(conn: sqlite3.Connection, bought: list[int], count: int) -> list[sqlite3.Row]:
    """Listings most often bought by buyers of ``bought``: the top CO_PURCHASE_FANOUT of each, summed.

    Reading a bounded top list per bought item (an index walk) keeps this
    cheap even for an item thousands of buyers share.
    """
    scores: dict[int, int] = {}
    for listing in bought:
        for other, buyers in conn.execute(
                "SELECT other, buyers FROM co_purchases WHERE listing = ? ORDER BY buyers DESC LIMIT ?",
                (listing, CO_PURCHASE_FANOUT)):
            scores[other] = scores.get(other, 0) + buyers
    best = sorted(scores, key=lambda other: (-scores[other], -other))[:count]
    if not best:
        return []
    rows = conn.execute(f"SELECT {LISTING_COLUMNS} FROM listings AS l WHERE l.id IN ({','.join('?' * len(best))}) "
                        "AND l.active = 1", best).fetchall()
    return sorted(rows, key=lambda row: (-scores[row["id"]], -row["sales"], -row["id"]))


def recommend(conn: sqlite3.Connection, buyer: bytes, limit: int) -> list[dict[str, Any]]:
    """Listings for ``buyer``: also bought by buyers of its items, then popular in its categories, then popular.

    Each list is read along an index and capped, so the cost does not grow
    with the number of listings; already-bought and own listings are skipped.
    """
    bought = [r[0] for r in conn.execute(
        "SELECT listing FROM purchases WHERE buyer = ? ORDER BY height DESC LIMIT ?", (buyer, RECENT_PURCHASES))]
    skip = set(bought)
    picked: list[dict[str, Any]] = []

    def take(rows: list[sqlite3.Row], reason: str) -> None:
        for row in rows:
            if len(picked) >= limit:
                return
            if row["id"] in skip or row["seller"] == buyer:
                continue
            skip.add(row["id"])
            item = listing_row(row)
            item["reason"] = reason
            picked.append(item)

    if bought:
        marks = ",".join("?" * len(bought))
        take(_also_bought(conn, bought, limit + len(skip)), "also_bought")
        categories = [r[0] for r in conn.execute(
            f"SELECT DISTINCT category FROM listings WHERE id IN ({marks})", bought)]
        for category in categories:
            if len(picked) >= limit:
                break
            take(conn.execute(
                f"SELECT {LISTING_COLUMNS} FROM listings AS l WHERE l.category = ? AND l.active = 1 "
                "ORDER BY l.sales DESC, l.id DESC LIMIT ?", (category, limit + len(skip))).fetchall(),
                "popular_in_category")
    if len(picked) < limit:
        take(conn.execute(
            f"SELECT {LISTING_COLUMNS} FROM listings AS l WHERE l.active = 1 ORDER BY l.sales DESC, l.id DESC "
            "LIMIT ?", (limit + len(skip),)).fetchall(), "popular")
    return picked
