"""The node's side of the consensus Application interface: mempool + stored state.

Signatures are checked once per node: a tx the mempool verified on admission
is not verified again when it arrives inside a proposal.
"""

from __future__ import annotations

from core.errors import SignatureError, ValidationError
from core.types import Block, Tx
from market.accounts import next_nonce
from node.mempool import Mempool
from node.storage.chainstore import ChainStore


class ChainApplication:
    """What the replica asks of this node (consensus.app.Application)."""

    def __init__(self, store: ChainStore, mempool: Mempool, max_tx_bytes: int) -> None:
        self.store = store
        self.mempool = mempool
        self.max_tx_bytes = max_tx_bytes

    def account_nonce(self, account: bytes) -> int:
        return next_nonce(self.store.state_reader(), account)

    def has_proposable(self) -> bool:
        return self.mempool.has_proposable()

    def take_batch(self, max_txs: int, max_bytes: int) -> list[Tx]:
        return self.mempool.take_batch(max_txs, max_bytes, self.account_nonce)

    def check_block(self, block: Block) -> None:
        seen: set[bytes] = set()
        for tx in block.txs:
            tx_hash = tx.hash
            if tx_hash in seen:
                raise ValidationError(f"block holds tx {tx_hash.hex()} twice")
            seen.add(tx_hash)
            if len(tx.encode()) > self.max_tx_bytes:
                raise ValidationError(f"block holds a tx over {self.max_tx_bytes} bytes")
            if self.store.get_tx_location(tx_hash) is not None:
                raise ValidationError(f"block holds tx {tx_hash.hex()} that is already committed")
            if not self.mempool.is_verified(tx_hash) and not tx.verify():
                raise SignatureError(f"block holds tx {tx_hash.hex()} with an invalid signature")

    def state_root(self) -> bytes:
        head = self.store.head()
        assert head is not None, "the genesis is stored before consensus starts"
        return head.state_root
