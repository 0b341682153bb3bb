"""The wallet path into a Node's mempool: the overload bound before admission, the journal after it.

Wires node/mempool/admission.py (busy or not, from the measured commit rate) and
node/mempool/journal.py (acknowledged means on disk) to a running node: both
learn about commits through the node's block subscribers, and the journal is
replayed through normal admission at start. Gossiped txs never pass here:
they were acknowledged by another node already, and must still reach this one.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Protocol

from marketnode.core.errors import DecodeError, MarketnodeError
from marketnode.core.types import MAX_TX_BYTES, Tx
from marketnode.node.chain.executor import Executed
from marketnode.node.config import NodeConfig
from marketnode.node.mempool.admission import AdmissionControl, AdmissionLimits, RefusedNonces, Verdict
from marketnode.node.mempool.journal import MempoolJournal

log = logging.getLogger("marketnode.intake")


class PoolView(Protocol):
    """What intake reads of the mempool."""

    def __len__(self) -> int: ...

    def __contains__(self, tx_hash: object) -> bool: ...

    def unblocks(self, sender: bytes, nonce: int, next_nonce: int) -> bool: ...

    def executable_count(self) -> int: ...


GAP_RETRY_MS = 250  # a wallet tx whose earlier nonce may be arriving by gossip: about one gossip round


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class TxIntake:
    """Admission control and the mempool journal for one node."""

    def __init__(self, cfg: NodeConfig, mempool: PoolView, clock: Callable[[], int] = monotonic_ms,
                 catching_up: Callable[[], bool] = lambda: False,
                 account_nonce: Callable[[bytes], int] = lambda _sender: 0) -> None:
        m = cfg.mempool
        self.mempool = mempool
        self.clock = clock
        self.catching_up = catching_up  # blocks applied by sync come faster than the network commits
        self.account_nonce = account_nonce
        self.refused_nonces = RefusedNonces()
        self.admission = AdmissionControl(AdmissionLimits(max_pending_ms=m.max_pending_ms,
                                                          min_commit_tps=m.min_commit_tps,
                                                          floor_commit_tps=m.floor_commit_tps))
        # Live records never exceed the pool's bytes, and a rewrite is due at twice that (plus slack).
        self.journal = (MempoolJournal(cfg.path(m.journal_file), m.max_tx_bytes, mempool.__contains__,
                                       max_file_bytes=2 * m.max_bytes + 1024 * m.max_tx_bytes)
                        if m.journal_file else None)

    @property
    def durable(self) -> bool:
        return self.journal is not None

    def verdict(self, offered: int, reserve: bool = False) -> Verdict:
        """How many of ``offered`` wallet txs the pool may take now (node/mempool/admission.py).

        The backlog is every pending tx, those behind a nonce gap included:
        left out, they filled pools to their cap under load spread over nodes
        (`bench tps`: 45,000 pending, or 10,000 gapped txs on a primary with
        nothing to propose). A tx that fills a gap is let in whatever the
        backlog (``unblocks``); gapped txs have a cap of their own
        (``[mempool] max_gapped``) and expire after GAPPED_TTL_S
        (node/service.py), so txs whose missing nonce never comes cannot keep
        a node busy for good.

        ``reserve``: the refused txs take comeback slots (node/mempool/admission.py ``RetrySlots``); only a
        refusal that is sent should.
        """
        return self.admission.decide(len(self.mempool), offered, self.clock() if reserve else None)

    def gaps_allowed(self, raw: bytes) -> bool:
        """May this wallet tx be acknowledged behind a nonce gap? Only while the pool is under half its
        bound, and not while this node is holding back an earlier nonce of its sender refused as busy.

        A lightly loaded node takes nonce k+1 before k arrives by gossip (a wallet may send k and k+1 to
        two nodes at once; gossip closes the gap in milliseconds). Under load it refuses it (-32005
        ``nonce_gap``): acknowledged txs behind nonces being refused elsewhere waited 19 s at p50 in
        ``bench tps``, behind nonces that came late or never.
        """
        limits = self.admission.limits
        if limits.max_pending_ms != 0 and len(self.mempool) * 2 >= self.admission.capacity():
            return False
        if not len(self.refused_nonces):
            return True
        tx = _peek(raw)
        return tx is None or self.refused_nonces.held_behind(
            tx.sender, tx.nonce, self.account_nonce(tx.sender), self.clock()) is None

    def unblocks(self, raw: bytes) -> bool:
        """True if this wallet tx fills the nonce gap in front of txs the pool holds: admitted even when busy."""
        if self.mempool.executable_count() == len(self.mempool):
            return False  # nothing waits behind a gap: no decode needed
        tx = _peek(raw)
        return tx is not None and self.mempool.unblocks(tx.sender, tx.nonce, self.account_nonce(tx.sender))

    def refuse_busy(self, raw: bytes) -> tuple[Verdict, int | None]:
        """The busy refusal for this wallet tx: (its verdict with a comeback hint, the sender's earlier
        nonce it waits behind, if any).

        The first refused nonce of a sender takes a comeback slot and is remembered; a later nonce of the
        same sender, refused while that one waits, is told to come just after it and takes no slot of its
        own: it cannot be admitted before the earlier one, and a slot per tx of a refused batch of 150
        pushed everyone's comeback 3 s further per round (tests/reliability/test_busy_retry.py took 3 min).
        """
        tx = _peek(raw)
        now = self.clock()
        if tx is not None:
            held = self.refused_nonces.held_behind(tx.sender, tx.nonce, self.account_nonce(tx.sender), now)
            if held is not None:
                verdict = self.verdict(1)
                wait = self.admission.slots.wait_until(held[1] + 1, now)
                return dataclasses.replace(verdict, retry_after_ms=wait), held[0]
        verdict = self.verdict(1, reserve=True)
        if tx is not None:
            self.refused_nonces.refused(tx.sender, tx.nonce, now, now + verdict.retry_after_ms)
        return verdict, None

    def gap_hint_ms(self, raw: bytes) -> int:
        """How long a wallet tx refused for a nonce gap should wait before it is sent again.

        If this node refused the missing nonce as busy, just past the comeback
        slot it was given (asking sooner is refused again for nothing: a
        ``bench tps`` run spent a million refusals that way). Otherwise the
        missing nonce is most likely on its way by gossip from another node:
        GAP_RETRY_MS, about one gossip round.
        """
        now = self.clock()
        tx = _peek(raw) if len(self.refused_nonces) else None
        held = (None if tx is None else
                self.refused_nonces.held_behind(tx.sender, tx.nonce, self.account_nonce(tx.sender), now))
        slots = self.admission.slots
        return slots.wait_until(now + GAP_RETRY_MS if held is None else held[1] + 1, now)

    def note_admitted(self, tx: Tx) -> None:
        if len(self.refused_nonces):
            self.refused_nonces.admitted(tx.sender, tx.nonce)

    async def record(self, txs: list[Tx]) -> bool:
        """Journal admitted wallet txs; True once they are on disk (False: journal off or the disk refused)."""
        if self.journal is None:
            return False
        return await self.journal.record([(tx.hash, tx.encode()) for tx in txs])

    def on_block(self, executed: Executed) -> None:
        """A block subscriber: after the pool dropped the block's txs, so ``len(mempool)`` is what is left."""
        txs = executed.block.txs
        measured = 0 if self.catching_up() else len(txs)  # a synced block is no sample of the commit rate
        self.admission.on_commit(self.clock(), measured, self.mempool.executable_count())
        if self.journal is not None:
            self.journal.forget([tx.hash for tx in txs])

    def replay(self, submit: Callable[[bytes], Tx]) -> int:
        """Re-admit what the journal held at the last stop, through ``submit`` (normal admission); returns
        how many went back in. Refusals are expected (committed meanwhile, nonce used) and only counted."""
        if self.journal is None:
            return 0
        readmitted: dict[bytes, bytes] = {}
        refused = 0
        for raw in self.journal.load():
            try:
                tx = submit(raw)
            except MarketnodeError:
                refused += 1
                continue
            readmitted[tx.hash] = raw
        self.journal.start(readmitted)
        if readmitted or refused:
            log.info("mempool journal: %d txs re-admitted, %d no longer admissible (committed or replaced)",
                     len(readmitted), refused)
        return len(readmitted)

    def status(self) -> dict[str, object]:
        """For node_status: is the node refusing as busy now, and what bounds it."""
        gate = self.admission
        return {"busy": self.verdict(1).busy, "capacity": gate.capacity(), "commit_tps": int(gate.rate.tps),
                "measured": gate.rate.measured, "max_pending_ms": gate.limits.max_pending_ms,
                "durable": self.durable}

    async def run(self) -> None:
        if self.journal is not None:
            await self.journal.run()

    def close(self) -> None:
        if self.journal is not None:
            self.journal.close()


def _peek(raw: bytes) -> Tx | None:
    """Sender and nonce of a tx not yet admitted (junk is left to admission to refuse)."""
    try:
        return Tx.decode(raw, max_bytes=MAX_TX_BYTES)
    except DecodeError:
        return None
