"""The demo's commerce act: a variant sale with shipping and a coupon, a return, a mutual refund, a cart.

Told through the same Story (cli/demo_story.py) by alice (seller) and bob
(buyer). The act records how it moved their balances (``ids["commerce_moves"]``)
so checks of the rest of the story can leave it out.
"""

from __future__ import annotations

from typing import Any

from marketnode.cli.wallet_common import DAY_MS
from marketnode.wallet import builders, commerce, kinds

ASSET = "USDX"
PARTIES = ("alice", "bob")


def commerce_act(story: Any) -> None:
    """List a T-shirt with sizes, colours and shipping, sell one with a coupon, take it back, settle another."""
    before = {name: dict(story.cast[name].account()["balances"]) for name in PARTIES}
    shop = story.outcome.ids["shop"]
    price = story.assets.parse("24.00", ASSET)
    listed = story.act("alice", f"lists a roastery T-shirt at {story.money(price)}: sizes S/M/L in black or "
                                "natural (XL-free), two shipping options, returns within 14 days",
                       "listing_create", kinds.listing_create(
        shop=shop, type="physical", title="Roastery T-shirt", description="Organic cotton, screen printed",
        category="clothing", tags=["shirt", "merch"], price=price, asset=ASSET, stock=9, regions=["DE", "AT", "FR"],
        images=[], options=[{"name": "size", "values": ["S", "M", "L"]},
                            {"name": "colour", "values": ["black", "natural"]}],
        variants=[{"sku": "TEE-S-BLK", "choice": ["S", "black"], "price_delta": 0, "stock": 3},
                  {"sku": "TEE-M-BLK", "choice": ["M", "black"], "price_delta": 0, "stock": 4},
                  {"sku": "TEE-L-NAT", "choice": ["L", "natural"], "price_delta": story.assets.parse("2.00", ASSET),
                   "stock": 2}],
        shipping=[{"service": "DHL Paket", "regions": ["DE"], "price": story.assets.parse("4.90", ASSET),
                   "min_days": 1, "max_days": 3},
                  {"service": "Post EU", "regions": ["AT", "FR"], "price": story.assets.parse("9.50", ASSET),
                   "min_days": 3, "max_days": 8}],
        return_window_ms=14 * DAY_MS))
    tee = int(listed.event("listing_created")["listing"])
    deposit = story.assets.parse("50.00", ASSET)
    story.act("alice", f"funds the shop's after-sales deposit with {story.money(deposit)} (it pays returns)",
              "aftersales_deposit", kinds.aftersales_deposit(shop=shop, asset=ASSET, amount=deposit))
    head_ms = int(story.cast["alice"].client.call("node_status")["head_time_ms"])
    code = f"TEE10-{head_ms % 100_000}"
    story.act("alice", f"issues coupon {code}: 10% off the goods, 5 uses, 30 days", "coupon_issue",
              kinds.coupon_issue(shop=shop, coupon=code, percent_bps=1_000, max_uses=5,
                                 expires_ms=head_ms + 30 * DAY_MS))

    goods = price * 2
    total = goods - goods * 1_000 // 10_000 + story.assets.parse("4.90", ASSET)
    placed = story.act("bob", f"orders 2 x TEE-M-BLK by DHL Paket to DE with coupon {code}: {story.money(total)} "
                              "into escrow (the region is declared, the address stays sealed)", "order_place",
                       builders.order_place(tee, 2, total, story.addr("alice"), "Bob Example, 1 Main St, Berlin, DE",
                                            arbiter=story.addr("grace"), variant="TEE-M-BLK", shipping="DHL Paket",
                                            region="DE", coupon=code))
    sale = int(placed.event("order_placed")["order"])
    story.act("alice", f"accepts order {sale}", "order_accept", kinds.order_accept(order=sale))
    story.act("alice", f"ships order {sale}", "order_ship", builders.order_ship(sale, tracking="DHL 0034 7001"))
    story.act("bob", f"confirms order {sale}", "order_confirm", kinds.order_confirm(order=sale))
    reason = story.put_text("bob", "Both shirts are a size too small for me.")
    story.act("bob", "asks to return them within the 14 days (the reason stored by the nodes)", "return_request",
              commerce.return_request(sale, reason))
    story.act("alice", "accepts the return", "return_answer", kinds.return_answer(order=sale, accept=True))
    story.act("bob", "ships them back (tracking hashed on chain)", "return_ship",
              commerce.return_ship(sale, "DHL 0034 7002"))
    received = story.act("alice", "confirms they came back: the refund (goods, not shipping) is paid from the "
                                  "deposit", "return_receive", kinds.return_receive(order=sale))
    refund = int(received.events[-1]["attrs"]["refund"])
    story.tell("bob", f"is refunded {story.money(refund)} from alice's after-sales deposit")

    unit = price + story.assets.parse("2.00", ASSET)
    post = story.assets.parse("9.50", ASSET)
    placed = story.act("bob", f"orders 1 x TEE-L-NAT by Post EU to AT ({story.money(unit + post)} into escrow)",
                       "order_place", builders.order_place(tee, 1, unit + post, story.addr("alice"),
                                                           "Bob Example, Ring 1, Wien, AT", arbiter=story.addr("grace"),
                                                           variant="TEE-L-NAT", shipping="Post EU", region="AT"))
    settled = int(placed.event("order_placed")["order"])
    story.act("alice", f"accepts order {settled}", "order_accept", kinds.order_accept(order=settled))
    story.act("alice", f"ships order {settled}", "order_ship", builders.order_ship(settled, tracking="AT 55 01"))
    back = story.assets.parse("5.00", ASSET)
    story.act("bob", f"finds the print smudged and offers to keep it for {story.money(back)} back", "order_refund_offer",
              kinds.order_refund_offer(order=settled, buyer_amount=back))
    story.act("alice", "accepts: the escrow splits without an arbiter", "order_refund_accept",
              kinds.order_refund_accept(order=settled, buyer_amount=back))
    mug = story.outcome.ids["mug_listing"]
    mug_price = int(story.cast["bob"].client.call("listing_get", listing=mug)["price"])
    cart_total = price + mug_price + story.assets.parse("4.90", ASSET)
    placed = story.act("bob", f"puts a TEE-S-BLK and a mug in one cart: one order, {story.money(cart_total)} in one "
                              "escrow, DHL Paket paid once", "order_cart",
                       commerce.order_cart([(tee, 1, "TEE-S-BLK"), (mug, 1, None)], cart_total, story.addr("alice"),
                                           "Bob Example, 1 Main St, Berlin, DE", arbiter=story.addr("grace"),
                                           shipping="DHL Paket", region="DE"))
    cart = int(placed.event("order_placed")["order"])
    story.act("alice", f"accepts cart order {cart}", "order_accept", kinds.order_accept(order=cart))
    story.act("alice", "ships both in one parcel", "order_ship", builders.order_ship(cart, tracking="DHL 0034 7003"))
    story.act("bob", f"confirms cart order {cart}: one release for both", "order_confirm",
              kinds.order_confirm(order=cart))
    story.outcome.ids.update(tee_listing=tee, coupon=code, variant_order=sale, return_refund=refund,
                             settled_order=settled, settled_refund=back, cart_order=cart)
    after = {name: dict(story.cast[name].account()["balances"]) for name in PARTIES}
    story.outcome.ids["commerce_moves"] = {
        name: {asset: after[name].get(asset, 0) - before[name].get(asset, 0)
               for asset in set(before[name]) | set(after[name])} for name in PARTIES}
