"""The node's side of the consensus Application interface: mempool + stored state.

Signatures are checked once per node: a tx the mempool verified on admission
is not verified again when it arrives inside a proposal.
"""

from __future__ import annotations

from marketnode.core.errors import SignatureError, ValidationError
from marketnode.core.types import Block, Tx
from marketnode.market.accounts import next_nonce
from marketnode.node.mempool.pool import Mempool
from marketnode.node.storage.chainstore import ChainStore


class BlockBudget:
    """How many txs a block this node proposes may carry so that committing it takes about ``budget_ms``.

    Every validator executes every block before the next can start, so a
    block's commit time is a gap the whole network waits through. Under load
    on a shared host a 2,094-tx block took 1.3 s to execute and 0.4 s to
    index on each validator, and with agreement on top the chain showed
    8.4 s between two blocks with thousands of txs waiting (``bench tps``).
    Smaller blocks cost a few more consensus rounds but bound the gaps, and
    latency follows the gaps. The per-tx cost is measured from this node's
    own commits (a moving average over blocks of at least MIN_SAMPLE_TXS),
    so it rises when the host is busy. Only the proposer's choice: replicas
    accept any block within ``max_block_txs``, so nothing here needs to agree.
    """

    MIN_SAMPLE_TXS = 50
    MIN_TXS = 200  # never fewer per block than this, however slow the host
    WEIGHT = 0.3

    def __init__(self, budget_ms: int) -> None:
        self.budget_ms = budget_ms
        self.us_per_tx: float | None = None

    def on_commit(self, txs: int, elapsed_ms: float) -> None:
        if txs < self.MIN_SAMPLE_TXS:
            return
        sample = elapsed_ms * 1000 / txs
        self.us_per_tx = sample if self.us_per_tx is None else self.us_per_tx + self.WEIGHT * (sample - self.us_per_tx)

    def max_txs(self, limit: int) -> int:
        """At most ``limit`` (the consensus cap); fewer when the measured cost says the budget would overrun."""
        if self.budget_ms <= 0 or self.us_per_tx is None or self.us_per_tx <= 0:
            return limit
        return max(min(limit, self.MIN_TXS), min(limit, int(self.budget_ms * 1000 / self.us_per_tx)))


class ChainApplication:
    """What the replica asks of this node (consensus.app.Application)."""

    def __init__(self, store: ChainStore, mempool: Mempool, max_tx_bytes: int, block_budget_ms: int = 0) -> None:
        self.store = store
        self.mempool = mempool
        self.max_tx_bytes = max_tx_bytes
        self.budget = BlockBudget(block_budget_ms)

    def account_nonce(self, account: bytes) -> int:
        return next_nonce(self.store.state_reader(), account)

    def has_proposable(self) -> bool:
        return self.mempool.has_proposable()

    def take_batch(self, max_txs: int, max_bytes: int) -> list[Tx]:
        return self.mempool.take_batch(self.budget.max_txs(max_txs), max_bytes, self.account_nonce)

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
