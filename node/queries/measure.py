"""Measure first-page query latency of the query index at scale (a local check, not a test).

    python -m marketnode.node.queries.measure [--shape synthetic|bench] [--listings 100000] [--orders 100000] [--runs 200]
                                   [--analyze] [--plans]

Fills a fresh index file with synthetic rows shaped like the indexer's, then
times each query the RPC methods run (p50/p99 over ``--runs`` random
parameter draws, first page of 20; wall clock, and the p99 of the thread's
CPU time, which other processes on a shared machine do not inflate), and
with ``--plans`` prints SQLite's EXPLAIN QUERY PLAN for each statement, to
check that every one walks an index. ``--shape bench`` fills rows like
``marketnode bench query`` does and times its five query kinds first.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from marketnode.node.queries import facets, schema, search

CATEGORIES = [f"cat{i:02d}" for i in range(50)]
STATUSES = ("placed", "accepted", "shipped", "disputed", "completed", "declined", "cancelled", "refunded", "resolved")


# Planted words and the share of listings whose title holds each; every other word is one of 5,000, uniform.
PLANTED = {"vintage": 0.50, "lamp": 0.20, "brass": 0.05, "oak": 0.01}


def _text(rng: random.Random, vocabulary: list[str], count: int, planted: bool) -> str:
    words = [rng.choice(vocabulary) for _ in range(count)]
    if planted:
        words += [word for word, share in PLANTED.items() if rng.random() < share]
    return " ".join(words)


LISTING_FIELDS = ("id", "shop", "seller", "type", "category", "title", "tags", "asset", "price", "stock", "active",
                  "created_ms", "rating_count", "rating_milli", "sales")


def insert_listings(conn: sqlite3.Connection, listings: list[dict[str, Any]]) -> None:
    """Write listing rows and their FTS rows (with facet tokens) as the indexer would, in the caller's transaction.

    Each dict has LISTING_FIELDS (``tags`` a list, ``active`` a bool) and ``description``.
    """
    rows, fts_rows = [], []
    for listing in listings:
        facet_text = facets.listing_facets(**listing)
        row = {**listing, "tags": json.dumps(listing["tags"]), "active": int(listing["active"]),
               "price": schema.to_sql_u64(listing["price"])}
        rows.append((*(row[name] for name in LISTING_FIELDS), facet_text))
        fts_rows.append((listing["id"], listing["title"], listing["description"], " ".join(listing["tags"]),
                         facet_text))
    conn.executemany("INSERT INTO listings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.executemany("INSERT INTO listings_fts (rowid, title, description, tags, facets) VALUES (?, ?, ?, ?, ?)",
                     fts_rows)


def fill(conn: sqlite3.Connection, listings: int, orders: int, seed: int = 7) -> dict[str, Any]:
    """Synthetic rows: 5,000-word vocabulary with planted words, 50 categories, prices 1..1,000,000."""
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(5000)]
    sellers = [rng.randbytes(32) for _ in range(1000)]
    buyers = [rng.randbytes(32) for _ in range(20_000)]
    rows = []
    for i in range(1, listings + 1):
        title = _text(rng, vocabulary, rng.randint(3, 5), planted=True)
        tags = sorted(set(_text(rng, vocabulary, rng.randint(0, 4), planted=False).split()))
        rated = rng.random() < 0.3
        rows.append(dict(
            id=i, shop=rng.randint(1, 2000), seller=rng.choice(sellers),
            type=rng.choice(("physical", "physical", "digital", "service")), category=rng.choice(CATEGORIES),
            title=title, tags=tags, asset="USDX" if rng.random() < 0.1 else "MKT", price=rng.randint(1, 1_000_000),
            stock=0 if rng.random() < 0.1 else rng.randint(1, 20), active=rng.random() < 0.95,
            created_ms=1_700_000_000_000 + i, rating_count=rng.randint(1, 50) if rated else 0,
            rating_milli=rng.randint(1000, 5000) if rated else 0, sales=rng.randint(0, 40),
            description=_text(rng, vocabulary, rng.randint(10, 20), planted=False)))
    with conn:
        conn.execute("BEGIN")
        insert_listings(conn, rows)
        order_rows, purchases = [], set()
        for i in range(1, orders + 1):
            buyer, listing = rng.choice(buyers), rng.randint(1, listings)
            order_rows.append((i, listing, 1, buyer, rng.choice(sellers), None, rng.choice(STATUSES), 1, "MKT",
                               schema.to_sql_u64(rng.randint(1, 10**6)), i, i, 0))
            purchases.add((buyer, listing, i))
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", order_rows)
        conn.executemany("INSERT OR IGNORE INTO purchases VALUES (?, ?, ?)", sorted(purchases))
        by_buyer: dict[bytes, list[int]] = {}
        for buyer, listing, _ in purchases:
            by_buyer.setdefault(buyer, []).append(listing)
        pairs: dict[tuple[int, int], int] = {}
        for items in by_buyer.values():
            for a in items:
                for b in items:
                    if a != b:
                        pairs[(a, b)] = pairs.get((a, b), 0) + 1
        conn.executemany("INSERT INTO co_purchases VALUES (?, ?, ?)", [(a, b, n) for (a, b), n in pairs.items()])
        conn.executemany("INSERT INTO reviews VALUES (?, ?, ?, ?, ?, ?)",
                         [(r[0], r[1], r[4], r[3], rng.randint(1, 5), r[0]) for r in order_rows[::3]])
    return {"sellers": sellers, "buyers": buyers, "listings": listings}


BENCH_WORDS = ("walnut", "linen", "ceramic", "vintage", "handmade", "oak", "silver", "wool", "glass", "cotton")


def fill_bench(conn: sqlite3.Connection, listings: int, orders: int, seed: int = 7) -> dict[str, Any]:
    """Rows shaped like ``marketnode bench query`` leaves them (tools/bench/modes.py query_async).

    Titles "<word> <word> item i" from 10 words, 4 categories, prices
    100..999, 50 sellers with a shop each, unrated; one order per listing,
    all placed, from 50 buyers.
    """
    rng = random.Random(seed)
    sellers = [rng.randbytes(32) for _ in range(50)]
    buyers = [rng.randbytes(32) for _ in range(50)]
    rows = [dict(
        id=i + 1, shop=i % 50 + 1, seller=sellers[i % 50], type="physical", category=("art", "home", "fashion",
                                                                                      "food")[i % 4],
        title=f"{BENCH_WORDS[i % 10]} {BENCH_WORDS[(i // 10) % 10]} item {i}", tags=["bench"], asset="MKT",
        price=100 + i % 900, stock=10**9 - 1, active=True, created_ms=1_700_000_000_000 + i, rating_count=0,
        rating_milli=0, sales=1 if i < orders else 0, description="bench item") for i in range(listings)]
    with conn:
        conn.execute("BEGIN")
        insert_listings(conn, rows)
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [
            (i + 1, listings - i % listings, 1 + (listings - i % listings - 1) % 50, buyers[i % 50],
             sellers[(listings - i % listings - 1) % 50], None, "placed", 1, "MKT", schema.to_sql_u64(100), i, i, 0)
            for i in range(orders)])
    return {"sellers": sellers, "buyers": buyers, "listings": listings}


def queries(ctx: dict[str, Any], rng: random.Random) -> dict[str, Callable[[sqlite3.Connection], Any]]:
    def cat() -> str:
        return rng.choice(CATEGORIES)

    def rare_word() -> str:
        return f"w{rng.randint(0, 4999)}"

    s = search.search_listings

    def text_query(w: str, sort: str) -> Callable[[sqlite3.Connection], Any]:
        return lambda c: s(c, text=w, sort=sort)

    return {
        "search newest": lambda c: s(c),
        "search price_asc": lambda c: s(c, sort="price_asc"),
        "search price_desc": lambda c: s(c, sort="price_desc"),
        "search rating": lambda c: s(c, sort="rating"),
        "category newest": lambda c: s(c, category=cat()),
        "category price_asc": lambda c: s(c, category=cat(), sort="price_asc"),
        "category rating": lambda c: s(c, category=cat(), sort="rating"),
        "category+price range+in_stock price_asc": lambda c: s(
            c, category=cat(), min_price=100_000, max_price=200_000, in_stock=True, sort="price_asc"),
        "price range price_desc": lambda c: s(c, min_price=10_000, max_price=20_000, sort="price_desc"),
        "seller newest": lambda c: s(c, seller=rng.choice(ctx["sellers"])),
        "seller price_asc": lambda c: s(c, seller=rng.choice(ctx["sellers"]), sort="price_asc"),
        "shop newest": lambda c: s(c, shop=rng.randint(1, 2000)),
        "asset USDX newest": lambda c: s(c, asset="USDX"),
        "type service price_desc": lambda c: s(c, type="service", sort="price_desc"),
        "in_stock min_price rating": lambda c: s(c, in_stock=True, min_price=990_000, sort="rating"),
        **{f"text '{w}' ({int(share * 100)}%) {sort}": text_query(w, sort)
           for w, share in PLANTED.items() for sort in ("relevance", "newest", "price_asc", "rating")},
        "text rare word": lambda c: s(c, text=rare_word()),
        "text 'lamp' + rare word": lambda c: s(c, text=f"lamp {rare_word()}"),
        "text 'lamp' + category": lambda c: s(c, text="lamp", category=cat()),
        "text 'lamp' + category price_asc": lambda c: s(c, text="lamp", category=cat(), sort="price_asc"),
        "text 'vintage' + category price_asc": lambda c: s(c, text="vintage", category=cat(), sort="price_asc"),
        "text 'vintage' + in_stock + price range": lambda c: s(
            c, text="vintage", in_stock=True, min_price=10_000, max_price=500_000, sort="price_desc"),
        "text 'vintage' + seller": lambda c: s(c, text="vintage", seller=rng.choice(ctx["sellers"])),
        "text 'lamp' + narrow price range newest": lambda c: s(c, text="lamp", min_price=10_000, max_price=20_000,
                                                               sort="newest"),
        "text 'lamp' + narrow price range relevance": lambda c: s(c, text="lamp", min_price=10_000,
                                                                  max_price=20_000),
        "text 'vintage' + seller price_asc": lambda c: s(c, text="vintage", seller=rng.choice(ctx["sellers"]),
                                                         sort="price_asc"),
        "text 'vintage' price_asc, pages 1-5 (sum)": lambda c: page_five(c, text="vintage", sort="price_asc"),
        "text prefix 'vint' newest": lambda c: s(c, text="vint", sort="newest"),
        "order_list buyer": lambda c: search.list_orders(c, buyer=rng.choice(ctx["buyers"]), seller=None,
                                                         status=None, limit=20, cursor=None),
        "order_list seller": lambda c: search.list_orders(c, buyer=None, seller=rng.choice(ctx["sellers"]),
                                                          status=None, limit=20, cursor=None),
        "order_list seller+status": lambda c: search.list_orders(c, buyer=None, seller=rng.choice(ctx["sellers"]),
                                                                 status="completed", limit=20, cursor=None),
        "review_list seller": lambda c: search.list_reviews(c, listing=None, seller=rng.choice(ctx["sellers"]),
                                                            limit=20, cursor=None),
        "recommend buyer": lambda c: search.recommend(c, rng.choice(ctx["buyers"]), 10),
        "recommend stranger": lambda c: search.recommend(c, b"\x00" * 32, 10),
    }


def bench_queries(ctx: dict[str, Any], rng: random.Random) -> dict[str, Callable[[sqlite3.Connection], Any]]:
    """The five kinds ``marketnode bench query`` times, then other sorts over the same rows."""
    def word() -> str:
        return rng.choice(BENCH_WORDS)

    s = search.search_listings

    def sorted_text(sort: str) -> Callable[[sqlite3.Connection], Any]:
        return lambda c: s(c, text=word(), sort=sort)

    return {
        "listing_search_text": lambda c: s(c, text=word()),
        "listing_search_filtered": lambda c: s(c, text=word(), category="art", min_price=200, max_price=600,
                                               sort="price_asc"),
        "listing_search_newest": lambda c: s(c, sort="newest"),
        "order_list_buyer": lambda c: search.list_orders(c, buyer=rng.choice(ctx["buyers"]), seller=None,
                                                         status=None, limit=20, cursor=None),
        "order_list_seller_status": lambda c: search.list_orders(c, buyer=None, seller=rng.choice(ctx["sellers"]),
                                                                 status="placed", limit=20, cursor=None),
        **{f"text {sort}": sorted_text(sort)
           for sort in ("newest", "price_asc", "price_desc", "rating")},
        "text + category price_desc": lambda c: s(c, text=word(), category="home", sort="price_desc"),
        "two words price_asc": lambda c: s(c, text=f"{word()} {word()}", sort="price_asc"),
        "text prefix 'wal' newest": lambda c: s(c, text="wal", sort="newest"),
        "text 'item 12' (prefix index)": lambda c: s(c, text="item 12"),
        "text 'item 1234' (prefix of 11 words)": lambda c: s(c, text="item 1234"),
        "seller price_asc": lambda c: s(c, seller=rng.choice(ctx["sellers"]), sort="price_asc"),
        "category + price range newest": lambda c: s(c, category="food", min_price=300, max_price=305),
        "rating": lambda c: s(c, sort="rating"),
        "text 'walnut' price_asc, pages 1-5 (sum)": lambda c: page_five(c, text="walnut", sort="price_asc"),
    }


def page_five(conn: sqlite3.Connection, **kwargs: Any) -> Any:
    cursor = None
    for _ in range(5):
        page = search.search_listings(conn, cursor=cursor, **kwargs)
        cursor = page.next_cursor
    return page


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--shape", choices=("synthetic", "bench"), default="synthetic",
                        help="synthetic: many words, categories and prices; bench: what `marketnode bench query` "
                             "writes")
    parser.add_argument("--analyze", action="store_true",
                        help="run ANALYZE after filling (a live node's index seldom has fresh statistics)")
    parser.add_argument("--plans", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "query.sqlite", isolation_level=None)
        conn.row_factory = sqlite3.Row
        schema.configure(conn)
        schema.create(conn)
        started = time.perf_counter()
        ctx = (fill_bench if args.shape == "bench" else fill)(conn, args.listings, args.orders)
        if args.analyze:
            conn.execute("ANALYZE")
        print(f"filled {args.listings} listings, {args.orders} orders ({args.shape}"
              f"{', analyzed' if args.analyze else ''}) in {time.perf_counter() - started:.1f} s")
        rng = random.Random(1)
        if args.shape == "bench":
            table = bench_queries(ctx, rng)
        else:
            table = queries(ctx, rng)
            table["search price_asc, pages 1-5 (sum)"] = lambda c: page_five(c, sort="price_asc")
            table["category newest, pages 1-5 (sum)"] = lambda c: page_five(c, category=rng.choice(CATEGORIES))
        print(f"{'query (first page of 20)':45} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'cpu p99':>8}")
        for name, run in table.items():
            run(conn)  # warm
            times, cpu = [], []
            for _ in range(args.runs):
                t0, c0 = time.perf_counter(), time.thread_time()
                run(conn)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.thread_time() - c0) * 1000)
            times.sort()
            cpu.sort()
            p99 = min(len(times) - 1, int(len(times) * 0.99))
            print(f"{name:45} {statistics.median(times):8.2f} {times[p99]:8.2f} {times[-1]:8.2f} {cpu[p99]:8.2f}")
        if args.plans:
            print_plans(conn, ctx)


class _Recorder:
    """Stands in for the connection to capture every statement (SQL and params) a query function runs."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.statements: list[tuple[str, Any]] = []

    def execute(self, sql: str, params: Any = ()) -> Any:
        self.statements.append((sql, params))
        return self.conn.execute(sql, params)


def print_plans(conn: sqlite3.Connection, ctx: dict[str, Any]) -> None:
    """EXPLAIN QUERY PLAN of every statement of representative searches."""
    word = "walnut" if "walnut" in conn.execute("SELECT title FROM listings LIMIT 1").fetchone()[0] else "lamp"
    category = conn.execute("SELECT category FROM listings LIMIT 1").fetchone()[0]
    samples: dict[str, dict[str, Any]] = {
        "newest": {}, "category price_asc": {"category": category, "sort": "price_asc"},
        "rating": {"sort": "rating"}, "seller newest": {"seller": ctx["sellers"][0]},
        "seller price_asc": {"seller": ctx["sellers"][0], "sort": "price_asc"},
        "text newest": {"text": word, "sort": "newest"}, "text relevance": {"text": word},
        "text price_asc": {"text": word, "sort": "price_asc"},
        "text category price range price_asc": {"text": word, "category": category, "min_price": 200,
                                                "max_price": 600, "sort": "price_asc"},
    }
    for name, kwargs in samples.items():
        recorder = _Recorder(conn)
        search.search_listings(recorder, **kwargs)  # type: ignore[arg-type]
        print(f"\n{name}:")
        for sql, params in recorder.statements:
            print("  ", " ".join(sql.split())[:160])
            for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall():
                print("      ", row[3])


if __name__ == "__main__":
    main()
