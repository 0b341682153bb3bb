"""chain_* methods: blocks with their txs, receipts and certificate; validators; genesis; evidence."""

from __future__ import annotations

from typing import Any

from marketnode.core.jsonable import certificate_to_json, header_to_json, to_json, tx_to_json
from marketnode.core.keys import address_from_pubkey
from marketnode.market.receipts import Receipt
from marketnode.node.boundary import ChainReader, NodeApi, committed_head
from marketnode.node.rpc.errors import RESOURCE_NOT_FOUND, not_found
from marketnode.node.rpc.registry import CallContext, Param, Registry, Result


def block_json(node: ChainReader, height: int, full: bool = True) -> dict[str, Any]:
    store = node.store
    block = store.get_block(height)
    if block is None:
        base = store.base_height()
        if 0 < height < base:
            raise not_found(f"block at height {height}: this node joined from a snapshot of height {base} and "
                            "keeps no earlier blocks; ask a node that replayed the chain")
        raise not_found(f"block at height {height}")
    cert = store.get_certificate(height)
    out: dict[str, Any] = {
        "height": height,
        "hash": block.hash.hex(),
        "header": header_to_json(block.header),
        "certificate": certificate_to_json(cert) if cert else None,
        "last_cert": certificate_to_json(block.last_cert) if block.last_cert else None,
        "tx_count": len(block.txs),
        "evidence": [to_json(e.to_obj()) for e in block.evidence],
    }
    if full:
        receipts = [Receipt.decode(r) for r in store.get_receipts(height)]
        out["txs"] = [tx_to_json(tx) for tx in block.txs]
        out["receipts"] = [to_json(r.to_obj()) for r in receipts]
    else:
        out["tx_hashes"] = [tx.hash.hex() for tx in block.txs]
    return out


def register(registry: Registry) -> None:
    @registry.method(
        "chain_getBlock",
        summary="A committed block by height or hash: header, txs, receipts and its commit certificate.",
        params=[
            Param("height", "integer", "Block height (1 = first block after genesis).", required=False, minimum=1),
            Param("hash", "hash", "Block hash (instead of height).", required=False),
            Param("full", "boolean", "Include txs and receipts (default true); else only tx hashes.",
                  required=False, default=True),
        ],
        result=Result("block", "The block.", {"type": "object"}),
        errors=(RESOURCE_NOT_FOUND,),
        tags=("chain",),
    )
    async def chain_getBlock(ctx: CallContext[NodeApi], full: bool, height: int | None = None,
                             hash: bytes | None = None) -> dict[str, Any]:
        if height is None and hash is None:
            height = committed_head(ctx.node.store).height
            if height == 0:
                raise not_found("any block: the chain has only its genesis")
        if hash is not None:
            found = ctx.node.store.get_block_height(hash)
            if found is None:
                raise not_found(f"block {hash.hex()}")
            height = found
        assert height is not None
        return block_json(ctx.node, height, full)

    @registry.method(
        "chain_getValidators",
        summary="The validator set: name, public key, address and p2p address of each.",
        result=Result("validators", "The validators in primary order.", {"type": "array"}),
        tags=("chain",),
    )
    async def chain_getValidators(ctx: CallContext[NodeApi]) -> list[dict[str, Any]]:
        return [
            {"name": v.name, "public_key": v.public_key.hex(), "address": address_from_pubkey(v.public_key),
             "p2p_address": v.p2p_address}
            for v in ctx.node.genesis.validators
        ]

    @registry.method(
        "chain_getGenesis",
        summary="The genesis document this chain started from, and its hash.",
        result=Result("genesis", "{hash, genesis}", {"type": "object"}),
        tags=("chain",),
    )
    async def chain_getGenesis(ctx: CallContext[NodeApi]) -> dict[str, Any]:
        import json

        return {"hash": ctx.node.genesis.hash.hex(), "genesis": json.loads(ctx.node.genesis.to_json())}

    @registry.method(
        "chain_getEvidence",
        summary="Equivocation evidence this node has seen or that blocks carried (newest first).",
        params=[Param("limit", "integer", "At most this many.", required=False, default=50, minimum=1, maximum=500)],
        result=Result("evidence", "Pairs of conflicting signed votes.", {"type": "array"}),
        tags=("chain",),
    )
    async def chain_getEvidence(ctx: CallContext[NodeApi], limit: int) -> list[dict[str, Any]]:
        out = []
        for ev in ctx.node.store.iter_evidence():
            out.append({"hash": ev.hash.hex(), "validator": ev.first.validator.hex(), "height": ev.first.height,
                        "view": ev.first.view, "phase": ev.first.phase, "evidence": to_json(ev.to_obj())})
            if len(out) >= limit:
                break
        return out
