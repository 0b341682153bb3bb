"""The consensus driver: the one task that owns the replica and writes the chain.

Every input that can change consensus or chain state — a peer's consensus
message, a timer, new work, a synced batch, a restored snapshot — is a typed
event on one queue, handled one at a time, so consensus state has exactly
one writer. The replica answers with actions (consensus/actions.py), which
are performed in order with an exhaustive ``match``: a PersistLastSigned is
on disk before the next action runs, a CommitBlock is executed and stored
before the replica hears it was.

Failures are sorted three ways. Refused input (a MarketnodeError) is logged
and dropped: peers send junk. A storage failure stops the node to protect
the chain. Anything else is a bug whose effect on the replica's state is
unknown, so it also stops the node, with a log line that says so, rather
than carrying on with a replica that may vote on a state it does not hold.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, assert_never

from marketnode.consensus.actions import (
    Action,
    Broadcast,
    CancelTimer,
    CommitBlock,
    PersistLastSigned,
    RecordEvidence,
    RequestBlocks,
    SendTo,
    SetTimer,
)
from marketnode.consensus.messages import Message, encode_message
from marketnode.consensus.replica import Replica
from marketnode.core.errors import MarketnodeError, StorageCorruption, StorageError
from marketnode.core.types import Block, Certificate, Evidence, Tx
from marketnode.market.receipts import Receipt
from marketnode.node.chain.app import ChainApplication
from marketnode.node.chain.executor import BlockExecutor, Executed
from marketnode.node.clock import now_ms
from marketnode.node.datadir import remedy
from marketnode.node.mempool.pool import Mempool
from marketnode.node.snapshot.fetch import Anchor
from marketnode.node.storage.chainstore import ChainStore

log = logging.getLogger("marketnode.node")

CONSENSUS_TOPIC = "consensus"
STALL_WARN_S = 5.0  # a warning each period while proposable work waits with no block


# ---- inbox events -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Received:
    """A consensus message from a peer, already decoded."""

    sender: bytes
    msg: Message


@dataclass(frozen=True, slots=True)
class TimerFired:
    name: str


@dataclass(frozen=True, slots=True)
class WorkArrived:
    """The mempool holds proposable txs (coalesced: at most one is queued at a time)."""


@dataclass(frozen=True, slots=True, eq=False)
class SyncedBatch:
    """Certified blocks fetched by the syncer; ``done`` gets how many were applied."""

    batch: list[tuple[Block, Certificate]]
    done: asyncio.Future[int]


@dataclass(frozen=True, slots=True, eq=False)
class RestoreSnapshot:
    """A verified snapshot to install as the head; ``done`` completes (or fails) when it is."""

    anchor: Anchor
    state: dict[bytes, bytes]
    done: asyncio.Future[None]


@dataclass(frozen=True, slots=True)
class Stop:
    """Finish: the driver returns after the event in hand."""


Event = Received | TimerFired | WorkArrived | SyncedBatch | RestoreSnapshot | Stop


class ConsensusDriverFailed(MarketnodeError):
    """The driver hit an unexpected error: the node stops rather than run a replica in an unknown state."""


# ---- what the driver needs from the rest of the node ----------------------------


class ConsensusTransport(Protocol):
    """The p2p calls that carry consensus messages (node/p2p_routes.py receives them)."""

    def broadcast(self, topic: str, payload: bytes, exclude: bytes | None = None) -> None: ...

    def send(self, peer: bytes, topic: str, payload: bytes) -> bool: ...


class BroadcastFilter(Protocol):
    """TEST ONLY (tools/byzantine.py): may rewrite a consensus broadcast; True means it sent its own."""

    def broadcast(self, msg: Message) -> bool: ...


BlockSubscriber = Callable[[Executed], None]


@dataclass
class CommitWaiters:
    """Futures of RPC callers waiting for a tx to commit, keyed by tx hash."""

    by_hash: dict[bytes, list[asyncio.Future[tuple[int, int, Receipt]]]] = field(default_factory=dict)

    def add(self, tx_hash: bytes) -> asyncio.Future[tuple[int, int, Receipt]]:
        fut: asyncio.Future[tuple[int, int, Receipt]] = asyncio.get_running_loop().create_future()
        self.by_hash.setdefault(tx_hash, []).append(fut)
        return fut

    def resolve(self, tx_hash: bytes, value: tuple[int, int, Receipt]) -> None:
        for fut in self.by_hash.pop(tx_hash, ()):
            if not fut.done():
                fut.set_result(value)

    def discard(self, tx_hash: bytes, fut: asyncio.Future[tuple[int, int, Receipt]]) -> None:
        futs = self.by_hash.get(tx_hash)
        if futs and fut in futs:
            futs.remove(fut)
            if not futs:
                del self.by_hash[tx_hash]


@dataclass(frozen=True)
class DriverHooks:
    """What the driver calls outside consensus: each a narrow callable, so the driver imports no service."""

    request_blocks: Callable[[], None]  # a RequestBlocks action: wake the syncer
    offer_heads: Callable[[], None]  # a view change: offer every sender's next txs (node/mempool/gossip.py)
    syncing: Callable[[], bool]
    still_signed: Callable[[Tx], bool]  # after a key change: do a pending tx's signers still hold authority?
    on_restored: Callable[[], None]  # a snapshot became the head: caches and derived indexes rebuild


class ConsensusDriver:
    """Owns the replica, its timers and the chain writes; fed through ``post``."""

    def __init__(self, replica: Replica, make_replica: Callable[[], Replica], store: ChainStore,
                 executor: BlockExecutor, mempool: Mempool, app: ChainApplication, transport: ConsensusTransport,
                 hooks: DriverHooks, subscribers: list[BlockSubscriber], waiters: CommitWaiters, home: Path,
                 misbehaviour: BroadcastFilter | None = None, clock: Callable[[], int] = now_ms) -> None:
        self.replica = replica
        self._make_replica = make_replica  # a restored snapshot restarts consensus from the new head
        self.store = store
        self.executor = executor
        self.mempool = mempool
        self.app = app
        self.transport = transport
        self.hooks = hooks
        self.subscribers = subscribers
        self.waiters = waiters
        self.home = home
        self.misbehaviour = misbehaviour
        self.clock = clock
        self.evidence: list[Evidence] = []
        self.inbox: asyncio.Queue[Event] = asyncio.Queue()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._work_queued = False
        self._last_commit_mono = time.monotonic()

    # ---- input -------------------------------------------------------------------

    def post(self, event: Event) -> None:
        self.inbox.put_nowait(event)

    def notify_work(self) -> None:
        if not self._work_queued:
            self._work_queued = True
            self.post(WorkArrived())

    async def apply_synced(self, batch: list[tuple[Block, Certificate]]) -> int:
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.post(SyncedBatch(batch, done))
        return await done

    async def restore(self, anchor: Anchor, state: dict[bytes, bytes]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.post(RestoreSnapshot(anchor, state, done))
        await done

    # ---- the task ------------------------------------------------------------------

    async def run(self) -> None:
        """Handle events until Stop; raise to stop the node on a storage failure or a bug."""
        try:
            while True:
                event = await self.inbox.get()
                if isinstance(event, Stop):
                    return
                position = (self.replica.height, self.replica.view)
                try:
                    self.handle(event)
                except StorageError as exc:
                    log.exception("storage failed; stopping the node to protect the chain")
                    if isinstance(exc, StorageCorruption):
                        log.error("to fix it: %s", remedy(self.home))
                    raise
                except MarketnodeError as exc:
                    log.warning("input %s refused: %s", type(event).__name__, exc)
                except Exception as exc:
                    log.critical("consensus driver failed unexpectedly handling %s (%s: %s); stopping the node: "
                                 "a replica in an unknown state must not vote", type(event).__name__,
                                 type(exc).__name__, exc, exc_info=exc)
                    raise ConsensusDriverFailed(
                        f"the consensus driver failed unexpectedly handling {type(event).__name__}: "
                        f"{type(exc).__name__}: {exc} (a bug; the log has the traceback)") from exc
                self._log_view_change(position)
        finally:
            self.cancel_timers()

    def handle(self, event: Event) -> None:
        now = self.clock()
        match event:
            case Received(sender, msg):
                self.perform(self.replica.receive(sender, msg, now))
            case TimerFired(name):
                self._timers.pop(name, None)
                self.perform(self.replica.on_timer(name, now))
            case WorkArrived():
                self._work_queued = False
                self.perform(self.replica.on_work(now))
            case SyncedBatch(batch, done):
                applied = self._apply_synced(batch)
                if not done.done():
                    done.set_result(applied)
            case RestoreSnapshot(anchor, state, done):
                try:
                    self._restore(anchor, state)
                except Exception as exc:  # the state-sync client reports it and falls back to replay
                    if not done.done():
                        done.set_exception(exc)
                    return
                if not done.done():
                    done.set_result(None)
            case Stop():
                pass
            case _:
                assert_never(event)

    def perform(self, actions: Iterable[Action]) -> None:
        queue = deque(actions)
        while queue:
            action = queue.popleft()
            match action:
                case PersistLastSigned(record):
                    self.store.save_last_signed(record.encode())
                case Broadcast(msg):
                    if self.misbehaviour is None or not self.misbehaviour.broadcast(msg):
                        self.transport.broadcast(CONSENSUS_TOPIC, encode_message(msg))
                case SendTo(validator, msg):
                    self.transport.send(validator, CONSENSUS_TOPIC, encode_message(msg))
                case SetTimer(name, deadline_ms):
                    self._set_timer(name, deadline_ms)
                case CancelTimer(name):
                    handle = self._timers.pop(name, None)
                    if handle:
                        handle.cancel()
                case CommitBlock(block, certificate):
                    executed = self._commit(block, certificate)
                    queue.extend(self.replica.on_executed(executed.block.height, self.clock()))
                case RequestBlocks():
                    self.hooks.request_blocks()
                case RecordEvidence(evidence):
                    self._record_evidence(evidence)
                case _:
                    assert_never(action)

    # ---- actions -------------------------------------------------------------------

    def _set_timer(self, name: str, deadline_ms: int) -> None:
        old = self._timers.pop(name, None)
        if old:
            old.cancel()
        delay = max(0.0, (deadline_ms - self.clock()) / 1000)
        self._timers[name] = asyncio.get_running_loop().call_later(delay, self.post, TimerFired(name))

    def cancel_timers(self) -> None:
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()

    def _commit(self, block: Block, cert: Certificate) -> Executed:
        started = time.perf_counter()
        executed = self.executor.execute(block, cert)
        self.mempool.remove_committed(block.txs)
        self.mempool.recheck(self.app.account_nonce)
        rekeyed = {e.attrs["account"] for r in executed.receipts for e in r.events if e.kind == "authority_set"}
        if rekeyed:
            self.mempool.drop_unsigned(rekeyed, self.hooks.still_signed)
        for index, receipt in enumerate(executed.receipts):
            self.waiters.resolve(block.txs[index].hash, (block.height, index, receipt))
        executed_at = time.perf_counter()
        for subscriber in self.subscribers:
            try:
                subscriber(executed)
            except Exception:  # a derived index may fall behind; it must never stop consensus
                log.exception("a block subscriber failed")
        done = time.perf_counter()
        self.app.budget.on_commit(len(block.txs), (done - started) * 1000)
        self._last_commit_mono = time.monotonic()
        log.info("committed block %d: %d txs, view %d, %.1f ms to execute, %.1f ms for subscribers (index, "
                 "notifications)", block.height, len(block.txs), block.header.view,
                 (executed_at - started) * 1000, (done - executed_at) * 1000)
        if self.mempool.has_proposable():
            self.notify_work()
        return executed

    def _record_evidence(self, evidence: Evidence) -> None:
        self.evidence.append(evidence)
        self.store.save_evidence(evidence)
        log.warning("equivocation by validator %s at height %d recorded", evidence.first.validator.hex()[:12],
                    evidence.first.height)

    def _apply_synced(self, batch: list[tuple[Block, Certificate]]) -> int:
        applied = 0
        for block, cert in batch:
            head = self.store.head()
            if head is not None and block.height <= head.height:
                continue
            before = head.height if head else 0
            self.perform(self.replica.on_synced_block(block, cert, self.clock()))
            after = self.store.head()
            if after is None or after.height == before:
                break
            applied += 1
        return applied

    def _restore(self, anchor: Anchor, state: dict[bytes, bytes]) -> None:
        """Install a verified snapshot as the head, and restart consensus from it."""
        head = self.store.restore_snapshot(anchor.block, anchor.certificate, state, anchor.state_root)
        self.cancel_timers()
        self.replica = self._make_replica()
        self.mempool.recheck(self.app.account_nonce)
        self.hooks.on_restored()
        log.info("restored the state after block %d from a snapshot (root %s…); blocks below it are not kept",
                 head.height, head.state_root.hex()[:16])

    # ---- watching ------------------------------------------------------------------

    def _log_view_change(self, before: tuple[int, int]) -> None:
        """Say when this replica leaves a view at a height (an operator must see a network changing views),
        and offer its proposable txs to the validators at once."""
        height, view = self.replica.height, self.replica.view
        if height == before[0] and view > before[1]:
            # As PBFT's backups forward a request to the primary: the view may be changing because the
            # primary lacks txs this node holds (it held only txs behind their senders' gaps), so offer
            # every sender's run from its next nonce now rather than at the next re-gossip round.
            self.hooks.offer_heads()
            log.warning("view change at height %d: view %d -> %d (new primary %s); %d txs pending, %d senders "
                        "proposable; last refused message: %s", height, before[1], view,
                        self.replica.config.primary(height, view).hex()[:12], len(self.mempool),
                        self.mempool.proposable_senders(), self.replica.last_rejection)

    async def stall_watch(self) -> None:
        """Warn, every STALL_WARN_S, while proposable work waits and no block commits: silence is a bug."""
        while True:
            await asyncio.sleep(STALL_WARN_S)
            idle_s = time.monotonic() - self._last_commit_mono
            if self.mempool.has_proposable() and idle_s >= STALL_WARN_S:
                status = self.replica.status()
                log.warning("no block for %.1f s with %d txs pending (%d senders proposable): height %d, view %d, "
                            "in view change %s, timers %s, syncing %s", idle_s, len(self.mempool),
                            self.mempool.proposable_senders(), status["height"], status["view"],
                            status["in_view_change"], sorted(status["timers"]), self.hooks.syncing())
