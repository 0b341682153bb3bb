"""listing_search: for each query a plan whose first page costs about the same at 100 or 100,000 listings.

Plans never rest on SQLite's statistics: the index grows block by block and
is seldom analyzed, and without statistics SQLite sorted every listing for a
plain "newest" page. So each statement names its index (INDEXED BY) or its
join order (CROSS JOIN). Where two plans could win, a count that stops at
SORT_ALL_MATCHES picks one; every plan returns the same rows in the same
order (tests/api/test_listing_search_plans.py checks them against brute
force). Read-only. The shared parts are in listing_query.py, the text
matching in text_match.py, the stepped walk in stepped.py.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from marketnode.node.queries.listing_query import (
    FTS_JOIN,
    LISTING_COLUMNS,
    ORDERS,
    Candidate,
    ListingQuery,
    SortOrder,
    page_of,
)
from marketnode.node.queries.paging import BadCursor, Page, parse_cursor
from marketnode.node.queries.schema import sql_key
from marketnode.node.queries.stepped import stepped
from marketnode.node.queries.text_match import match_query, range_cover, text_match, words_of

# Up to this many matches, fetching and sorting them all is cheaper than walking a sort index.
SORT_ALL_MATCHES = 1000
SORTS = ("newest", "price_asc", "price_desc", "rating", "relevance")
MAX_RELEVANCE_OFFSET = 1000
RELEVANCE_CANDIDATES = 2000
# Relevance reads FTS5 alone when at most this many listings are inactive (see _relevance).
FEW_INACTIVE = 1000
INACTIVE_IDS = "SELECT id FROM listings INDEXED BY listings_price WHERE active = 0"
# Relevance: bm25 over the text columns only, so filters (facet tokens in the query) never move a rank; a word
# in the title counts most, then in a tag, then in the description.
BM25 = "bm25(listings_fts, 3.0, 1.0, 2.0, 0.0)"


def search_listings(conn: sqlite3.Connection, *, text: str | None = None, category: str | None = None,
                    shop: int | None = None, seller: bytes | None = None, type: str | None = None,
                    min_price: int | None = None, max_price: int | None = None, asset: str | None = None,
                    in_stock: bool = False, sort: str | None = None, limit: int = 20,
                    cursor: str | None = None) -> Page:
    """Active listings matching every given filter, in ``sort`` order, one page."""
    words = words_of(text)
    sort = sort or ("relevance" if words else "newest")
    if sort == "relevance" and not words:
        sort = "newest"
    q = ListingQuery(words, category, shop, seller, type, min_price, max_price, asset, in_stock, sort, limit, cursor)
    if not words:
        return _plain(conn, q, ORDERS[sort])
    if sort == "relevance":
        return _relevance(conn, q)
    if sort == "newest":
        return _text_newest(conn, q)
    return _text_sorted(conn, q, ORDERS[sort])


def bounded_count(conn: sqlite3.Connection, sql: str, args: list[Any], most: int | None = None) -> int:
    """How many rows ``sql`` yields, counting no further than ``most`` (default SORT_ALL_MATCHES) + 1."""
    most = SORT_ALL_MATCHES if most is None else most
    return conn.execute(f"SELECT count(*) FROM ({sql} LIMIT ?)", (*args, most + 1)).fetchone()[0]


# -- without text: the listings table alone -----------------------------------


def _plain(conn: sqlite3.Connection, q: ListingQuery, order: SortOrder) -> Page:
    """Walk the index that yields ``order`` under the filters, or fetch a small filter's rows and sort them."""
    where, args = q.row_filters()
    keyset, keyset_args = order.keyset(order.after(q.cursor))
    index = _plain_index(conn, q, order)
    source = "listings AS l NOT INDEXED" if index is None else f"listings AS l INDEXED BY {index}"
    sql = f"SELECT {LISTING_COLUMNS} FROM {source} WHERE {' AND '.join(where + keyset)} ORDER BY {order.sql()} LIMIT ?"
    rows = conn.execute(sql, (*args, *keyset_args, q.limit + 1)).fetchall()
    return page_of(rows, q.limit, order.cursor_of)


def _plain_index(conn: sqlite3.Connection, q: ListingQuery, order: SortOrder) -> str | None:
    """The index to read (None: the table in id order).

    An index already in sort order costs about limit ÷ (share of rows passing
    the other filters); one holding a small filter's rows costs its size. So
    the smallest filter index wins when it holds at most SORT_ALL_MATCHES
    rows, and the sort-order index otherwise (then every filter passes at
    least SORT_ALL_MATCHES rows, so the walk meets a match every few rows).
    """
    ordered, candidates = _plain_indexes(q, order)
    best: tuple[int, str] | None = None
    for index, condition, args in candidates:
        count = bounded_count(conn, f"SELECT 1 FROM listings INDEXED BY {index} WHERE {condition}", args)
        if count <= SORT_ALL_MATCHES and (best is None or count < best[0]):
            best = (count, index)
    return ordered if best is None else best[1]


def _plain_indexes(q: ListingQuery, order: SortOrder) -> tuple[str | None, list[Candidate]]:
    """(the index in sort order, [(filter index, its condition, args)] worth counting)."""
    by_seller: Candidate = ("listings_seller", "seller = ?", [q.seller])
    by_shop: Candidate = ("listings_shop", "shop = ?", [None if q.shop is None else sql_key(q.shop)])
    by_asset: Candidate = ("listings_asset", "asset = ? AND active = 1", [q.asset])
    has_range = q.min_price is not None or q.max_price is not None
    by_range: Candidate
    if q.category is not None:
        by_range = ("listings_cat_price", "category = ? AND active = 1 AND price BETWEEN ? AND ?",
                    [q.category, *q.price_range_sql()])
    else:
        by_range = ("listings_price", "active = 1 AND price BETWEEN ? AND ?", [*q.price_range_sql()])
    if order.column is None:
        # by id: an equality filter's (value, id) index is in order; the narrowest such filter leads
        for present, index in ((q.seller, "listings_seller"), (q.shop, "listings_shop"),
                               (q.category, "listings_cat"), (q.asset, "listings_asset")):
            if present is not None:
                return index, [by_range] if has_range else []
        return None, [by_range] if has_range else []
    ordered = order.category_index if q.category is not None else order.index
    candidates = [c for c, present in ((by_seller, q.seller), (by_shop, q.shop), (by_asset, q.asset))
                  if present is not None]
    if has_range and order.column != "price":
        candidates.append(by_range)
    return ordered, candidates


def _text_newest(conn: sqlite3.Connection, q: ListingQuery) -> Page:
    """FTS5 reads matches newest first (its rowid order), so the page stops the read."""
    order = ORDERS["newest"]
    where, args = q.row_filters()
    keyset, keyset_args = order.keyset(order.after(q.cursor), id_column="f.rowid")
    match = match_query(q, text_match(conn, q.words, ranked=False), range_cover(q))
    sql = (f"SELECT {LISTING_COLUMNS} FROM {FTS_JOIN} WHERE listings_fts MATCH ? AND {' AND '.join(where + keyset)} "
           "ORDER BY f.rowid DESC LIMIT ?")
    rows = conn.execute(sql, (match, *args, *keyset_args, q.limit + 1)).fetchall()
    return page_of(rows, q.limit, order.cursor_of)


def _relevance(conn: sqlite3.Connection, q: ListingQuery) -> Page:
    """bm25 of the RELEVANCE_CANDIDATES newest matches, best first; pages by position (bm25 is recomputed)."""
    after = parse_cursor(q.cursor, 1)
    offset = after[0] if after else 0
    if offset > MAX_RELEVANCE_OFFSET:
        raise BadCursor(f"relevance results go at most {MAX_RELEVANCE_OFFSET} deep; narrow the query")
    match = match_query(q, text_match(conn, q.words, ranked=True), range_cover(q))
    where, args = q.row_filters()
    source, condition = FTS_JOIN, " AND ".join(where)
    if not q.has_row_only_filters() and bounded_count(conn, INACTIVE_IDS, [], FEW_INACTIVE) <= FEW_INACTIVE:
        # facet tokens already hold every other filter: leave out the few inactive ids instead of reading
        # each candidate's row to test it
        source, condition, args = "listings_fts AS f", f"f.rowid NOT IN ({INACTIVE_IDS})", []
    candidates = (f"SELECT f.rowid AS id, {BM25} AS score FROM {source} WHERE listings_fts MATCH ? AND {condition} "
                  f"ORDER BY f.rowid DESC LIMIT {RELEVANCE_CANDIDATES}")
    # rank the candidates, then read the page's rows only
    best = f"SELECT id, score FROM ({candidates}) ORDER BY score, id DESC LIMIT ? OFFSET ?"
    sql = (f"SELECT {LISTING_COLUMNS} FROM ({best}) AS r CROSS JOIN listings AS l ON l.id = r.id "
           "ORDER BY r.score, r.id DESC")
    rows = conn.execute(sql, (match, *args, q.limit + 1, offset)).fetchall()
    return page_of(rows, q.limit, lambda _row: str(offset + q.limit))


def _text_sorted(conn: sqlite3.Connection, q: ListingQuery, order: SortOrder) -> Page:
    """Text sorted by price or rating: sort every match when few, else walk the sort index in steps.

    The count leaves the price range out (an OR of buckets is the costly
    part of an FTS5 query); the range is then applied to the rows.
    """
    text = text_match(conn, q.words, ranked=False)
    match = match_query(q, text)
    count = bounded_count(conn, "SELECT 1 FROM listings_fts WHERE listings_fts MATCH ?", [match])
    if count > SORT_ALL_MATCHES:
        return stepped(conn, q, order, text)
    where, args = q.row_filters()
    keyset, keyset_args = order.keyset(order.after(q.cursor))
    sql = (f"SELECT {LISTING_COLUMNS} FROM {FTS_JOIN} WHERE listings_fts MATCH ? AND {' AND '.join(where + keyset)} "
           f"ORDER BY {order.sql()} LIMIT ?")
    rows = conn.execute(sql, (match, *args, *keyset_args, q.limit + 1)).fetchall()
    return page_of(rows, q.limit, order.cursor_of)
