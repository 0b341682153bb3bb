"""The map from tx kind to its handler; every kind in the schema has exactly one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marketnode.market import (
    accounts,
    arbiters,
    assets,
    authority,
    carts,
    certificates,
    coupons,
    kyc,
    listings,
    orders,
    provenance,
    recovery,
    returns,
    reviews,
    shops,
)
from marketnode.market.context import TxContext
from marketnode.market.schema import KINDS

Handler = Callable[[TxContext, dict[str, Any]], None]

HANDLERS: dict[str, Handler] = {
    **accounts.HANDLERS, **assets.HANDLERS, **kyc.HANDLERS, **arbiters.HANDLERS, **shops.HANDLERS,
    **listings.HANDLERS, **orders.HANDLERS, **reviews.HANDLERS, **provenance.HANDLERS, **certificates.HANDLERS,
    **returns.HANDLERS, **coupons.HANDLERS, **carts.HANDLERS,
    **authority.HANDLERS, **recovery.HANDLERS,
}

assert set(HANDLERS) == set(KINDS), f"kinds without handler or schema: {set(HANDLERS) ^ set(KINDS)}"
