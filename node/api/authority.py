"""account_getAuthority: who may sign for an account, its guardians and any pending recovery.

A read of committed state only; the rules live in market/authority.py and market/recovery.py.
"""

from __future__ import annotations

from typing import Any

from marketnode.core.keys import address_from_pubkey
from marketnode.market import keys, store
from marketnode.market.authority import authority_of
from marketnode.market.recovery import guardians_of, recovery_state
from marketnode.node.api.views import addr
from marketnode.node.boundary import NodeApi
from marketnode.node.rpc.registry import CallContext, Param, Registry, Result


def authority_json(reader: Any, account: bytes) -> dict[str, Any]:
    auth = authority_of(reader, account)
    guard = guardians_of(reader, account)
    pending = store.load(reader, keys.recovery(account))
    return {
        "address": address_from_pubkey(account),
        "default": reader.get(keys.authority(account)) is None,
        "keys": [{"public_key": k.hex(), "address": address_from_pubkey(k)} for k in auth.keys],
        "threshold": auth.threshold,
        "kinds": None if auth.kinds is None else list(auth.kinds),
        "above": auth.above,
        "version": auth.version,
        "guardians": None if guard is None else {
            "guardians": [addr(g) for g in guard["guardians"]], "threshold": guard["threshold"],
            "delay_ms": guard["delay_ms"]},
        "recovery": None if pending is None else {
            "id": pending["id"], "state": recovery_state(pending), "new_key": pending["new_key"].hex(),
            "approvals": [addr(g) for g in pending["approvals"]], "started_ms": pending["started_ms"],
            "approve_by_ms": pending["approve_by_ms"], "ready_ms": pending["ready_ms"]},
    }


def register(registry: Registry) -> None:
    @registry.method(
        "account_getAuthority",
        summary="The keys that may sign for an account, how many a tx needs, its guardians and pending recovery.",
        description="`default: true` means no key set was ever set: the address's own key alone signs. "
                    "`kinds`/`above` say which txs need `threshold` keys (both null: all). `recovery.state` is "
                    "`collecting` (approvals until `approve_by_ms`) or `waiting` (finishable from `ready_ms`); "
                    "see docs/MARKET.md.",
        params=[Param("address", "address", "The account (mn1...).")],
        result=Result("authority", "{address, default, keys, threshold, kinds, above, version, guardians, recovery}",
                      {"type": "object"}),
        tags=("accounts",),
    )
    async def account_get_authority(ctx: CallContext[NodeApi], address: bytes) -> dict[str, Any]:
        return authority_json(ctx.node.store.state_reader(), address)
