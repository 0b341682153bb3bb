"""What a shopper types finds what they mean (issue 15.10): words anywhere in title, description or tags,
the last word as a prefix, simple plurals either way, and the best match first."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from marketnode.node.queries import measure, schema, search, text_match

ROWS = [
    (1, "Stoneware mug", "hand thrown, holds a large coffee", ["kitchen"]),
    (2, "Espresso cups, set of four", "porcelain", ["coffee"]),
    (3, "Tea towel", "linen, printed with coffee cups", []),
    (4, "Wooden box", "for berries and jam jars", ["pantry"]),
    (5, "Glass", "a single drinking glass", ["glasses"]),
    (6, "Cup", "plain white cup", ["cups"]),
    (7, "Dish rack", "holds dishes and a cup", []),
]


def row(i: int, title: str, description: str, tags: list[str]) -> dict[str, Any]:
    return dict(id=i, shop=1, seller=b"\x01" * 32, type="physical", category="home", title=title, tags=tags,
                asset="MKT", price=100 + i, stock=3, active=True, created_ms=i, rating_count=0, rating_milli=0,
                sales=0, description=description)


@pytest.fixture(scope="module")
def conn() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.row_factory = sqlite3.Row
    schema.create(conn)
    with conn:
        conn.execute("BEGIN")
        measure.insert_listings(conn, [row(*r) for r in ROWS])
    return conn


def found(conn: sqlite3.Connection, text: str, sort: str | None = None) -> list[int]:
    return [item["id"] for item in search.search_listings(conn, text=text, sort=sort).items]


@pytest.mark.parametrize(("text", "ids"), [
    ("thrown", {1}),                  # a word only in the description
    ("porcelain espresso", {2}),      # words from two columns, in any order
    ("pantry", {4}),                  # a tag
    ("stonew", {1}),                  # the last word as typed so far
    ("cups", {2, 3, 6, 7}),           # a plural finds the singular ("cup") too
    ("cup", {2, 3, 6, 7}),            # and a singular the plural
    ("berry", {4}),                   # -ies / -y
    ("dish", {7}), ("glasses", {5}),  # -es
])
def test_words_anywhere_with_plurals_and_a_prefix_last_word(conn, text, ids):
    assert set(found(conn, text, sort="newest")) == ids
    assert set(found(conn, text)) == ids  # relevance: the same matches


def test_relevance_puts_a_title_match_before_a_description_match(conn):
    ranked = found(conn, "cup")
    assert ranked.index(6) < ranked.index(7) and ranked.index(6) < ranked.index(3)
    assert found(conn, "coffee")[0] == 2  # the tag and title-side match before two descriptions


def test_plural_forms_are_simple_and_never_empty():
    assert text_match.word_forms("cups") == ["cups", "cup"]
    assert text_match.word_forms("berries")[:2] == ["berries", "berry"]
    assert text_match.word_forms("glass") == ["glass", "glasses"]
    assert text_match.word_forms("as") == ["as"]
