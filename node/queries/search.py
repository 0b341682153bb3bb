"""Read-only queries over the query index: keyset pagination along an index.

A cursor is the sort key of the last row of the previous page (``"id"`` or
``"value:id"``), so page N costs what page 1 costs; only relevance, a float
recomputed per query, pages by position (bounded). Every function takes
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
RELEVANCE_CANDIDATES = 2000
PLAIN_SORT_MATCHES = 4000
CHUNK_LISTINGS = 2000


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
    """Free text → an FTS5 query: every word must match, the last also as a prefix (type-ahead).

    Words are quoted, so FTS5 operators in the input are never interpreted.
    Only the last word is a prefix: a prefix of every word would merge the
    doclists of every longer word sharing it, for each word.
    """
    words = _WORD_RE.findall(text.lower())[:MAX_QUERY_WORDS]
    if not words:
        return None
    *exact, last = words
    return " ".join([f'"{w}"' for w in exact] + [f'"{last}"*' if len(last) >= 2 else f'"{last}"'])


def _listing_row(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out["tags"] = json.loads(out["tags"])
    out["active"] = bool(out["active"])
    return out


LISTING_COLUMNS = ("l.id, l.shop, l.seller, l.type, l.category, l.title, l.tags, l.asset, l.price, l.stock, "
                   "l.active, l.created_ms, l.rating_count, l.rating_milli, l.sales")

# Facets: a listing's filter values and sort buckets as tokens of the FTS row's `facets` column, so a text
# search with filters is one doclist intersection inside FTS5 instead of a join over every text match.
# Tokens are plain alphanumerics (hex where a value may hold separators); user text never reaches that column.
TEXT_COLUMNS = "{title description tags}"
RATING_BUCKET_MILLI = 250


def price_bucket(price: int) -> tuple[int, int, int]:
    """(bucket, lowest price in it, lowest price above it): 8 buckets per power of two, ordered like prices."""
    bits = price.bit_length()
    if bits < 4:
        return bits * 8 + price, price, price + 1
    shift = bits - 4
    sub = (price >> shift) & 7
    low = (8 | sub) << shift
    return bits * 8 + sub, low, low + (1 << shift)


def rating_bucket(rating_milli: int) -> tuple[int, int, int]:
    bucket = rating_milli // RATING_BUCKET_MILLI
    return bucket, bucket * RATING_BUCKET_MILLI, (bucket + 1) * RATING_BUCKET_MILLI


def facet_tokens(*, category: str | None = None, shop: int | None = None, seller: bytes | None = None,
                 type: str | None = None, asset: str | None = None) -> list[str]:
    """The facet tokens a listing carries for these values (and a query requires for these filters).

    Only selective filters are facets: active and in_stock hold for most
    listings, so intersecting with them would cost more than filtering rows.
    """
    tokens = []
    if category is not None:
        tokens.append("fc" + category.encode().hex())
    if shop is not None:
        tokens.append(f"fh{shop}")
    if seller is not None:
        tokens.append("fs" + seller.hex())
    if type is not None:
        tokens.append("ft" + type.encode().hex())
    if asset is not None:
        tokens.append("fx" + asset.encode().hex())
    return tokens


def listing_facets(*, category: str, shop: int, seller: bytes, type: str, asset: str, price: int,
                   rating_milli: int, **_ignored: Any) -> str:
    """The `facets` text of a listing's FTS row (the indexer writes it; searches match it)."""
    tokens = facet_tokens(category=category, shop=shop, seller=seller, type=type, asset=asset)
    price_fine = price_bucket(price)[0]
    tokens += [f"fp{price_fine}", f"fq{price_fine // 8}", f"fr{rating_bucket(rating_milli)[0]}"]
    return " ".join(tokens)


def _bucket_tokens(prefix: str, first: int, last: int) -> str:
    """FTS OR-expression for buckets first..last; whole powers of two of prices as one `fq` token each."""
    if prefix != "fp" or last - first < 16:
        return " OR ".join(f"{prefix}{b}" for b in range(first, last + 1))
    head_end, tail_start = (first // 8 + 1) * 8, (last // 8) * 8
    tokens = [f"fp{b}" for b in range(first, head_end)]
    tokens += [f"fq{octave}" for octave in range(head_end // 8, tail_start // 8)]
    tokens += [f"fp{b}" for b in range(tail_start, last + 1)]
    return " OR ".join(tokens)


def search_listings(conn: sqlite3.Connection, *, text: str | None = None, category: str | None = None,
                    shop: int | None = None, seller: bytes | None = None, type: str | None = None,
                    min_price: int | None = None, max_price: int | None = None, asset: str | None = None,
                    in_stock: bool = False, sort: str | None = None, limit: int = 20,
                    cursor: str | None = None) -> Page:
    """Active listings matching every given filter, in ``sort`` order, one page."""
    words = fts_query(text) if text else None
    sort = sort or ("relevance" if words else "newest")
    if sort == "relevance" and words is None:
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
    if words is None:
        return _page_listings(conn, "listings AS l", where, args, sort, limit, cursor, "l.id")
    facets = facet_tokens(category=category, shop=shop, seller=seller, type=type, asset=asset)
    match = f"{TEXT_COLUMNS}: ({words})" + (f" AND facets: ({' '.join(facets)})" if facets else "")
    source = "listings_fts AS f JOIN listings AS l ON l.id = f.rowid"
    if sort in ("price_asc", "price_desc", "rating"):
        low, high = (None, None) if sort == "rating" else (min_price, max_price)
        return _bucketed(conn, source, where, args, match, sort, limit, cursor, low, high)
    return _page_listings(conn, source, [*where, "listings_fts MATCH ?"], [*args, match], sort, limit, cursor,
                          "f.rowid")


def _page_listings(conn: sqlite3.Connection, source: str, where: list[str], args: list[Any], sort: str, limit: int,
                   cursor: str | None, id_column: str) -> Page:
    where, args = list(where), list(args)
    order, key_of, offset = _listing_order(sort, cursor, where, args, id_column)
    sql = f"SELECT {LISTING_COLUMNS} FROM {source} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ? OFFSET ?"
    if sort == "relevance":
        # bm25 over every match of a common word costs O(matches): rank the newest RELEVANCE_CANDIDATES only
        sql = (f"SELECT * FROM (SELECT {LISTING_COLUMNS}, f.rank AS rank FROM {source} "
               f"WHERE {' AND '.join(where)} ORDER BY f.rowid DESC LIMIT {RELEVANCE_CANDIDATES}) "
               "ORDER BY rank, id DESC LIMIT ? OFFSET ?")
    rows = conn.execute(sql, (*args, limit + 1, offset)).fetchall()
    return _page_of(rows, limit, lambda row: key_of(row, offset + limit))


def _page_of(rows: list[sqlite3.Row], limit: int, key_of: Any) -> Page:
    items = [_listing_row(r) for r in rows[:limit]]
    for item in items:
        item.pop("rank", None)
    return Page(items, key_of(rows[limit - 1]) if len(rows) > limit else None)


def _bucketed(conn: sqlite3.Connection, source: str, where: list[str], args: list[Any], match: str, sort: str,
              limit: int, cursor: str | None, low: int | None, high: int | None) -> Page:
    """Text search sorted by price or rating, exact, without sorting every match of a common word.

    Few matches (up to PLAIN_SORT_MATCHES): join and sort them all. Many: walk
    the sort index CHUNK_LISTINGS listings at a time, and in each chunk ask
    FTS5 only for matches carrying one of the chunk's sort-bucket facet
    tokens, so each step joins and sorts about one chunk's share of matches.
    Buckets are whole, so rows come out in order across chunks.
    """
    ascending = sort == "price_asc"
    column = "rating_milli" if sort == "rating" else "price"
    prefix, bucket_of = ("fr", rating_bucket) if sort == "rating" else ("fp", price_bucket)
    after = _ints(cursor, 2)
    order = f"l.{column} {'ASC' if ascending else 'DESC'}, l.id {'ASC' if ascending else 'DESC'}"
    base_where, base_args = [*where, "listings_fts MATCH ?"], [*args]
    if after:
        base_where.append(f"(l.{column}, l.id) {'>' if ascending else '<'} (?, ?)")
    keyset_args = list(after or ())
    # Only to pick a strategy (both are exact): FTS5 merges a prefix term's doclists up front, so count the
    # words without the trailing prefix, which FTS5 reads lazily and stops reading at the limit.
    count = conn.execute("SELECT count(*) FROM (SELECT rowid FROM listings_fts WHERE listings_fts MATCH ? LIMIT ?)",
                         (match.replace('"*', '"'), PLAIN_SORT_MATCHES + 1)).fetchone()[0]
    sql = f"SELECT {LISTING_COLUMNS} FROM {source} WHERE {' AND '.join(base_where)} ORDER BY {order} LIMIT ?"
    if count <= PLAIN_SORT_MATCHES:
        rows = conn.execute(sql, (*base_args, match, *keyset_args, limit + 1)).fetchall()
        return _page_of(rows, limit, lambda row: f"{row[column]}:{row['id']}")
    direction, compare = ("ASC", ">=") if ascending else ("DESC", "<=")
    chunk_end = (f"SELECT {column} FROM listings WHERE active = 1 AND {column} {compare} ? "
                 f"ORDER BY {column} {direction} LIMIT 1 OFFSET {CHUNK_LISTINGS}")
    extreme = conn.execute(f"SELECT max({column}) FROM listings WHERE active = 1").fetchone()[0] or 0
    bound = after[0] if after else ((low or 0) if ascending else (extreme if high is None else high))
    rows: list[sqlite3.Row] = []
    while len(rows) <= limit and (high is None or bound <= high) and (low is None or bound >= low) and bound >= 0:
        found = conn.execute(chunk_end, (bound,)).fetchone()
        final = found is None  # fewer than a chunk left: this step takes the rest
        edge = found[0] if found else (extreme if ascending else 0)
        first, last = bucket_of(bound)[0], bucket_of(edge)[0]
        tokens = _bucket_tokens(prefix, *sorted((first, last)))
        rows += conn.execute(sql, (*base_args, f"{match} AND facets: ({tokens})", *keyset_args,
                                   limit + 1 - len(rows))).fetchall()
        _, edge_low, edge_high = bucket_of(edge)
        if final or (not ascending and edge_low == 0):
            break
        bound = edge_high if ascending else edge_low - 1
    return _page_of(rows, limit, lambda row: f"{row[column]}:{row['id']}")


def _listing_order(sort: str, cursor: str | None, where: list[str], args: list[Any],
                   id_column: str) -> tuple[str, Any, int]:
    """ORDER BY for ``sort``, the keyset condition for ``cursor``, how to make the next cursor, and an offset.

    Newest walks ids downwards (with text, the FTS table's own rowid order, so
    no sort is needed); price and rating walk their indexes. Relevance (bm25)
    is a float recomputed per query, so it alone pages by position.
    """
    if sort == "newest":
        after = _ints(cursor, 1)
        if after:
            where.append(f"{id_column} < ?")
            args.append(after[0])
        return f"{id_column} DESC", lambda r, _n: str(r["id"]), 0
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
    return "", lambda r, n: str(n), after[0] if after else 0


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
            item = _listing_row(row)
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
