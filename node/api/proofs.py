"""state_getProof and the ``proof`` parts of other answers: values, absences and receipts a wallet checks alone.

A state is provable once a header commits its root: the state after block
h is in header h+1 (execution follows commit), so the newest provable
state is the one after the head's parent. Proofs come from the state tree,
which keeps ``storage.state_versions`` heights (docs/PROTOCOL.md §7.2-7.3).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from marketnode.core.errors import StorageCorruption
from marketnode.core.hashing import digest
from marketnode.core.merkle import merkle_proof
from marketnode.core.stateproof import (
    MAX_KEY_BYTES,
    MAX_PROOF_KEYS,
    KeyProof,
    ReceiptProof,
    StateProof,
    receipts_root_key,
)
from marketnode.node.boundary import ChainReader, NodeApi, committed_head
from marketnode.node.rpc.errors import RESOURCE_NOT_FOUND, invalid_params, not_found
from marketnode.node.rpc.registry import CallContext, Param, Registry, Result
from marketnode.node.storage.statetree import VersionPruned

PROOF_PARAM = Param("proof", "boolean", "Also return `proof`: a state proof (as state_getProof) of the keys this "
                    "answer is read from, at the newest state a header commits to (the head's parent: the fields "
                    "above are at the head and may be one block newer). account_get proves the nonce, the "
                    "profile and the balances of the native asset and up to 61 others.", required=False,
                    default=False)

STATE_PROOF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["height", "header", "certificate", "proofs"],
    "properties": {
        "height": {"type": "integer", "description": "the proofs hold for the state after this block"},
        "header": {"type": "object", "description": "header of block height+1: its state_root is that state's root"},
        "certificate": {"type": "object", "description": "commit certificate of that header"},
        "proofs": {"type": "array", "items": {
            "type": "object", "required": ["key", "value", "proof"],
            "properties": {
                "key": {"type": "string", "description": "state key, hex"},
                "value": {"type": ["string", "null"], "description": "value, hex; null: the key is absent"},
                "proof": {"type": "object", "required": ["leaf", "siblings"], "properties": {
                    "leaf": {"type": ["object", "null"], "properties": {"path": {"type": "string"},
                                                                         "value_hash": {"type": "string"}}},
                    "siblings": {"type": "array", "items": {"type": "string"}}}},
            }}},
    },
}


def newest_provable(node: ChainReader) -> int | None:
    """The newest height whose state a stored header commits to; None while only the genesis exists."""
    head = committed_head(node.store)
    return None if head.height == 0 else head.height - 1


def state_proof(node: ChainReader, keys: Sequence[bytes], height: int | None = None) -> StateProof:
    """Proofs of ``keys`` in the state after block ``height`` (default: the newest provable one)."""
    store = node.store
    newest = newest_provable(node)
    if newest is None:
        raise not_found("a provable state: no block commits a state root yet (the first block will)")
    if height is None:
        height = newest
    if height > newest:
        raise invalid_params(f"the state after block {height} is not committed by a header yet; "
                             f"the newest provable height is {newest}", "height")
    header_block = node.cached_block(height + 1)
    certificate = store.get_certificate(height + 1)
    if header_block is None or certificate is None:  # below the snapshot a node was restored from
        raise not_found(f"block {height + 1}, whose header commits the state after block {height}: this node "
                        f"holds blocks from height {store.base_height()} on")
    try:
        entries = []
        for key in keys:
            proof, value = store.state_proof(height, key)
            entries.append(KeyProof(key, value, proof))
    except VersionPruned:
        raise not_found(f"the state tree at height {height}: this node keeps the last "
                        f"{store.versions_kept} heights (storage.state_versions)") from None
    return StateProof(height, header_block.header, certificate, tuple(entries))


def receipt_proof(node: ChainReader, height: int, index: int, receipt: bytes) -> ReceiptProof | None:
    """The proof of the receipt of tx ``index`` of block ``height``; None until a header commits that block's state."""
    newest = newest_provable(node)
    if newest is None or newest < height:
        return None
    block = node.cached_block(height)
    if block is None:
        raise StorageCorruption(f"block {height} is missing, though its receipts are asked for")
    # Stored receipts are their canonical bytes, so each hash is one digest: no decode and re-encode.
    path = merkle_proof([digest("receipt", r) for r in node.store.get_receipts(height)], index)
    assert path.size == len(block.txs)
    return ReceiptProof(receipt, path, state_proof(node, [receipts_root_key(height)], newest))


def register(registry: Registry) -> None:
    @registry.method(
        "state_getProof",
        summary="Values (or absence) of state keys with a Merkle proof each, and the certified header that anchors them.",
        description="The state after block `height` (default: the newest one a header commits to, i.e. the head's "
                    "parent) is committed by header `height + 1`. Check: the certificate is for that header and "
                    "signed by a quorum of validators; each proof leads from its key and value to the header's "
                    "`state_root` (docs/PROTOCOL.md §7.2-7.3; wallet/light.py does all of it). Heights older "
                    "than this node's `storage.state_versions` are pruned (-32001).",
        params=[Param("keys", "array", "State keys as hex (docs/MARKET.md, State keys).", max_length=MAX_PROOF_KEYS,
                      items="hex"),
                Param("height", "integer", "Prove the state after this block.", required=False, minimum=0)],
        result=Result("proof", "{height, header, certificate, proofs: [{key, value, proof}]}", STATE_PROOF_SCHEMA),
        errors=(RESOURCE_NOT_FOUND,),
        tags=("chain",),
    )
    async def state_getProof(ctx: CallContext[NodeApi], keys: list[bytes], height: int | None = None) -> dict[str, Any]:
        for key in keys:
            if not key or len(key) > MAX_KEY_BYTES:
                raise invalid_params(f"a state key is 1 to {MAX_KEY_BYTES} bytes", "keys")
        return state_proof(ctx.node, keys, height).to_json()
