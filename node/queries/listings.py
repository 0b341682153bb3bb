"""listing_search: for each query a plan whose first page costs about the same at 100 or 100,000 listings.

Plans never rest on SQLite's statistics: the index grows block by block and
is seldom analyzed, and without statistics SQLite sorted every listing for a
plain "newest" page. So each statement names its index (INDEXED BY) or its
join order (CROSS JOIN). Where two plans could win, a count that stops at
SORT_ALL_MATCHES picks one; every plan returns the same rows in the same
order (tests/api/test_listing_search_plans.py checks them against brute
force). Read-only.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from marketnode.core.encoding import INT_MAX
from marketnode.node.queries import facets
from marketnode.node.queries.paging import BadCursor, Page, parse_cursor
from marketnode.node.queries.schema import MAX_SQL_INT, from_sql_u64, sql_key, to_sql_u64

SORTS = ("newest", "price_asc", "price_desc", "rating", "relevance")
MAX_QUERY_WORDS = 8
MAX_RELEVANCE_OFFSET = 1000
RELEVANCE_CANDIDATES = 2000
# Up to this many matches, fetching and sorting them all is cheaper than walking a sort index.
SORT_ALL_MATCHES = 1000
# A text search sorted by price or rating steps along the sort index this many listings at first, doubling
# up to MAX_STEP_LISTINGS while the page is not full.
FIRST_STEP_LISTINGS = 256
MAX_STEP_LISTINGS = 4096
# Relevance reads FTS5 alone when at most this many listings are inactive (see _relevance).
FEW_INACTIVE = 1000
INACTIVE_IDS = "SELECT id FROM listings INDEXED BY listings_price WHERE active = 0"
# A price filter goes into the FTS5 query (so FTS5 skips rows outside it) when this many bucket tokens cover it.
RANGE_COVER_TOKENS = 4
# A last word with more longer words in the index than this stays an FTS5 prefix query.
PREFIX_TERMS = 8
_WORD_RE = re.compile(r"\w+", re.UNICODE)

LISTING_COLUMNS = ("l.id, l.shop, l.seller, l.type, l.category, l.title, l.tags, l.asset, l.price, l.stock, "
                   "l.active, l.created_ms, l.rating_count, l.rating_milli, l.sales")
TEXT_COLUMNS = "{title description tags}"
FTS_JOIN = "listings_fts AS f CROSS JOIN listings AS l ON l.id = f.rowid"
# Relevance: bm25 over the text columns only, so filters (facet tokens in the query) never move a rank; a word
# in the title counts most, then in a tag, then in the description.
BM25 = "bm25(listings_fts, 3.0, 1.0, 2.0, 0.0)"


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


def words_of(text: str | None) -> tuple[str, ...]:
    return tuple(_WORD_RE.findall(text.lower())[:MAX_QUERY_WORDS]) if text else ()


def word_forms(word: str) -> list[str]:
    """``word`` and its simple English singular or plural forms: cups/cup, berries/berry, boxes/box, glass/glasses.

    Deliberately simple (no stemmer: a stemmed index breaks type-ahead, "cerami" would not find
    "ceramics"); only ASCII letters are inflected. ``word`` comes first.
    """
    forms = [word]
    if not (word.isascii() and word.isalpha()) or len(word) < 3:
        return forms
    sibilant = ("s", "x", "z", "ch", "sh")
    if len(word) > 4 and word.endswith("ies"):
        forms.append(word[:-3] + "y")
    elif len(word) > 3 and word.endswith("es"):
        forms += [word[:-1]] + ([word[:-2]] if word[:-2].endswith(sibilant) else [])
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        forms.append(word[:-1])
    elif word.endswith("y") and word[-2] not in "aeiou":
        forms.append(word[:-1] + "ies")
    else:
        forms.append(word + ("es" if word.endswith(sibilant) else "s"))
    return forms


def _any(phrases: list[str]) -> str:
    return phrases[0] if len(phrases) == 1 else "(" + " OR ".join(phrases) + ")"


def _exact_group(word: str, known: set[str] | None = None) -> str:
    """A word that must match as a whole word, in any of its forms (only those in ``known``, when given)."""
    forms = word_forms(word)
    return _any([f'"{form}"' for form in forms[:1] + [f for f in forms[1:] if known is None or f in known]])


def _last_group(word: str, terms: list[str] | None, known: set[str] | None = None) -> str:
    """The last word: a prefix (or the indexed ``terms`` it stands for), or another form of it as a whole word."""
    others = [f'"{form}"' for form in word_forms(word)[1:]
              if not form.startswith(word) and (known is None or form in known)]  # the prefix has the longer ones
    if len(word) < 2:
        head = [f'"{word}"']
    elif terms is None:
        head = [f'"{word}"*']
    else:
        head = [f'"{term}"' for term in terms]
    return _any(head + others)


def fts_query(text: str) -> str | None:
    """Free text → an FTS5 query: every word must match in one of its forms, the last also as a prefix.

    Words are quoted, so FTS5 operators in the input are never interpreted.
    Only the last word is a prefix: a prefix of every word would merge the
    doclists of every longer word sharing it, for each word. Each word may
    also match in a simple singular or plural form (word_forms). This is
    what a search means; plans may ask FTS5 an equivalent, cheaper question.
    """
    words = words_of(text)
    if not words:
        return None
    *exact, last = words
    return " AND ".join([_exact_group(w) for w in exact] + [_last_group(last, None)])


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


# -- helpers ------------------------------------------------------------------


def listing_row(row: sqlite3.Row) -> dict[str, Any]:
    out = dict(row)
    out.pop("score", None)
    out["tags"] = json.loads(out["tags"])
    out["active"] = bool(out["active"])
    out["price"] = from_sql_u64(out["price"])
    return out


def _page(rows: list[sqlite3.Row], limit: int, cursor_of: Callable[[sqlite3.Row], str]) -> Page:
    items = [listing_row(r) for r in rows[:limit]]
    return Page(items, cursor_of(rows[limit - 1]) if len(rows) > limit else None)


def _bounded_count(conn: sqlite3.Connection, sql: str, args: list[Any], most: int | None = None) -> int:
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
    return _page(rows, q.limit, order.cursor_of)


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
        count = _bounded_count(conn, f"SELECT 1 FROM listings INDEXED BY {index} WHERE {condition}", args)
        if count <= SORT_ALL_MATCHES and (best is None or count < best[0]):
            best = (count, index)
    return ordered if best is None else best[1]


def _plain_indexes(q: ListingQuery, order: SortOrder) -> tuple[str | None, list[tuple[str, str, list[Any]]]]:
    """(the index in sort order, [(filter index, its condition, args)] worth counting)."""
    by_seller = ("listings_seller", "seller = ?", [q.seller])
    by_shop = ("listings_shop", "shop = ?", [None if q.shop is None else sql_key(q.shop)])
    by_asset = ("listings_asset", "asset = ? AND active = 1", [q.asset])
    has_range = q.min_price is not None or q.max_price is not None
    if q.category is not None:
        by_range = ("listings_cat_price", "category = ? AND active = 1 AND price BETWEEN ? AND ?",
                    [q.category, *q.price_range_sql()])
    else:
        by_range = ("listings_price", "active = 1 AND price BETWEEN ? AND ?", q.price_range_sql())
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


# -- with text: FTS5 finds the matches, facet tokens in the same query filter them --


def _prefix_terms(conn: sqlite3.Connection, word: str) -> list[str] | None:
    """The indexed words starting with ``word`` (itself first), or None to leave it an FTS5 prefix query.

    FTS5 answers a prefix longer than its prefix indexes (2 and 3) by merging
    every matching word's doclist before returning a row; the same words as
    an OR are read lazily. The vocabulary scan starts just above ``word``
    itself, so a complete word with no longer neighbours costs nothing.
    Only ASCII letters and digits: other text is case- and accent-folded by
    the tokenizer, which this lookup does not repeat.
    """
    if len(word) <= 3 or not (word.isascii() and word.isalnum()):
        return None
    above = word[:-1] + chr(ord(word[-1]) + 1)
    longer = [row[0] for row in conn.execute(
        "SELECT term FROM listings_terms WHERE term >= ? AND term < ? LIMIT ?", (word + "\x01", above, PREFIX_TERMS))]
    return None if len(longer) >= PREFIX_TERMS else [word, *longer]


def _text_match(conn: sqlite3.Connection, words: tuple[str, ...], ranked: bool) -> str:
    """The text part of the FTS5 query, as fts_query means it.

    A last word no other word extends is asked exactly (same rows, same
    bm25). Otherwise it becomes an OR of its words, unless the result is
    ranked: bm25 weighs an OR of words otherwise than the prefix phrase.
    """
    *exact, last = words
    terms = _prefix_terms(conn, last) if len(last) >= 2 else None
    if terms is not None and len(terms) > 1 and ranked:
        terms = None
    known = _indexed_forms(conn, words)
    phrases = [_exact_group(w, known) for w in exact] + [_last_group(last, terms, known)]
    return f"{TEXT_COLUMNS}: ({' AND '.join(phrases)})"


def _indexed_forms(conn: sqlite3.Connection, words: tuple[str, ...]) -> set[str]:
    """Which other forms of the words the index holds: a form no listing has is left out of the OR (same rows,
    same bm25, and FTS5 merges one doclist fewer)."""
    forms = sorted({form for word in words for form in word_forms(word)[1:]})
    if not forms:
        return set()
    marks = ", ".join("?" * len(forms))
    return {row[0] for row in conn.execute(f"SELECT term FROM listings_terms WHERE term IN ({marks})", forms)}


def _match(q: ListingQuery, text: str, cover: list[str] | None = None) -> str:
    """The FTS5 query: the text, the filters that are facets, and optionally a bucket cover."""
    parts = [text]
    tokens = facets.facet_tokens(category=q.category, shop=q.shop, seller=q.seller, type=q.type, asset=q.asset)
    if tokens:
        parts.append(f"facets: ({' '.join(tokens)})")
    if cover:
        parts.append(f"facets: ({' OR '.join(cover)})")
    return " AND ".join(parts)


def _range_cover(q: ListingQuery) -> list[str] | None:
    """A short price cover for a narrow price filter, so FTS5 skips the rows outside it (None: filter rows)."""
    if q.min_price is None and q.max_price is None:
        return None
    return facets.price_cover(*q.price_range(), max_tokens=RANGE_COVER_TOKENS)


def _text_newest(conn: sqlite3.Connection, q: ListingQuery) -> Page:
    """FTS5 reads matches newest first (its rowid order), so the page stops the read."""
    order = ORDERS["newest"]
    where, args = q.row_filters()
    keyset, keyset_args = order.keyset(order.after(q.cursor), id_column="f.rowid")
    match = _match(q, _text_match(conn, q.words, ranked=False), _range_cover(q))
    sql = (f"SELECT {LISTING_COLUMNS} FROM {FTS_JOIN} WHERE listings_fts MATCH ? AND {' AND '.join(where + keyset)} "
           "ORDER BY f.rowid DESC LIMIT ?")
    rows = conn.execute(sql, (match, *args, *keyset_args, q.limit + 1)).fetchall()
    return _page(rows, q.limit, order.cursor_of)


def _relevance(conn: sqlite3.Connection, q: ListingQuery) -> Page:
    """bm25 of the RELEVANCE_CANDIDATES newest matches, best first; pages by position (bm25 is recomputed)."""
    after = parse_cursor(q.cursor, 1)
    offset = after[0] if after else 0
    if offset > MAX_RELEVANCE_OFFSET:
        raise BadCursor(f"relevance results go at most {MAX_RELEVANCE_OFFSET} deep; narrow the query")
    match = _match(q, _text_match(conn, q.words, ranked=True), _range_cover(q))
    where, args = q.row_filters()
    source, condition = FTS_JOIN, " AND ".join(where)
    if not q.has_row_only_filters() and _bounded_count(conn, INACTIVE_IDS, [], FEW_INACTIVE) <= FEW_INACTIVE:
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
    return _page(rows, q.limit, lambda _row: str(offset + q.limit))


def _text_sorted(conn: sqlite3.Connection, q: ListingQuery, order: SortOrder) -> Page:
    """Text sorted by price or rating: sort every match when few, else walk the sort index in steps.

    The count leaves the price range out (an OR of buckets is the costly
    part of an FTS5 query); the range is then applied to the rows.
    """
    text = _text_match(conn, q.words, ranked=False)
    match = _match(q, text)
    count = _bounded_count(conn, "SELECT 1 FROM listings_fts WHERE listings_fts MATCH ?", [match])
    if count > SORT_ALL_MATCHES:
        return _stepped(conn, q, order, text)
    where, args = q.row_filters()
    keyset, keyset_args = order.keyset(order.after(q.cursor))
    sql = (f"SELECT {LISTING_COLUMNS} FROM {FTS_JOIN} WHERE listings_fts MATCH ? AND {' AND '.join(where + keyset)} "
           f"ORDER BY {order.sql()} LIMIT ?")
    rows = conn.execute(sql, (match, *args, *keyset_args, q.limit + 1)).fetchall()
    return _page(rows, q.limit, order.cursor_of)


@dataclass(frozen=True)
class _Walk:
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


def _stepped(conn: sqlite3.Connection, q: ListingQuery, order: SortOrder, text: str) -> Page:
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
        walk = _Walk(order, order.category_index, "category = ? AND active = 1", [q.category])
    else:
        walk = _Walk(order, order.index or "", "active = 1", [])
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
            rows += _step_rows(conn, q, order, text, (first, last), after, q.limit + 1 - len(rows))
        if edge is None:
            break
        bound = edge if edge != bound else bound + step
        listings = min(listings * 2, MAX_STEP_LISTINGS)
    return _page(rows, q.limit, order.cursor_of)


def _step_rows(conn: sqlite3.Connection, q: ListingQuery, order: SortOrder, text: str, span: tuple[int, int],
               after: tuple[int, ...] | None, need: int) -> list[sqlite3.Row]:
    """The matches valued within ``span``, in sort order, at most ``need``."""
    assert order.column is not None and order.cover is not None
    first, last = span
    where, args = q.row_filters()
    keyset, keyset_args = order.keyset(after)
    match = _match(q, text, order.cover(first, last))
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
