"""The chunked text+sort path of listing_search returns exactly what sorting every match returns."""

from __future__ import annotations

import sqlite3

import pytest

from node.queries import measure, schema, search


@pytest.fixture(scope="module")
def conn() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.row_factory = sqlite3.Row
    schema.create(conn)
    measure.fill(conn, listings=3000, orders=200)
    return conn


def all_pages(conn: sqlite3.Connection, **kwargs: object) -> list[int]:
    seen, cursor = [], None
    while True:
        page = search.search_listings(conn, limit=7, cursor=cursor, **kwargs)
        seen += [item["id"] for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen


@pytest.mark.parametrize("kwargs", [
    {"text": "vintage", "sort": "price_asc"},
    {"text": "vintage", "sort": "price_desc"},
    {"text": "lamp", "sort": "rating"},
    {"text": "vintage", "sort": "price_asc", "min_price": 200_000, "max_price": 600_000, "in_stock": True},
    {"text": "lamp", "sort": "price_desc", "max_price": 500_000, "category": "cat03"},
])
def test_chunked_sort_equals_sorting_every_match(conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch,
                                                 kwargs: dict[str, object]) -> None:
    plain = all_pages(conn, **kwargs)
    monkeypatch.setattr(search, "PLAIN_SORT_MATCHES", 0)
    monkeypatch.setattr(search, "CHUNK_LISTINGS", 50)
    chunked = all_pages(conn, **kwargs)
    assert chunked == plain and plain
    column = "rating_milli" if kwargs["sort"] == "rating" else "price"
    values = [conn.execute(f"SELECT {column} FROM listings WHERE id = ?", (i,)).fetchone()[0] for i in plain]
    assert values == sorted(values, reverse=kwargs["sort"] != "price_asc")


def test_price_buckets_are_ordered_like_prices() -> None:
    previous = (-1, -1, 0)
    for price in [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 100, 255, 256, 1000, 10**6, 2**63, 2**64 - 1]:
        bucket, low, high = search.price_bucket(price)
        assert low <= price < high and bucket >= previous[0]
        assert bucket > previous[0] or low == previous[1]
        previous = (bucket, low, high)
