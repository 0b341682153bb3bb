"""Variants and shipping options: what a listing declares, what an order names, what it costs, where stock goes."""

from __future__ import annotations

import pytest
from market_harness import Chain

from marketnode.market import codes, keys
from marketnode.market.accounts import ESCROW
from marketnode.market.terms import ships_to

OPTIONS = [{"name": "size", "values": ["S", "M", "L"]}, {"name": "colour", "values": ["red", "blue"]}]
VARIANTS = [
    {"sku": "TEE-S-RED", "choice": ["S", "red"], "price_delta": -20, "stock": 2},
    {"sku": "TEE-L-BLUE", "choice": ["L", "blue"], "price_delta": 50, "stock": 3},
]
SHIPPING = [
    {"service": "DHL standard", "regions": ["DE", "AT"], "price": 7, "min_days": 2, "max_days": 4},
    {"service": "world post", "regions": [], "price": 30, "min_days": 7, "max_days": 21},
]


@pytest.fixture
def tee(chain: Chain) -> tuple[Chain, int]:
    chain.arbiter("arb")
    chain.register("alice", "bob")
    shop = chain.shop("alice")
    listing = chain.listing("alice", shop, title="Tee", price=100, stock=5, regions=["DE", "AT", "US"],
                            options=OPTIONS, variants=VARIANTS, shipping=SHIPPING)
    return chain, listing


def _body(chain: Chain, listing: int, **fields: object) -> dict:
    body = dict(listing=listing, quantity=1, max_total=10**9, address_seller=b"x", arbiter=chain.acct("arb"),
                variant="TEE-L-BLUE", shipping="DHL standard", region="DE")
    body.update(fields)
    return body


def test_create_keeps_terms_and_per_variant_stock(tee: tuple[Chain, int]) -> None:
    chain, listing = tee
    record = chain.load(keys.listing(listing))
    assert record["options"] == OPTIONS and record["shipping"] == SHIPPING
    assert record["variants"] == [{k: v[k] for k in ("sku", "choice", "price_delta")} for v in VARIANTS]
    assert chain.load(keys.stock(listing)) == 5
    assert chain.load(keys.variant_stock(listing, "TEE-S-RED")) == 2
    assert chain.load(keys.variant_stock(listing, "TEE-L-BLUE")) == 3


def test_order_pays_variant_price_times_quantity_plus_shipping_once(tee: tuple[Chain, int]) -> None:
    chain, listing = tee
    order = chain.place("bob", listing, **{k: v for k, v in _body(chain, listing, quantity=2).items()
                                           if k not in ("listing", "arbiter")})
    record = chain.order(order)
    assert record["total"] == 150 * 2 + 7 and record["unit_price"] == 150 and record["variant"] == "TEE-L-BLUE"
    assert record["shipping"] == {"service": "DHL standard", "price": 7, "region": "DE", "min_days": 2, "max_days": 4}
    assert chain.balance(ESCROW) == 307
    assert chain.load(keys.variant_stock(listing, "TEE-L-BLUE")) == 1 and chain.load(keys.stock(listing)) == 3
    chain.ok("bob", "order_cancel", order=order)  # the units go back to the variant and the listing
    assert chain.load(keys.variant_stock(listing, "TEE-L-BLUE")) == 3 and chain.load(keys.stock(listing)) == 5
    assert chain.balance(ESCROW) == 0


def test_world_post_serves_a_subdivision_of_a_listed_region(tee: tuple[Chain, int]) -> None:
    chain, listing = tee
    order = chain.place("bob", listing, shipping="world post", region="US-CA", variant="TEE-S-RED")
    assert chain.order(order)["total"] == 80 + 30


def test_order_rejections(tee: tuple[Chain, int]) -> None:
    chain, listing = tee
    chain.fails(codes.NO_SUCH_VARIANT, "bob", "order_place", **_body(chain, listing, variant=None))
    chain.fails(codes.NO_SUCH_VARIANT, "bob", "order_place", **_body(chain, listing, variant="TEE-M-RED"))
    chain.fails(codes.NO_SUCH_SHIPPING, "bob", "order_place", **_body(chain, listing, shipping=None))
    chain.fails(codes.NO_SUCH_SHIPPING, "bob", "order_place", **_body(chain, listing, shipping="courier"))
    chain.fails(codes.REGION_NOT_SERVED, "bob", "order_place", **_body(chain, listing, region="FR"))
    chain.fails(codes.REGION_NOT_SERVED, "bob", "order_place", **_body(chain, listing, region="US"))  # not by DHL
    chain.fails(codes.REGION_NOT_SERVED, "bob", "order_place", **_body(chain, listing, region=None))
    chain.fails(codes.OUT_OF_STOCK, "bob", "order_place", **_body(chain, listing, quantity=4))
    chain.fails(codes.PRICE_CHANGED, "bob", "order_place", **_body(chain, listing, max_total=156))
    chain.fails(codes.BAD_BODY, "bob", "order_place", **_body(chain, listing, region="germany"))


def test_plain_listing_refuses_variant_and_shipping_and_checks_region(chain: Chain) -> None:
    _, listing = chain.market()  # ships to DE, no variants, no shipping options
    plain = dict(listing=listing, quantity=1, max_total=10**9, address_seller=b"x", arbiter=chain.acct("arb"))
    chain.fails(codes.NO_SUCH_VARIANT, "bob", "order_place", **plain, variant="X")
    chain.fails(codes.NO_SUCH_SHIPPING, "bob", "order_place", **plain, shipping="DHL", region="DE")
    chain.fails(codes.REGION_NOT_SERVED, "bob", "order_place", **plain, region="FR")
    assert chain.order(chain.place("bob", listing, region="DE-BY"))["total"] == 100


def _listing_body(chain: Chain, **fields: object) -> dict:
    body = dict(shop=1, type="physical", title="Tee", description="", category="art", tags=[], price=100,
                asset="USD", stock=5, regions=[], images=[], options=OPTIONS, variants=VARIANTS)
    body.update(fields)
    return body


def test_listing_terms_rejections(chain: Chain) -> None:
    chain.register("alice")
    chain.shop("alice", arbiters=())
    bad_choice = [{**VARIANTS[0], "choice": ["XL", "red"]}, VARIANTS[1]]
    repeated = [VARIANTS[0], {**VARIANTS[1], "choice": ["S", "red"]}]
    too_cheap = [{**VARIANTS[0], "price_delta": -100}, VARIANTS[1]]
    short = [{**VARIANTS[0], "choice": ["S"]}, VARIANTS[1]]
    for fields in (dict(variants=bad_choice), dict(variants=repeated), dict(variants=too_cheap),
                   dict(variants=short), dict(stock=4), dict(options=None), dict(variants=None),
                   dict(variants=None, options=None,
                        shipping=[{**SHIPPING[0], "min_days": 5, "max_days": 4}])):
        chain.fails(codes.BAD_TERMS, "alice", "listing_create", **_listing_body(chain, **fields))
    chain.fails(codes.BAD_BODY, "alice", "listing_create",
                **_listing_body(chain, variants=[VARIANTS[0], {**VARIANTS[1], "sku": "TEE-S-RED"}]))
    chain.fails(codes.BAD_BODY, "alice", "listing_create",
                **_listing_body(chain, options=[OPTIONS[0], {**OPTIONS[1], "name": "size"}]))
    chain.fails(codes.BAD_BODY, "alice", "listing_create",
                **_listing_body(chain, variants=[{**VARIANTS[0], "price_delta": 2**53}]))
    chain.fails(codes.BAD_BODY, "alice", "listing_create",
                **_listing_body(chain, variants=[{**VARIANTS[0], "sku": "bad sku"}]))


def test_update_replaces_variants_and_keeps_stock_the_sum(tee: tuple[Chain, int]) -> None:
    chain, listing = tee
    order = chain.place("bob", listing, variant="TEE-S-RED", shipping="DHL standard", region="AT")
    new = [{"sku": "TEE-M-RED", "choice": ["M", "red"], "price_delta": 0, "stock": 4}]
    chain.ok("alice", "listing_update", listing=listing, variants=new)
    assert chain.state.get(keys.variant_stock(listing, "TEE-S-RED")) is None
    assert chain.load(keys.stock(listing)) == 4
    chain.ok("bob", "order_cancel", order=order)  # its variant is gone: nothing comes back
    assert chain.load(keys.stock(listing)) == 4
    chain.fails(codes.BAD_TERMS, "alice", "listing_update", listing=listing, stock=9)  # not the variants' sum
    chain.fails(codes.BAD_TERMS, "alice", "listing_update", listing=listing, options=[OPTIONS[0]])
    chain.ok("alice", "listing_update", listing=listing, price=10)
    chain.fails(codes.BAD_TERMS, "alice", "listing_update", listing=listing,
                variants=[{**new[0], "price_delta": -10}])
    chain.ok("alice", "listing_update", listing=listing, variants=[], options=[], stock=2)
    assert chain.load(keys.stock(listing)) == 2 and chain.state.get(keys.variant_stock(listing, "TEE-M-RED")) is None


def test_ships_to() -> None:
    assert ships_to([], "FR") and ships_to(["US"], "US-CA") and ships_to(["US-CA"], "US-CA")
    assert not ships_to(["US-CA"], "US") and not ships_to(["DE"], "DEX") and not ships_to(["US"], "USA")
