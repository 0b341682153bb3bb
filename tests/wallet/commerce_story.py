"""The commerce part of test_builders' story: variants, shipping, refunds, returns, built by the wallet."""

from __future__ import annotations

from typing import Any

from marketnode.wallet import builders, commerce, kinds


def commerce_story(s: Any, shop_id: int) -> None:
    """Run every after-sales kind through the market from wallet-built bodies (``s`` is test_builders.Story)."""
    a = s.addr
    listing = s.ok("alice", "listing_create", kinds.listing_create(
        shop=shop_id, type="physical", title="Tee", description="", category="clothes", tags=[], price=100,
        asset="USD", stock=4, regions=["DE"], images=[], options=[{"name": "size", "values": ["S", "M"]}],
        variants=[{"sku": "TEE-S", "choice": ["S"], "price_delta": -10, "stock": 1},
                  {"sku": "TEE-M", "choice": ["M"], "price_delta": 0, "stock": 3}],
        shipping=[{"service": "post", "regions": ["DE"], "price": 5, "min_days": 1, "max_days": 3}],
        return_window_ms=30 * 86_400_000))["listing_created"]["listing"]
    s.ok("alice", "aftersales_deposit", kinds.aftersales_deposit(shop=shop_id, asset="USD", amount=200))

    def shipped(variant: str) -> int:
        body = builders.order_place(listing, 1, 10**6, a("alice"), "1 Main St, Berlin", arbiter=a("arb"),
                                    variant=variant, shipping="post", region="DE")
        order = s.ok("bob", "order_place", body)["order_placed"]["order"]
        s.ok("alice", "order_accept", kinds.order_accept(order=order))
        s.ok("alice", "order_ship", builders.order_ship(order, tracking="DHL1"))
        return order

    s.ok("alice", "coupon_issue", kinds.coupon_issue(shop=shop_id, coupon="HALF", percent_bps=5_000, max_uses=1,
                                                     expires_ms=2**50))
    body = builders.order_place(listing, 1, 55, a("alice"), "1 Main St", arbiter=a("arb"), variant="TEE-M",
                                shipping="post", region="DE", coupon="HALF")
    assert s.ok("bob", "order_place", body)["order_placed"]["total"] == 50 + 5  # half the goods, all the shipping
    s.ok("alice", "coupon_revoke", kinds.coupon_revoke(shop=shop_id, coupon="HALF"))

    cart = commerce.order_cart([(listing, 1, "TEE-M"), (listing, 1, "TEE-S")], 10**6, a("alice"), "1 Main St",
                               arbiter=a("arb"), shipping="post", region="DE")
    s.ok("bob", "order_cancel", kinds.order_cancel(order=s.ok("bob", "order_cart", cart)["order_placed"]["order"]))

    settled = shipped("TEE-S")
    s.ok("alice", "order_refund_offer", kinds.order_refund_offer(order=settled, buyer_amount=20))
    s.ok("bob", "order_refund_accept", kinds.order_refund_accept(order=settled, buyer_amount=20))

    returned = shipped("TEE-M")
    s.ok("bob", "order_confirm", kinds.order_confirm(order=returned))
    s.ok("bob", "return_request", commerce.return_request(returned, "too small"))
    s.ok("alice", "return_answer", kinds.return_answer(order=returned, accept=False))
    s.ok("arb", "return_resolve", commerce.return_resolve(returned, True, "it is too small"))
    s.ok("bob", "return_ship", commerce.return_ship(returned, "DHL2"))
    s.ok("alice", "aftersales_withdraw", kinds.aftersales_withdraw(shop=shop_id, asset="USD", amount=100))
    s.ok("alice", "return_receive", kinds.return_receive(order=returned))  # the hold paid it all

    owed = shipped("TEE-M")
    s.ok("bob", "order_confirm", kinds.order_confirm(order=owed))
    s.ok("bob", "return_request", commerce.return_request(owed, "wrong colour"))  # nothing free to hold
    s.chain.advance(s.chain.genesis.params.return_answer_window_ms)
    s.ok("bob", "return_claim", kinds.return_claim(order=owed))
    s.ok("bob", "return_ship", commerce.return_ship(owed, "DHL3"))
    s.ok("alice", "return_receive", kinds.return_receive(order=owed))
    s.ok("alice", "aftersales_deposit", kinds.aftersales_deposit(shop=shop_id, asset="USD", amount=100))
    s.ok("bob", "return_collect", kinds.return_collect(order=owed))
