"""A listing's terms of sale beyond one price: options and variants, shipping options by region.

Kept apart from listings.py (which stores listings) and orders.py (which moves
escrow): ``check_terms`` is the one place a listing's terms are checked for
consistency, ``quote`` the one place an order's unit price, shipping price and
region are decided from them, and ``reserve``/``restock`` the one place
variant stock moves.

Stock of a listing with variants lives per variant (``keys.variant_stock``);
the listing's ``stock`` key always holds their sum, so search, the
``in_stock`` filter and ``listing_get`` keep one number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marketnode.core.encoding import INT_MAX
from marketnode.market import keys, store
from marketnode.market.codes import (
    BAD_TERMS,
    NO_SUCH_SHIPPING,
    NO_SUCH_VARIANT,
    OUT_OF_STOCK,
    REGION_NOT_SERVED,
    require,
)
from marketnode.market.state import State

MAX_STOCK = 1_000_000_000


@dataclass(frozen=True)
class Quote:
    """What one order line costs under the listing's terms."""

    unit_price: int
    variant: str | None
    shipping: dict[str, Any] | None  # {service, price, region, min_days, max_days} as the order records it


def ships_to(declared: list[str], region: str) -> bool:
    """Does a list of declared regions cover ``region``? Empty: anywhere; ``US`` covers ``US-CA``."""
    return not declared or any(region == d or region.startswith(d + "-") for d in declared)


def check_terms(record: dict[str, Any], stock: int | None) -> int | None:
    """Check the listing's options, variants and shipping against each other and its price.

    Returns the stock the listing's ``stock`` key must hold: the variants' sum
    when it has variants (``stock``, if given, must equal it), else ``stock``.
    """
    options, variants = record.get("options") or [], record.get("variants") or []
    require(bool(options) == bool(variants), BAD_TERMS, "options and variants come together: each variant is one "
            "choice per option")
    seen: set[tuple[str, ...]] = set()
    for variant in variants:
        choice = variant["choice"]
        require(len(choice) == len(options), BAD_TERMS, f"variant {variant['sku']} makes {len(choice)} choices for "
                f"{len(options)} options")
        for value, option in zip(choice, options):
            require(value in option["values"], BAD_TERMS, f"variant {variant['sku']}: {value!r} is not a value of "
                    f"option {option['name']!r}")
        require(tuple(choice) not in seen, BAD_TERMS, f"variant {variant['sku']} repeats another's choice")
        seen.add(tuple(choice))
        unit = record["price"] + variant["price_delta"]
        require(1 <= unit <= INT_MAX, BAD_TERMS, f"variant {variant['sku']}'s unit price {unit} is out of range")
    for option in record.get("shipping") or []:
        require(option["min_days"] <= option["max_days"], BAD_TERMS,
                f"shipping {option['service']!r}: min_days above max_days")
    if not variants:
        return stock
    total: int = sum(v["stock"] for v in variants)
    require(total <= MAX_STOCK, BAD_TERMS, f"the variants' stock adds up to more than {MAX_STOCK}")
    require(stock is None or stock == total, BAD_TERMS, f"stock {stock} is not the variants' sum {total}")
    return total


def save_variant_stock(state: State, listing_id: int, old: list[dict[str, Any]], new: list[dict[str, Any]]) -> None:
    """Replace the per-variant stock keys of a listing: old variants' keys go, new ones take their stock."""
    for variant in old:
        state.delete(keys.variant_stock(listing_id, variant["sku"]))
    for variant in new:
        store.save_int(state, keys.variant_stock(listing_id, variant["sku"]), variant["stock"])


def quote(listing: dict[str, Any], body: dict[str, Any]) -> Quote:
    """The unit price, variant and shipping an ``order_place`` body gets under the listing's terms."""
    variants = listing.get("variants") or []
    sku = body.get("variant")
    unit, chosen = listing["price"], None
    if variants or sku is not None:
        match = [v for v in variants if v["sku"] == sku]
        require(bool(match), NO_SUCH_VARIANT, f"name one of the listing's variants: "
                f"{', '.join(v['sku'] for v in variants) or 'it has none'}")
        chosen = match[0]
        unit += chosen["price_delta"]
    region = body.get("region")
    if region is not None:
        require(ships_to(listing["regions"], region), REGION_NOT_SERVED,
                f"the listing ships to {', '.join(listing['regions'])}, not {region}")
    options = listing.get("shipping") or []
    service = body.get("shipping")
    shipping = None
    if options or service is not None:
        match = [o for o in options if o["service"] == service]
        require(bool(match), NO_SUCH_SHIPPING, f"name one of the listing's shipping options: "
                f"{', '.join(o['service'] for o in options) or 'it has none'}")
        option = match[0]
        require(region is not None and ships_to(option["regions"], region), REGION_NOT_SERVED,
                f"shipping {service!r} goes to {', '.join(option['regions']) or 'anywhere'}: declare a region it "
                f"serves")
        shipping = {"service": service, "price": option["price"], "region": region,
                    "min_days": option["min_days"], "max_days": option["max_days"]}
    return Quote(unit, None if chosen is None else chosen["sku"], shipping)


def reserve(state: State, listing_id: int, variant: str | None, quantity: int) -> None:
    """Take ``quantity`` off the listing's stock (and its variant's); refuse if either has less."""
    stock_key = keys.stock(listing_id)
    stock = store.load_int(state, stock_key)
    if variant is not None:
        variant_key = keys.variant_stock(listing_id, variant)
        left = store.load_int(state, variant_key)
        require(left >= quantity, OUT_OF_STOCK, f"only {left} of {variant} in stock")
        store.save_int(state, variant_key, left - quantity)
    require(stock >= quantity, OUT_OF_STOCK, f"only {stock} in stock")
    store.save_int(state, stock_key, stock - quantity)


def restock(state: State, listing_id: int, variant: str | None, quantity: int) -> None:
    """Put units back where they were taken from, if that still exists.

    A variant the seller has since removed takes nothing back (its units are
    withdrawn with it), and neither does a listing that gained variants since
    a plain order: either way the listing's stock stays the sum of its variants'.
    """
    listing = store.load(state, keys.listing(listing_id))
    skus = {v["sku"] for v in (listing or {}).get("variants") or []}
    if variant is None and skus:
        return
    if variant is not None:
        if variant not in skus:
            return
        variant_key = keys.variant_stock(listing_id, variant)
        store.save_int(state, variant_key, store.load_int(state, variant_key) + quantity)
    stock_key = keys.stock(listing_id)
    store.save_int(state, stock_key, store.load_int(state, stock_key) + quantity)
