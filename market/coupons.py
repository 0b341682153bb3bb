"""Coupons: a shop's discount codes, percent or fixed, with limited uses and an expiry, applied at order time.

Rounding rule (integer arithmetic only): a percent coupon takes
``subtotal * percent_bps // 10000`` off the goods, rounded down, so the buyer
pays the rounded-up rest and no fraction of a unit is ever created. A fixed
coupon takes ``min(amount, subtotal)`` off and is in one asset, the
listing's. Shipping is never discounted. A use is counted when the order is
placed and not given back if the order is later cancelled or refunded (so the
count can never exceed ``max_uses`` however orders end).
"""

from __future__ import annotations

from typing import Any

from marketnode.market import keys, store
from marketnode.market.codes import (
    ALREADY_EXISTS,
    ASSET_NOT_ACCEPTED,
    BAD_COUPON,
    COUPON_INVALID,
    NOT_FOUND,
    fail,
    require,
)
from marketnode.market.context import TxContext
from marketnode.market.params import BPS
from marketnode.market.shops import owned_open_shop

MAX_USES = 1_000_000


def coupon_record(tx: TxContext, shop_id: int, code: str) -> dict[str, Any]:
    record = store.load_record(tx.state, keys.coupon(shop_id, code))
    if record is None:
        fail(NOT_FOUND, f"shop {shop_id} has no coupon {code}")
    return record


def discount(tx: TxContext, listing: dict[str, Any], code: str, subtotal: int) -> dict[str, Any]:
    """Use coupon ``code`` of the listing's shop on ``subtotal`` (the goods); return what the order records."""
    key = keys.coupon(listing["shop"], code)
    record = store.load(tx.state, key)
    require(record is not None, COUPON_INVALID, f"shop {listing['shop']} has no coupon {code}")
    require(not record["revoked"], COUPON_INVALID, f"coupon {code} was revoked")
    require(tx.now_ms < record["expires_ms"], COUPON_INVALID, f"coupon {code} expired at {record['expires_ms']}")
    require(record["used"] < record["max_uses"], COUPON_INVALID, f"coupon {code} is used up")
    if record["percent_bps"] is not None:
        off = subtotal * record["percent_bps"] // BPS
    else:
        require(record["asset"] == listing["asset"], COUPON_INVALID, f"coupon {code} is in {record['asset']}, the "
                f"listing in {listing['asset']}")
        off = min(record["amount"], subtotal)
    record["used"] += 1
    store.save(tx.state, key, record)
    return {"code": code, "discount": off}


def handle_issue(tx: TxContext, body: dict[str, Any]) -> None:
    shop = owned_open_shop(tx, body["shop"])
    percent, amount, asset = body["percent_bps"], body["amount"], body["asset"]
    require((percent is None) != (amount is None), BAD_COUPON, "a coupon is either percent_bps or amount")
    require((amount is None) == (asset is None), BAD_COUPON, "a fixed coupon names its asset, a percent one none")
    if asset is not None:
        require(asset in shop["accepted_assets"], ASSET_NOT_ACCEPTED, f"the shop does not accept {asset}")
    require(body["expires_ms"] > tx.now_ms, BAD_COUPON, "the coupon would be expired already")
    key = keys.coupon(body["shop"], body["coupon"])
    require(tx.state.get(key) is None, ALREADY_EXISTS, f"shop {body['shop']} has a coupon {body['coupon']} already")
    store.save(tx.state, key, {"percent_bps": percent, "amount": amount, "asset": asset,
                               "max_uses": body["max_uses"], "used": 0, "expires_ms": body["expires_ms"],
                               "revoked": False, "issued_ms": tx.now_ms})
    tx.emit("coupon_issued", shop=body["shop"], code=body["coupon"])


def handle_revoke(tx: TxContext, body: dict[str, Any]) -> None:
    owned_open_shop(tx, body["shop"])
    record = coupon_record(tx, body["shop"], body["coupon"])
    require(not record["revoked"], COUPON_INVALID, f"coupon {body['coupon']} was revoked already")
    record["revoked"] = True
    store.save(tx.state, keys.coupon(body["shop"], body["coupon"]), record)
    tx.emit("coupon_revoked", shop=body["shop"], code=body["coupon"])


HANDLERS = {"coupon_issue": handle_issue, "coupon_revoke": handle_revoke}
