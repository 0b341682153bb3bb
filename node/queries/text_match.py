"""Free text to an FTS5 query: the words a search means, and the cheaper equivalent a plan may ask.

``fts_query`` is the meaning (every word in one of its simple forms, the last
also as a prefix); ``text_match`` asks FTS5 the same question with the
vocabulary's help (an OR of the few words a prefix stands for, forms no
listing has left out), and ``match_query`` adds the filters that are facet
tokens. Words are always quoted, so FTS5 syntax in the input is never run.
"""

from __future__ import annotations

import re
import sqlite3

from marketnode.node.queries import facets
from marketnode.node.queries.listing_query import ListingQuery

MAX_QUERY_WORDS = 8
# A price filter goes into the FTS5 query (so FTS5 skips rows outside it) when this many bucket tokens cover it.
RANGE_COVER_TOKENS = 4
# A last word with more longer words in the index than this stays an FTS5 prefix query.
PREFIX_TERMS = 8
_WORD_RE = re.compile(r"\w+", re.UNICODE)
TEXT_COLUMNS = "{title description tags}"


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


def prefix_terms(conn: sqlite3.Connection, word: str) -> list[str] | None:
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


def text_match(conn: sqlite3.Connection, words: tuple[str, ...], ranked: bool) -> str:
    """The text part of the FTS5 query, as fts_query means it.

    A last word no other word extends is asked exactly (same rows, same
    bm25). Otherwise it becomes an OR of its words, unless the result is
    ranked: bm25 weighs an OR of words otherwise than the prefix phrase.
    """
    *exact, last = words
    terms = prefix_terms(conn, last) if len(last) >= 2 else None
    if terms is not None and len(terms) > 1 and ranked:
        terms = None
    known = indexed_forms(conn, words)
    phrases = [_exact_group(w, known) for w in exact] + [_last_group(last, terms, known)]
    return f"{TEXT_COLUMNS}: ({' AND '.join(phrases)})"


def indexed_forms(conn: sqlite3.Connection, words: tuple[str, ...]) -> set[str]:
    """Which other forms of the words the index holds: a form no listing has is left out of the OR (same rows,
    same bm25, and FTS5 merges one doclist fewer)."""
    forms = sorted({form for word in words for form in word_forms(word)[1:]})
    if not forms:
        return set()
    marks = ", ".join("?" * len(forms))
    return {row[0] for row in conn.execute(f"SELECT term FROM listings_terms WHERE term IN ({marks})", forms)}


def match_query(q: ListingQuery, text: str, cover: list[str] | None = None) -> str:
    """The FTS5 query: the text, the filters that are facets, and optionally a bucket cover."""
    parts = [text]
    tokens = facets.facet_tokens(category=q.category, shop=q.shop, seller=q.seller, type=q.type, asset=q.asset)
    if tokens:
        parts.append(f"facets: ({' '.join(tokens)})")
    if cover:
        parts.append(f"facets: ({' OR '.join(cover)})")
    return " AND ".join(parts)


def range_cover(q: ListingQuery) -> list[str] | None:
    """A short price cover for a narrow price filter, so FTS5 skips the rows outside it (None: filter rows)."""
    if q.min_price is None and q.max_price is None:
        return None
    return facets.price_cover(*q.price_range(), max_tokens=RANGE_COVER_TOKENS)
