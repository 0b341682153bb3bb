"""node_* methods: what a wallet or operator asks of the node itself."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from marketnode.core.keys import address_from_pubkey
from marketnode.node.boundary import NodeApi
from marketnode.node.datadir import remedy
from marketnode.node.rpc.registry import CallContext, Registry, Result


def register(registry: Registry) -> None:
    @registry.method(
        "node_status",
        summary="Chain id, node id, head height and hash, state root, view, role, peers, sync and mempool.",
        description="`intake` is {busy, capacity, commit_tps, measured, max_pending_ms, durable}: whether "
                    "`tx_send` now refuses as busy, how many txs may wait (what the node commits in "
                    "`max_pending_ms` at `commit_tps`, measured or the configured floor) and whether "
                    "acknowledgements are journaled. `content` is {wanted, fetched, wrong_bytes_from_peers, "
                    "unreferenced_bytes, scanned_height}: the content store's fetching and retention (docs/OPERATIONS.md).",
        result=Result("status", "The node's status.", {"type": "object"}),
        tags=("node",),
    )
    async def node_status(ctx: CallContext[NodeApi]) -> dict[str, Any]:
        return {**ctx.node.status(), "intake": ctx.node.intake.status(), "content": ctx.node.content.status()}

    @registry.method(
        "node_peers",
        summary="The peers this node is connected to, with traffic counters and scores.",
        result=Result("peers", "One object per connected peer.", {"type": "array"}),
        tags=("node",),
    )
    async def node_peers(ctx: CallContext[NodeApi]) -> list[dict[str, Any]]:
        return [_peer_json(peer) for peer in ctx.node.p2p.peers()]

    @registry.method(
        "node_health",
        summary="ok when the node is running, not syncing, connected, its database reads cleanly and its query "
                "index is up to date; reasons otherwise.",
        description="`query_index` is {ok, height, reason, retry_at}: a query index that failed (it never "
                    "stops the chain) holds blocks up to `height`, says why in `reason`, and tries again at "
                    "chain height `retry_at` (null: after a restart). A read that found the database damaged "
                    "adds a `storage: ...` reason with what to do.",
        result=Result("health", "{ok: bool, reasons: [...], height, query_index: {ok, height, reason, retry_at}}",
                      {"type": "object"}),
        tags=("node",),
    )
    async def node_health(ctx: CallContext[NodeApi]) -> dict[str, Any]:
        status = ctx.node.status()
        reasons = []
        if status["syncing"]:
            reasons.append(f"syncing to height {status['sync_target']}")
        if status["peers"] == 0 and len(ctx.node.validators) > 1:
            reasons.append("no peers")
        elif len(ctx.node.validators) > 1 and not any(p.reserved for p in ctx.node.p2p.peers()):
            reasons.append(f"no validator among its {status['peers']} peers")  # strangers hold the slots
        fault = ctx.node.store.kv.fault
        if fault is not None:
            reasons.append(f"storage: {fault}. To fix it: {remedy(ctx.node.cfg.home)}")
        ctx.node.query_follower.fresh()
        index = ctx.node.query_index.health()
        if not index["ok"]:
            reasons.append(index["reason"])
        return {"ok": not reasons, "reasons": reasons, "height": status["height"], "query_index": index}


def _peer_json(peer: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(peer):
        value = getattr(peer, f.name)
        if isinstance(value, bytes):
            value = value.hex()
        elif isinstance(value, float):  # JSON results carry no floats: seconds become ms
            value = round(value * 1000) if f.name == "connected_since" else round(value)
        elif not isinstance(value, (int, str, type(None))):
            value = str(value)
        out[f.name] = value
    out["connected_since_ms"] = out.pop("connected_since")
    out["address_mn"] = address_from_pubkey(peer.pubkey)
    return out
