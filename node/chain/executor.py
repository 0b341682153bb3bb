"""Execute committed blocks against the market rules and store each in one batch.

The order is fixed: market rules run over a write-buffering overlay of the
stored state, the change set updates the state tree (whose root is the next
state root), and the block, its certificate, receipts, tx index, state and
tree nodes land in one synced LevelDB batch.
A crash before the batch leaves the previous head; after it, the new one.

A block's header carries the state root after its parent, signed by a
quorum: a block whose root is not ours means our state is not the
network's, so it is refused before anything runs (the node stops).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from marketnode.core.errors import StorageCorruption, StorageError
from marketnode.core.types import Block, Certificate
from marketnode.market.context import BlockContext
from marketnode.market.engine import apply_block
from marketnode.market.receipts import Receipt
from marketnode.market.state import StateOverlay
from marketnode.node.storage.chainstore import ChainStore, Head

log = logging.getLogger("marketnode.executor")


@dataclass(frozen=True)
class Executed:
    """What one executed block produced, for the mempool, RPC waiters and subscriptions."""

    block: Block
    certificate: Certificate
    receipts: list[Receipt]
    head: Head


class BlockExecutor:
    """Applies committed blocks in height order; the only writer of chain state."""

    def __init__(self, store: ChainStore, chain_id: str) -> None:
        self.store = store
        self.chain_id = chain_id

    def execute(self, block: Block, certificate: Certificate) -> Executed:
        head = self.store.head()
        if head is None:
            raise StorageError("cannot execute a block before the genesis is stored")
        if block.height != head.height + 1:
            raise StorageError(f"block {block.height} does not follow the head at {head.height}")
        header = block.header
        if header.state_root != head.state_root:
            raise StorageCorruption(
                f"block {block.height} was certified on state root {header.state_root.hex()[:16]}… but this node's "
                f"state after block {head.height} has root {head.state_root.hex()[:16]}…: its stored state is "
                "damaged or it executed a block differently; it stops rather than serve that state"
            )
        overlay = StateOverlay(self.store.state_reader(), cache_reads=True)  # the store is written only below
        ctx = BlockContext(chain_id=self.chain_id, height=header.height, timestamp_ms=header.timestamp_ms,
                           proposer=header.proposer)
        receipts = apply_block(overlay, ctx, block.txs)
        changes = overlay.changes()
        new_head = self.store.commit_block(block, certificate, [r.encode() for r in receipts], changes,
                                           prior=overlay.base_values())
        return Executed(block, certificate, receipts, new_head)
