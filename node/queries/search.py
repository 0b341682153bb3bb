"""Read-only queries over the query index: keyset pagination along an index, never OFFSET.

A cursor is the sort key of the last row of the previous page (``"id"`` or
``"value:id"``), so page N costs what page 1 costs. Every function takes
the connection and plain values and returns rows as dicts with raw bytes;
the RPC layer turns them into JSON.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

SORTS = ("newest", "price_asc", "price_desc", "rating", "relevance")
_WORD_RE = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS = 8
MAX_RELEVANCE_OFFSET = 1000


class BadCursor(ValueError):
    """The cursor was not produced by this query (the RPC layer answers -32602)."""


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


def _ints(cursor: str | None, count: int) -> tuple[int, ...] | None:
    if cursor is None:
        return None
    parts = cursor.split(":")
    if len(parts) != count or not all(p.isdecimal() and len(p) <= 20 for p in parts):
        raise BadCursor(f"cursor {cursor!r} is not one this query returned")
    return tuple(int(p) for p in parts)


def fts_query(text: str) -> str | None:
    """Free text → an FTS5 query: every word must match, as a prefix; operators are never passed through."""
    words = _WORD_RE.findall(text.lower())[:MAX_QUERY_WORDS]
    if not words:
        return None
    return " ".join(f'"{w}"*' for w in words)


def _listing_row(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["tags"] = json.loads(out["tags"])
    out["active"] = bool(out["active"])
    return out


LISTING_COLUMNS = ("l.id, l.shop, l.seller, l.type, l.category, l.title, l.tags, l.asset, l.price, l.stock, "
                   "l.active, l.created_ms, l.rating_count, l.rating_milli, l.sales")


def search_listings(conn: sqlite3.Connection, *, text: str | None = None, category: str | None = None,
                    shop: int | None = None, seller: bytes | None = None, type: str | None = None,
                    min_price: int | None = None, max_price: int | None = None, asset: str | None = None,
                    in_stock: bool = False, sort: str | None = None, limit: int = 20,
                    cursor: str | None = None) -> Page:
    """Active listings matching every given filter, in ``sort`` order, one page."""
    match = fts_query(text) if text else None
    sort = sort or ("relevance" if match else "newest")
    if sort == "relevance" and match is None:
        sort = "newest"
    where = ["l.active = 1"]
    args: list[Any] = []
    for column, value in (("category", category), ("shop", shop), ("seller", seller), ("type", type),
                          ("asset", asset)):
        if value is not None:
            where.append(f"l.{column} = ?")
            args.append(value)
    if min_price is not None:
        where.append("l.price >= ?")
        args.append(min_price)
    if max_price is not None:
        where.append("l.price <= ?")
        args.append(max_price)
    if in_stock:
        where.append("l.stock > 0")
    source = "listings AS l"
    if match is not None:
        source = "listings_fts AS f JOIN listings AS l ON l.id = f.rowid"
        where.append("listings_fts MATCH ?")
        args.append(match)
    order, key_of, offset = _listing_order(sort, cursor, where, args)
    sql = (f"SELECT {LISTING_COLUMNS} FROM {source} "
           f"WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ? OFFSET ?")
    rows = conn.execute(sql, (*args, limit + 1, offset)).fetchall()
    items = [_listing_row(r) for r in rows[:limit]]
    next_cursor = key_of(rows[limit - 1], offset + limit) if len(rows) > limit else None
    return Page(items, next_cursor)


def _listing_order(sort: str, cursor: str | None, where: list[str], args: list[Any]) -> tuple[str, Any, int]:
    """ORDER BY for ``sort``, the keyset condition for ``cursor``, how to make the next cursor, and an offset.

    Relevance (bm25) is a float recomputed per query, so it alone pages by
    position; every other sort pages by its key.
    """
    if sort == "newest":
        after = _ints(cursor, 1)
        if after:
            where.append("l.id < ?")
            args.append(after[0])
        return "l.id DESC", lambda r, _n: str(r["id"]), 0
    if sort in ("price_asc", "price_desc"):
        after = _ints(cursor, 2)
        if after:
            where.append("(l.price, l.id) > (?, ?)" if sort == "price_asc" else "(l.price, l.id) < (?, ?)")
            args.extend(after)
        order = "l.price ASC, l.id ASC" if sort == "price_asc" else "l.price DESC, l.id DESC"
        return order, lambda r, _n: f"{r['price']}:{r['id']}", 0
    if sort == "rating":
        after = _ints(cursor, 2)
        if after:
            where.append("(l.rating_milli, l.id) < (?, ?)")
            args.extend(after)
        return "l.rating_milli DESC, l.id DESC", lambda r, _n: f"{r['rating_milli']}:{r['id']}", 0
    after = _ints(cursor, 1)
    if after and after[0] > MAX_RELEVANCE_OFFSET:
        raise BadCursor(f"relevance results go at most {MAX_RELEVANCE_OFFSET} deep; narrow the query")
    return "f.rank, l.id DESC", lambda r, n: str(n), after[0] if after else 0


def _by_id_desc(conn: sqlite3.Connection, table: str, columns: str, filters: list[tuple[str, Any]],
                limit: int, cursor: str | None, id_column: str = "id") -> Page:
    """Rows of ``table`` matching equality ``filters``, newest (highest id) first, one page."""
    where = [f"{column} = ?" for column, _ in filters]
    args: list[Any] = [value for _, value in filters]
    after = _ints(cursor, 1)
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
    return _by_id_desc(conn, "orders", ORDER_COLUMNS, filters, limit, cursor)


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
        filters.append(("listing", listing))
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


RECENT_PURCHASES = 50


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
            item = _listing_row(row)
            item["reason"] = reason
            picked.append(item)

    if bought:
        marks = ",".join("?" * len(bought))
        take(conn.execute(
            f"""SELECT {LISTING_COLUMNS}, sum(c.buyers) AS score FROM co_purchases AS c
                JOIN listings AS l ON l.id = c.other
                WHERE c.listing IN ({marks}) AND l.active = 1
                GROUP BY c.other ORDER BY score DESC, l.sales DESC, l.id DESC LIMIT ?""",
            (*bought, limit + len(bought))).fetchall(), "also_bought")
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
