"""JSON views of market state shared by the method modules: accounts as addresses, bytes as hex.

Read-only helpers over a state reader; where the market package has no
read-side helper for a shape a wallet wants, it is written here.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from marketnode.core.jsonable import address_json, to_json
from marketnode.market import keys, store
from marketnode.market.orders import CLAIM_OUTCOME, CLAIMANT, TRANSITIONS
from marketnode.market.reviews import average
from marketnode.market.roles import CERTIFIER, has_role
from marketnode.market.schema import RATINGS
from marketnode.node.boundary import IndexedReads
from marketnode.node.rpc.errors import index_unavailable

PAGE_DEFAULT = 20
PAGE_MAX = 100


def query_conn(node: IndexedReads) -> sqlite3.Connection:
    """The query index's connection, or INDEX_UNAVAILABLE when it stopped behind the chain (never stale rows)."""
    node.query_follower.fresh()  # every committed block, though the commit path left indexing for later
    index = node.query_index
    if index.fault is not None:
        raise index_unavailable(index.fault.describe(), index.height)
    return index.conn


def addr(value: bytes | None) -> str | None:
    return None if value is None else address_json(value)


def rating_json(totals: dict[str, int] | None) -> dict[str, Any]:
    """Rating sums as count and value-weighted averages times 100 (integers: no floats anywhere)."""
    count = totals["count"] if totals else 0
    return {"count": count, "avg_x100": {name: average(totals, name, 100) for name in RATINGS}}


def kyc_json(reader: Any, account: bytes, now_ms: int) -> dict[str, Any]:
    record = store.load(reader, keys.kyc(account))
    if record is None:
        return {"level": 0, "attested_level": 0, "expires_ms": None, "attester": None, "expired": False}
    expired = record["expires_ms"] <= now_ms
    return {"level": 0 if expired else record["level"], "attested_level": record["level"],
            "expires_ms": record["expires_ms"], "attester": addr(record["attester"]), "expired": expired,
            "set_ms": record["set_ms"]}


def arbiter_json(account: bytes, record: dict[str, Any]) -> dict[str, Any]:
    return {"address": addr(account), "active": record["active"], "fee_fixed": record["fee_fixed"],
            "fee_bps": record["fee_bps"], "description": record["description"], "since_ms": record["since_ms"]}


def shop_json(shop_id: int, shop: dict[str, Any]) -> dict[str, Any]:
    return {"id": shop_id, "owner": addr(shop["owner"]), "name": shop["name"], "description": shop["description"],
            "region": shop["region"], "accepted_assets": list(shop["accepted_assets"]),
            "arbiters": [addr(a) for a in shop["arbiters"]], "open": shop["open"], "created_ms": shop["created_ms"]}


def listing_summary_json(row: dict[str, Any]) -> dict[str, Any]:
    """A listing as the query index holds it (search results, recommendations)."""
    out = {key: row[key] for key in ("id", "shop", "type", "category", "title", "tags", "asset", "price", "stock",
                                     "active", "created_ms", "sales")}
    out["seller"] = addr(row["seller"])
    out["rating"] = {"count": row["rating_count"], "overall_avg_x100": row["rating_milli"] // 10}
    if "reason" in row:
        out["reason"] = row["reason"]
    return out


def order_summary_json(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in ("buyer", "seller", "arbiter"):
        out[key] = addr(row[key])
    return out


def deadlines_json(order: dict[str, Any], params: Any) -> dict[str, Any]:
    """The current deadline, what each party may do before it, and what a claim at it does."""
    status = order["status"]
    if status not in CLAIMANT:
        return {"current_ms": None, "actions": [], "claimable_by": None, "on_claim": None,
                "windows_ms": _windows(params)}
    actions = [{"action": name, "by": rule.actors[status], "timing": rule.timing}
               for name, rule in TRANSITIONS.items() if status in rule.actors and name != "order_claim"]
    return {"current_ms": order["deadline_ms"], "actions": actions, "claimable_by": CLAIMANT[status],
            "on_claim": CLAIM_OUTCOME[status], "windows_ms": _windows(params)}


def _windows(params: Any) -> dict[str, int]:
    return {"accept": params.accept_window_ms, "ship": params.ship_window_ms,
            "confirm": params.confirm_window_ms, "ruling": params.ruling_window_ms}


def order_json(order_id: int, order: dict[str, Any]) -> dict[str, Any]:
    out = to_json(order)
    out["id"] = order_id
    for key in ("buyer", "seller", "arbiter", "dispute_by"):
        out[key] = addr(order[key])
    if order.get("refund_offer"):
        out["refund_offer"]["by"] = addr(order["refund_offer"]["by"])
    return out


def certificate_json(reader: Any, cert_id: int, cert: dict[str, Any]) -> dict[str, Any]:
    chain = [store.load(reader, key) for key, _ in reader.iterate(keys.cert_history(cert_id))]
    accredited = has_role(reader, CERTIFIER, cert["issuer"])
    return {
        "id": cert_id, "fingerprint": cert["fingerprint"].hex(), "issuer": addr(cert["issuer"]),
        "issuer_accredited": accredited, "owner": addr(cert["owner"]), "record": cert["record"],
        "metadata_hash": None if cert["metadata_hash"] is None else cert["metadata_hash"].hex(),
        "issued_ms": cert["issued_ms"], "revoked": cert["revoked"], "revoke_reason": cert["revoke_reason"],
        "valid": accredited and not cert["revoked"],
        "ownership_chain": [{"from": addr(e["from"]), "to": addr(e["to"]), "time_ms": e["time_ms"]} for e in chain],
    }


def record_entry_json(seq: int, entry: dict[str, Any]) -> dict[str, Any]:
    out = to_json(entry)
    out["seq"] = seq
    out["by"] = addr(entry["by"])
    if isinstance(entry.get("account"), bytes):
        out["account"] = addr(entry["account"])
    return out


def page_json(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    return {"items": items, "next_cursor": next_cursor}
