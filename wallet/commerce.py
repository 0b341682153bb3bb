"""Commerce bodies that need the wallet's help: a cart's sealed address, and after-sales texts kept off chain.

The return's reason, the ruling and the tracking reference are UTF-8 texts the
wallet uploads to the nodes' content store (wallet/content.py); the chain keeps
their sha256, like a dispute's statement (wallet/builders.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from marketnode.wallet import kinds
from marketnode.wallet.bodies import Account
from marketnode.wallet.builders import seal_to, text_hash


def order_cart(items: Sequence[tuple[int, int, str | None]], max_total: int, seller: Account,
               shipping_address: str = "", arbiter: Account | None = None, shipping: str | None = None,
               region: str | None = None, coupon: str | None = None) -> dict[str, Any]:
    """An ``order_cart`` body: ``items`` are ``(listing, quantity, variant sku or None)`` of one shop, one escrow.

    The address is sealed to the seller and the arbiter as for ``builders.order_place``.
    """
    to_seller = seal_to(seller, shipping_address) if shipping_address else b""
    to_arbiter = seal_to(arbiter, shipping_address) if shipping_address and arbiter is not None else None
    lines: list[dict[str, int | str]] = [{"listing": listing, "quantity": quantity, "variant": variant or ""}
             for listing, quantity, variant in items]
    return kinds.order_cart(items=lines, max_total=max_total, arbiter=arbiter, address_seller=to_seller,
                            address_arbiter=to_arbiter, shipping=shipping, region=region, coupon=coupon)


def return_request(order: int, reason: str) -> dict[str, Any]:
    """Ask to return a completed ``order``; ``reason`` is what the seller (and the arbiter) read."""
    return kinds.return_request(order=order, reason_hash=text_hash(reason))


def return_resolve(order: int, accept: bool, ruling: str | None = None) -> dict[str, Any]:
    """The arbiter's ruling on a refused return: ``accept`` lets it go ahead."""
    return kinds.return_resolve(order=order, accept=accept, ruling_hash=text_hash(ruling) if ruling else None)


def return_ship(order: int, tracking: str) -> dict[str, Any]:
    """The buyer ships the goods back; only the tracking reference's hash goes on chain."""
    return kinds.return_ship(order=order, tracking_hash=text_hash(tracking))
