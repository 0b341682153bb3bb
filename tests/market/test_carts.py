"""Carts: several listings of one shop in one order and one escrow, settled together; every rejection."""

from __future__ import annotations

import pytest
from market_harness import Chain, make_genesis

from marketnode.market import codes, keys
from marketnode.market.accounts import ESCROW

TEE = dict(options=[{"name": "size", "values": ["S", "M"]}],
           variants=[{"sku": "S", "choice": ["S"], "price_delta": 0, "stock": 2},
                     {"sku": "M", "choice": ["M"], "price_delta": 10, "stock": 2}], stock=4)
POST = [{"service": "post", "regions": ["DE"], "price": 6, "min_days": 1, "max_days": 2}]
POST_DEAR = [{"service": "post", "regions": [], "price": 9, "min_days": 1, "max_days": 2}]


@pytest.fixture
def shop(chain: Chain) -> tuple[Chain, int, int, int]:
    """alice's shop: a vase (ships by post, 6), a tee with sizes (post, 9), a plain mug (no shipping options)."""
    chain.arbiter("arb")
    chain.register("alice", "bob", "carol")
    shop = chain.shop("alice")
    vase = chain.listing("alice", shop, shipping=POST, return_window_ms=10**9)
    tee = chain.listing("alice", shop, title="Tee", price=20, regions=[], shipping=POST_DEAR, **TEE)
    mug = chain.listing("alice", shop, title="Mug", price=7, regions=[], return_window_ms=10**8)
    return chain, vase, tee, mug


def _cart(chain: Chain, *items: tuple[int, int, str], **fields: object) -> dict:
    body = dict(items=[{"listing": lid, "quantity": q, "variant": v} for lid, q, v in items], max_total=10**9,
                address_seller=b"x", arbiter=chain.acct("arb"), shipping="post", region="DE")
    body.update(fields)
    return body


def test_one_escrow_for_all_lines_shipping_once_at_the_highest_price(shop: tuple[Chain, int, int, int]) -> None:
    chain, vase, tee, mug = shop
    receipt = chain.ok("bob", "order_cart", **_cart(chain, (vase, 2, ""), (tee, 1, "M"), (mug, 3, "")))
    order = chain.order(receipt.events[-1].attrs["order"])
    assert order["total"] == 2 * 100 + 30 + 3 * 7 + 9 and chain.balance(ESCROW) == order["total"]
    assert order["items"] == [{"listing": vase, "quantity": 2, "variant": None, "unit_price": 100},
                              {"listing": tee, "quantity": 1, "variant": "M", "unit_price": 30},
                              {"listing": mug, "quantity": 3, "variant": None, "unit_price": 7}]
    assert (order["listing"], order["quantity"], order["shipping"]["price"]) == (vase, 6, 9)
    assert "return_window_ms" not in order  # the tee takes no returns, so the cart takes none
    assert chain.load(keys.stock(vase)) == 8 and chain.load(keys.variant_stock(tee, "M")) == 1
    chain.ok("alice", "order_decline", order=receipt.events[-1].attrs["order"])  # every line goes back
    assert chain.load(keys.stock(vase)) == 10 and chain.load(keys.variant_stock(tee, "M")) == 2
    assert chain.load(keys.stock(mug)) == 10 and chain.load(keys.stock(tee)) == 4 and chain.balance(ESCROW) == 0


def test_a_cart_ships_and_confirms_together(shop: tuple[Chain, int, int, int]) -> None:
    chain, vase, _, mug = shop
    order = chain.ok("bob", "order_cart", **_cart(chain, (vase, 1, ""), (mug, 1, ""), coupon=None)).events[-1].attrs
    oid = order["order"]
    assert chain.order(oid)["return_window_ms"] == 10**8  # the shortest of the lines'
    chain.ok("alice", "order_accept", order=oid)
    chain.ok("alice", "order_ship", order=oid)
    alice = chain.balance("alice")
    chain.ok("bob", "order_confirm", order=oid)
    assert chain.balance("alice") - alice == 113 - 113 * 100 // 10_000 and chain.order(oid)["status"] == "completed"


def test_a_coupon_applies_to_all_the_goods(shop: tuple[Chain, int, int, int]) -> None:
    chain, vase, _, mug = shop
    chain.ok("alice", "coupon_issue", shop=1, coupon="TEN", percent_bps=1_000, max_uses=1, expires_ms=2**50)
    order = chain.ok("bob", "order_cart", **_cart(chain, (vase, 1, ""), (mug, 1, ""), coupon="TEN")).events[-1]
    assert order.attrs["total"] == 107 - 10 + 6


def test_cart_rejections(shop: tuple[Chain, int, int, int]) -> None:
    chain, vase, tee, mug = shop
    chain.fails(codes.NOT_FOUND, "bob", "order_cart", **_cart(chain, (vase, 1, ""), (99, 1, "")))
    chain.fails(codes.SELF_DEALING, "alice", "order_cart", **_cart(chain, (vase, 1, "")))
    chain.fails(codes.NOT_REGISTERED, "dave", "order_cart", **_cart(chain, (vase, 1, "")))
    other = chain.listing("carol", chain.shop("carol"), shipping=POST)
    chain.fails(codes.MIXED_CART, "bob", "order_cart", **_cart(chain, (vase, 1, ""), (other, 1, "")))
    chain.fails(codes.NO_SUCH_VARIANT, "bob", "order_cart", **_cart(chain, (vase, 1, ""), (tee, 1, "")))
    chain.fails(codes.NO_SUCH_SHIPPING, "bob", "order_cart", **_cart(chain, (vase, 1, ""), shipping=None))
    chain.fails(codes.NO_SUCH_SHIPPING, "bob", "order_cart", **_cart(chain, (mug, 1, "")))  # nothing ships by post
    chain.fails(codes.REGION_NOT_SERVED, "bob", "order_cart", **_cart(chain, (vase, 1, ""), (tee, 1, "S"),
                                                                      region="FR"))
    chain.fails(codes.OUT_OF_STOCK, "bob", "order_cart", **_cart(chain, (vase, 1, ""), (tee, 3, "S")))
    chain.fails(codes.PRICE_CHANGED, "bob", "order_cart", **_cart(chain, (vase, 1, ""), max_total=105))
    chain.fails(codes.COUPON_INVALID, "bob", "order_cart", **_cart(chain, (vase, 1, ""), coupon="NOPE"))
    chain.fails(codes.ARBITER_NOT_ACCEPTED, "bob", "order_cart",
                **_cart(chain, (vase, 1, ""), arbiter=chain.acct("arb2")))
    chain.fails(codes.BAD_BODY, "bob", "order_cart", **_cart(chain))
    chain.fails(codes.BAD_BODY, "bob", "order_cart", **_cart(chain, (vase, 1, ""), (vase, 2, "")))
    chain.fails(codes.BAD_BODY, "bob", "order_cart", **_cart(chain, *[(vase, 1, "")] * 21))
    chain.ok("alice", "listing_update", listing=mug, price=2**63)
    chain.fails(codes.AMOUNT_OVERFLOW, "bob", "order_cart", **_cart(chain, (vase, 1, ""), (mug, 2, "")))
    chain.ok("alice", "listing_update", listing=mug, price=2_000_000)
    chain.fails(codes.INSUFFICIENT_FUNDS, "bob", "order_cart", **_cart(chain, (vase, 1, ""), (mug, 1, "")))
    chain.ok("alice", "listing_delist", listing=mug)
    chain.fails(codes.LISTING_INACTIVE, "bob", "order_cart", **_cart(chain, (vase, 1, ""), (mug, 1, "")))
    chain.ok("alice", "shop_close", shop=1)
    chain.fails(codes.SHOP_CLOSED, "bob", "order_cart", **_cart(chain, (vase, 1, "")))


def test_a_large_cart_needs_kyc_when_genesis_says_so() -> None:
    chain = Chain(make_genesis(order_kyc_level=1, order_kyc_threshold=150))
    _, listing = chain.market()
    body = _cart(chain, (listing, 2, ""), shipping=None, region=None)
    chain.fails(codes.KYC_REQUIRED, "bob", "order_cart", **body)
    chain.ok("attester", "kyc_attest", account=chain.acct("bob"), level=1, expires_ms=chain.now_ms + 10**6)
    chain.ok("bob", "order_cart", **body)
