"""Facet tokens: a listing's filter values and sort buckets as words of its FTS row's `facets` column.

With them a text search with filters is one doclist intersection inside FTS5
instead of a join over every text match. Tokens are plain alphanumerics (hex
where a value may hold separators); user text never reaches that column.
Pure functions: the indexer writes these tokens, the search planner asks for them.
"""

from __future__ import annotations

from typing import Any

RATING_BUCKET_MILLI = 250
# At most this many bucket tokens in one OR (see price_cover).
MAX_COVER_TOKENS = 16


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
    """(bucket, lowest rating in it, lowest rating above it): a quarter star each."""
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


def price_cover(low: int, high: int, max_tokens: int = MAX_COVER_TOKENS) -> list[str] | None:
    """Tokens of which every listing priced low..high carries one (some priced nearby carry one too).

    Fine buckets where they fit in ``max_tokens``, else fine buckets at the
    ends and whole powers of two between, else powers of two only; None when
    even those are more: FTS5 steps every token of an OR on every row, so a
    long OR costs more than filtering the rows it would have skipped.
    """
    first, last = price_bucket(low)[0], price_bucket(high)[0]
    if last - first < max_tokens:
        return [f"fp{b}" for b in range(first, last + 1)]
    head, tail = first // 8, last // 8
    if head == tail:
        return [f"fq{head}"]
    mixed = [f"fp{b}" for b in range(first, head * 8 + 8)] if first % 8 else [f"fq{head}"]
    mixed += [f"fq{octave}" for octave in range(head + 1, tail)]
    mixed += [f"fp{b}" for b in range(tail * 8, last + 1)] if last % 8 != 7 else [f"fq{tail}"]
    if len(mixed) <= max_tokens:
        return mixed
    return [f"fq{octave}" for octave in range(head, tail + 1)] if tail - head < max_tokens else None


def rating_cover(low: int, high: int, max_tokens: int = MAX_COVER_TOKENS) -> list[str] | None:
    """Tokens of which every listing rated low..high (milli-stars) carries one; None when more than ``max_tokens``."""
    first, last = rating_bucket(low)[0], rating_bucket(high)[0]
    return [f"fr{b}" for b in range(first, last + 1)] if last - first < max_tokens else None
