"""Carts: one order for several listings (and quantities) of one shop, in one escrow.

The lines share everything an order has once (buyer, arbiter, sealed address,
status and deadlines, shipping, coupon), so they are accepted, shipped,
confirmed, disputed, refunded and returned together; only stock is kept per
line (each goes back where it came from). Orders across shops are separate
orders: a client places one cart per shop.

Shipping: a cart names one service. Every line whose listing has shipping
options must offer that service to the declared region; the cart pays the
highest of their prices, once. A cart takes returns only if every line's
listing does, for the shortest of their windows.
"""

from __future__ import annotations

from typing import Any

from marketnode.market.accounts import require_registered
from marketnode.market.codes import BAD_BODY, MIXED_CART, NO_SUCH_SHIPPING, SHOP_CLOSED, require
from marketnode.market.context import TxContext
from marketnode.market.orders import Line, open_listing, place
from marketnode.market.shops import shop_record
from marketnode.market.terms import quote


def handle_cart(tx: TxContext, body: dict[str, Any]) -> None:
    items = body["items"]
    require(bool(items), BAD_BODY, "order_cart.items: a cart holds at least one line")
    pairs = [(item["listing"], item["variant"]) for item in items]
    require(len(set(pairs)) == len(pairs), BAD_BODY, "order_cart.items: each listing and variant once (raise the "
            "quantity instead)")
    lines: list[Line] = []
    for item in items:
        listing = open_listing(tx, item["listing"])
        if lines:
            first = lines[0].listing
            require((listing["shop"], listing["asset"], listing["type"]) == (first["shop"], first["asset"],
                                                                            first["type"]), MIXED_CART,
                    f"listing {item['listing']} is not of the first line's shop, asset and type: place a "
                    "separate order")
        sub = {"variant": item["variant"] or None, "region": body["region"],
               "shipping": body["shipping"] if listing.get("shipping") else None}
        lines.append(Line(item["listing"], listing, item["quantity"], quote(listing, sub)))
    shop = shop_record(tx.state, lines[0].listing["shop"])
    require(shop["open"], SHOP_CLOSED, f"shop {lines[0].listing['shop']} is closed")
    require_registered(tx.state, tx.sender)
    shippings = [line.quote.shipping for line in lines if line.quote.shipping is not None]
    require(body["shipping"] is None or bool(shippings), NO_SUCH_SHIPPING, "no listing in the cart has shipping "
            "options")
    shipping = max(shippings, key=lambda option: option["price"]) if shippings else None
    place(tx, body, shop, lines, shipping, cart=True)


HANDLERS = {"order_cart": handle_cart}
