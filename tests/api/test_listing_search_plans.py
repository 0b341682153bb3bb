"""Every plan of listing_search returns exactly what filtering and sorting every listing by hand returns.

The planner's thresholds are shrunk in some runs so that a few thousand
listings take every plan (sort all matches, stepped walks, single-value
steps, prefix expansion, filter indexes); pages are walked with their
cursors and compared with brute force over all rows.
"""

from __future__ import annotations

import random
import sqlite3
from typing import Any

import pytest

from marketnode.node.queries import facets, listings, measure, schema, search, stepped, text_match

WORDS = ["lamp", "lamps", "lampshade", "lantern", "brass", "oak", "vintage", "velvet", "chair", "table", "teak",
         "linen", "wool", "glass"]
CATEGORIES = ["art", "home", "fashion", "food"]
ASSETS = ["MKT", "USDX"]
TYPES = ["physical", "digital", "service"]
SELLERS = [bytes([i]) * 32 for i in range(1, 9)]
# clusters of equal prices, a wide spread, one price most listings share, and both sides of 2^63 (SQLite's edge)
PRICES = [100, 100, 101, 120, 150, 199, 200, 255, 256, 999, 999, 999, 1000, 5000, 65_535, 10**9, 2**62,
          2**63 - 51, 2**63 - 1, 2**63, 2**64 - 51]
RATINGS = [0, 0, 0, 1000, 2500, 3333, 4000, 4750, 5000]
LISTINGS = 3000


def _listing(rng: random.Random, i: int) -> dict[str, Any]:
    title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
    rated = rng.choice(RATINGS)
    price = 777 if rng.random() < 0.3 else rng.choice(PRICES) + rng.choice([0, 0, 0, rng.randint(0, 50)])
    return dict(
        id=i, shop=rng.randint(1, 16), seller=rng.choice(SELLERS), type=rng.choice(TYPES),
        category=rng.choice(CATEGORIES), title=title, tags=sorted({rng.choice(WORDS)} if rng.random() < 0.3 else set()),
        asset=rng.choice(ASSETS), price=price, stock=0 if rng.random() < 0.15 else rng.randint(1, 9),
        active=rng.random() < 0.9, created_ms=i, rating_count=1 if rated else 0, rating_milli=rated, sales=0,
        description=rng.choice(["", "solid " + rng.choice(WORDS), "made by hand"]))


@pytest.fixture(scope="module")
def conn() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.row_factory = sqlite3.Row
    schema.create(conn)
    rng = random.Random(11)
    with conn:
        conn.execute("BEGIN")
        measure.insert_listings(conn, [_listing(rng, i) for i in range(1, LISTINGS + 1)])
    return conn


def brute_force(conn: sqlite3.Connection, text: str | None = None, sort: str | None = None,
                **filters: Any) -> list[int]:
    """Every matching id in order, from all rows: FTS5 decides only which rows the text matches."""
    rows = [{**r, "price": schema.from_sql_u64(r["price"])} for r in map(dict, conn.execute("SELECT * FROM listings"))]
    scores: dict[int, float] = {}
    if text:
        match = f"{text_match.TEXT_COLUMNS}: ({text_match.fts_query(text)})"
        scores = dict(conn.execute(f"SELECT rowid, {listings.BM25} FROM listings_fts WHERE listings_fts MATCH ?",
                                   (match,)).fetchall())
    sort = sort or "relevance"
    if not text and sort == "relevance":
        sort = "newest"

    def keep(row: dict[str, Any]) -> bool:
        if not row["active"] or (text and row["id"] not in scores):
            return False
        if filters.get("in_stock") and row["stock"] <= 0:
            return False
        if row["price"] < filters.get("min_price", 0) or row["price"] > filters.get("max_price", 2**64 - 1):
            return False
        return all(row[k] == v for k, v in filters.items() if k in ("category", "shop", "seller", "type", "asset"))

    ids = sorted((r["id"] for r in rows if keep(r)), reverse=True)
    by_id = {r["id"]: r for r in rows}
    if sort == "relevance":
        return sorted(ids[:listings.RELEVANCE_CANDIDATES], key=lambda i: (scores[i], -i))
    if sort == "price_asc":
        return sorted(ids, key=lambda i: (by_id[i]["price"], i))
    if sort == "price_desc":
        return sorted(ids, key=lambda i: (by_id[i]["price"], i), reverse=True)
    if sort == "rating":
        return sorted(ids, key=lambda i: (by_id[i]["rating_milli"], i), reverse=True)
    return ids


def walk_pages(conn: sqlite3.Connection, limit: int, **kwargs: Any) -> list[int]:
    seen: list[int] = []
    cursor = None
    for _ in range(LISTINGS):
        page = search.search_listings(conn, limit=limit, cursor=cursor, **kwargs)
        seen += [item["id"] for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("paging did not end")


def random_query(rng: random.Random) -> dict[str, Any]:
    query: dict[str, Any] = {}
    if rng.random() < 0.7:
        words = rng.sample(WORDS, rng.choice([1, 1, 1, 2]))
        last = words[-1]
        words[-1] = last[:rng.randint(2, len(last))] if rng.random() < 0.5 else last
        query["text"] = " ".join(words)
    query["sort"] = rng.choice(["newest", "price_asc", "price_desc", "rating", "relevance", None])
    for name, values in (("category", CATEGORIES), ("shop", range(1, 17)), ("seller", SELLERS), ("type", TYPES),
                         ("asset", ASSETS)):
        if rng.random() < 0.2:
            query[name] = rng.choice(values)
    if rng.random() < 0.3:
        query["min_price"] = rng.choice([0, 100, 150, 256, 777, 1000, 70_000, 2**63 - 1, 2**63])
    if rng.random() < 0.3:
        query["max_price"] = min(query.get("min_price", 0) + rng.choice([0, 5, 60, 1000, 10**12, 2**63]), 2**64 - 1)
    if rng.random() < 0.2:
        query["in_stock"] = True
    return query


SETTINGS = {
    "default thresholds": {},
    "tiny thresholds": {"SORT_ALL_MATCHES": 3, "FIRST_STEP_LISTINGS": 2, "MAX_STEP_LISTINGS": 16,
                        "RELEVANCE_CANDIDATES": 40, "PREFIX_TERMS": 2, "RANGE_COVER_TOKENS": 16,
                        "FEW_INACTIVE": 0},
    "small thresholds": {"SORT_ALL_MATCHES": 40, "FIRST_STEP_LISTINGS": 8, "MAX_STEP_LISTINGS": 200,
                         "RELEVANCE_CANDIDATES": 300, "RANGE_COVER_TOKENS": 1},
}


# Each threshold lives in the module whose plan reads it.
THRESHOLD_MODULES = {"SORT_ALL_MATCHES": listings, "RELEVANCE_CANDIDATES": listings, "FEW_INACTIVE": listings,
                     "FIRST_STEP_LISTINGS": stepped, "MAX_STEP_LISTINGS": stepped,
                     "PREFIX_TERMS": text_match, "RANGE_COVER_TOKENS": text_match}


@pytest.mark.parametrize("setting", SETTINGS)
def test_every_plan_pages_through_exactly_the_brute_force_order(conn: sqlite3.Connection,
                                                                monkeypatch: pytest.MonkeyPatch, setting: str) -> None:
    for name, value in SETTINGS[setting].items():
        monkeypatch.setattr(THRESHOLD_MODULES[name], name, value)
    rng = random.Random(setting)
    for _ in range(120):
        query = random_query(rng)
        expected = brute_force(conn, **query)
        limit = rng.choice([1, 3, 7, 20])
        first = [item["id"] for item in search.search_listings(conn, limit=limit, **query).items]
        assert first == expected[:limit], query
        if query.get("text") and query.get("sort") in ("relevance", None):
            expected = expected[:listings.MAX_RELEVANCE_OFFSET + limit]
            assert walk_pages(conn, limit, **query)[:len(expected)] == expected, query
        else:
            assert walk_pages(conn, limit, **query) == expected, query


def test_a_long_tie_on_one_price_pages_in_id_order(conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listings, "SORT_ALL_MATCHES", 3)
    monkeypatch.setattr(stepped, "FIRST_STEP_LISTINGS", 2)
    for sort in ("price_asc", "price_desc"):
        query = {"text": "lamp", "min_price": 777, "max_price": 777, "sort": sort}
        expected = brute_force(conn, **query)
        assert len(expected) > 50
        assert walk_pages(conn, 9, **query) == expected


def test_plain_newest_walks_the_table_without_sorting(conn: sqlite3.Connection) -> None:
    """Without statistics SQLite once sorted every listing for this page; the plan must not depend on them."""
    recorder = measure._Recorder(conn)
    search.search_listings(recorder, sort="newest")  # type: ignore[arg-type]
    (sql, params), = recorder.statements
    plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
    assert "TEMP B-TREE" not in plan


def test_price_buckets_are_ordered_like_prices() -> None:
    previous = (-1, -1, 0)
    for price in [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 100, 255, 256, 1000, 10**6, 2**63, 2**64 - 1]:
        bucket, low, high = facets.price_bucket(price)
        assert low <= price < high and bucket >= previous[0]
        assert bucket > previous[0] or low == previous[1]
        previous = (bucket, low, high)


@pytest.mark.parametrize("max_tokens", [1, 2, 4, 16])
def test_a_price_cover_holds_a_token_of_every_price_in_its_range(max_tokens: int) -> None:
    rng = random.Random(max_tokens)
    for _ in range(300):
        low = rng.choice([0, 1, 5, 100, 200, 1000, rng.randint(0, 2**40)])
        high = low + rng.choice([0, 1, 7, 100, 400, 5000, 2**30])
        cover = facets.price_cover(low, high, max_tokens=max_tokens)
        if cover is None:
            continue
        assert len(cover) <= max_tokens
        for price in {low, high, (low + high) // 2, rng.randint(low, high)}:
            carried = set(facets.listing_facets(category="c", shop=1, seller=b"s", type="t", asset="a", price=price,
                                                rating_milli=0).split())
            assert carried & set(cover), (low, high, price, cover)
