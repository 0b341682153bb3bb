"""After-sales views for RPC: a shop's deposit and an order's return, with what waits on whom."""

from __future__ import annotations

from typing import Any

from core.jsonable import to_json
from market import keys, store
from market.returns import CLAIM_OUTCOME, CLAIMANT, TRANSITIONS
from node.api.views import addr


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
