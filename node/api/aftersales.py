"""After-sales views for RPC: a shop's deposit, an order's return with what waits on whom, and coupons."""

from __future__ import annotations

from typing import Any

from marketnode.core.jsonable import to_json
from marketnode.market import keys, store
from marketnode.market.returns import CLAIM_OUTCOME, CLAIMANT, TRANSITIONS
from marketnode.node.api.views import addr
from marketnode.node.boundary import NodeApi, committed_head
from marketnode.node.rpc.errors import RESOURCE_NOT_FOUND, not_found
from marketnode.node.rpc.registry import CallContext, Param, Registry, Result


def aftersales_json(reader: Any, shop_id: int, assets: list[str]) -> dict[str, Any]:
    """Per accepted asset: what the deposit holds free for refunds and what the shop owes buyers."""
    return {asset: {"free": store.load_int(reader, keys.aftersales_deposit(shop_id, asset)),
                    "owed": store.load_int(reader, keys.aftersales_owed(shop_id, asset))} for asset in assets}


def return_json(reader: Any, order_id: int) -> dict[str, Any] | None:
    record = store.load(reader, keys.order_return(order_id))
    if record is None:
        return None
    out = to_json(record)
    for key in ("buyer", "seller", "arbiter"):
        out[key] = addr(record[key])
    status = record["status"]
    out["deadlines"] = {
        "current_ms": record["deadline_ms"] or None,
        "actions": [{"action": name, "by": rule.actors[status], "timing": rule.timing}
                    for name, rule in TRANSITIONS.items() if status in rule.actors and name != "return_claim"],
        "claimable_by": CLAIMANT.get(status), "on_claim": CLAIM_OUTCOME.get(status),
    }
    return out


def register(registry: Registry) -> None:
    @registry.method(
        "coupon_get",
        summary="One coupon of a shop: percent or fixed amount off the goods, uses left, expiry, and whether an "
                "order placed now could use it.",
        description="`valid` is judged at the head block's time; a fixed coupon applies only to listings priced "
                    "in its `asset`. The discount of a percent coupon is `goods * percent_bps // 10000` (rounded "
                    "down); shipping is never discounted.",
        params=[Param("shop", "integer", "Shop id.", minimum=1),
                Param("coupon", "string", "The code.", max_length=16)],
        result=Result("coupon", "The coupon.", {"type": "object"}),
        errors=(RESOURCE_NOT_FOUND,),
        tags=("market",),
    )
    async def coupon_get(ctx: CallContext[NodeApi], shop: int, coupon: str) -> dict[str, Any]:
        record = store.load(ctx.node.store.state_reader(), keys.coupon(shop, coupon))
        if record is None:
            raise not_found(f"coupon {coupon} of shop {shop}")
        head_ms = committed_head(ctx.node.store).timestamp_ms
        valid = not record["revoked"] and head_ms < record["expires_ms"] and record["used"] < record["max_uses"]
        return {"shop": shop, "coupon": coupon, **record, "valid": valid}
