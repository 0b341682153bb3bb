"""Coupons: issued by a shop, applied at order time to the goods only, with integer rounding and limits."""

from __future__ import annotations

import pytest
from market_harness import Chain

from marketnode.market import codes, keys
from marketnode.market.accounts import ESCROW

FAR = 2**50


@pytest.fixture
def market(chain: Chain) -> tuple[Chain, int]:
    shop, _ = chain.market()
    listing = chain.listing("alice", shop, price=333, shipping=[
        {"service": "post", "regions": [], "price": 10, "min_days": 1, "max_days": 2}])
    return chain, listing


def _order(chain: Chain, listing: int, **fields: object) -> dict:
    body = dict(listing=listing, quantity=1, max_total=10**9, address_seller=b"x", arbiter=chain.acct("arb"),
                shipping="post", region="DE")
    body.update(fields)
    return body


def test_percent_rounds_the_discount_down_and_spares_shipping(market: tuple[Chain, int]) -> None:
    chain, listing = market
    chain.ok("alice", "coupon_issue", shop=1, coupon="TEN", percent_bps=1_000, max_uses=5, expires_ms=FAR)
    order = chain.place("bob", listing, quantity=3, shipping="post", region="DE", coupon="TEN")
    record = chain.order(order)
    assert record["coupon"] == {"code": "TEN", "discount": 999 * 1_000 // 10_000} == {"code": "TEN", "discount": 99}
    assert record["total"] == 999 - 99 + 10 and chain.balance(ESCROW) == 910
    assert chain.load(keys.coupon(1, "TEN"))["used"] == 1


def test_fixed_takes_at_most_the_goods(market: tuple[Chain, int]) -> None:
    chain, listing = market
    chain.ok("alice", "coupon_issue", shop=1, coupon="BIG", amount=1_000, asset="USD", max_uses=1, expires_ms=FAR)
    order = chain.place("bob", listing, shipping="post", region="DE", coupon="BIG")
    assert chain.order(order)["total"] == 10 and chain.order(order)["coupon"]["discount"] == 333
    chain.ok("bob", "order_cancel", order=order)  # the use is not given back
    chain.fails(codes.COUPON_INVALID, "bob", "order_place", **_order(chain, listing, coupon="BIG"))


def test_coupon_rejections_at_order_time(market: tuple[Chain, int]) -> None:
    chain, listing = market
    chain.ok("alice", "coupon_issue", shop=1, coupon="MKT5", amount=5, asset="MKT", max_uses=9, expires_ms=FAR)
    chain.ok("alice", "coupon_issue", shop=1, coupon="SOON", percent_bps=500, max_uses=9, expires_ms=chain.now_ms + 10)
    chain.ok("alice", "coupon_issue", shop=1, coupon="GONE", percent_bps=500, max_uses=9, expires_ms=FAR)
    chain.ok("alice", "coupon_revoke", shop=1, coupon="GONE")
    chain.fails(codes.COUPON_INVALID, "bob", "order_place", **_order(chain, listing, coupon="NOPE"))
    chain.fails(codes.COUPON_INVALID, "bob", "order_place", **_order(chain, listing, coupon="MKT5"))  # USD listing
    chain.fails(codes.COUPON_INVALID, "bob", "order_place", **_order(chain, listing, coupon="SOON"))  # expired
    chain.fails(codes.COUPON_INVALID, "bob", "order_place", **_order(chain, listing, coupon="GONE"))
    chain.fails(codes.BAD_BODY, "bob", "order_place", **_order(chain, listing, coupon="lower"))
    chain.register("carol")
    other = chain.listing("carol", chain.shop("carol"))
    chain.fails(codes.COUPON_INVALID, "bob", "order_place", **_order(chain, other, coupon="MKT5", shipping=None,
                                                                        region=None))  # another shop's code


def test_issue_and_revoke_rejections(market: tuple[Chain, int]) -> None:
    chain, _ = market
    good = dict(shop=1, coupon="OK", percent_bps=100, max_uses=1, expires_ms=FAR)
    chain.fails(codes.NOT_FOUND, "alice", "coupon_issue", **{**good, "shop": 99})
    chain.fails(codes.NOT_AUTHORIZED, "bob", "coupon_issue", **good)
    chain.fails(codes.BAD_COUPON, "alice", "coupon_issue", **{**good, "amount": 5, "asset": "USD"})  # both
    chain.fails(codes.BAD_COUPON, "alice", "coupon_issue", **{**good, "percent_bps": None})  # neither
    chain.fails(codes.BAD_COUPON, "alice", "coupon_issue", **{**good, "asset": "USD"})  # percent with an asset
    chain.fails(codes.BAD_COUPON, "alice", "coupon_issue", **{**good, "expires_ms": chain.now_ms})
    chain.fails(codes.ASSET_NOT_ACCEPTED, "alice", "coupon_issue",
                **{**good, "percent_bps": None, "amount": 5, "asset": "EUR"})
    chain.fails(codes.BAD_BODY, "alice", "coupon_issue", **{**good, "max_uses": 0})
    chain.ok("alice", "coupon_issue", **good)
    chain.fails(codes.ALREADY_EXISTS, "alice", "coupon_issue", **good)
    chain.fails(codes.NOT_FOUND, "alice", "coupon_revoke", shop=1, coupon="NOPE")
    chain.fails(codes.NOT_AUTHORIZED, "bob", "coupon_revoke", shop=1, coupon="OK")
    chain.ok("alice", "coupon_revoke", shop=1, coupon="OK")
    chain.fails(codes.COUPON_INVALID, "alice", "coupon_revoke", shop=1, coupon="OK")
    chain.ok("alice", "shop_close", shop=1)
    chain.fails(codes.SHOP_CLOSED, "alice", "coupon_issue", **{**good, "coupon": "LATE"})
    chain.fails(codes.SHOP_CLOSED, "alice", "coupon_revoke", shop=1, coupon="OK")
