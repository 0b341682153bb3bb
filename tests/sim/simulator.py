"""Deterministic consensus simulator: n replicas, a virtual clock and network, faults from a seed.

Everything random comes from one ``random.Random(seed)``; the seed alone
picks n, the fault mix and the whole schedule, so ``python
tests/sim/simulator.py --seed S`` replays a failing run with its trace. It
checks agreement, validity and no-double-signing at every commit and vote,
and liveness after the network heals.
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from marketnode.consensus.actions import (
    Broadcast,
    CancelTimer,
    CommitBlock,
    PersistLastSigned,
    RecordEvidence,
    RequestBlocks,
    SendTo,
    SetTimer,
)
from marketnode.consensus.messages import (
    Commit,
    Message,
    NewView,
    Prepare,
    PrePrepare,
    ViewChange,
    decode_message,
    encode_message,
)
from marketnode.consensus.records import Head, LastSigned
from marketnode.consensus.replica import RECENT_BLOCKS, TIMER_RESEND, TIMER_VIEW, Replica, ReplicaConfig
from marketnode.core.errors import ConsensusError, DecodeError, ValidationError
from marketnode.core.hashing import digest
from marketnode.core.keys import PrivateKey
from marketnode.core.types import COMMIT, PREPARE, PROPOSE, Block, Certificate, Tx, Vote, max_faulty
from marketnode.node.mempool.pool import Mempool, MempoolError, MempoolLimits

CHAIN_ID = "sim"
GENESIS_HASH = digest("genesis", b"sim")
GENESIS_ROOT = digest("state", b"genesis")
NS = (1, 4, 7)
MIXES = (
    "calm", "lossy", "partition", "one-way", "rolling", "crash",
    "byz-silent", "byz-equivocate", "byz-conflict", "byz-garbage", "byz-unknown", "chaos",
)
BYZ_BEHAVIOURS = ("silent", "equivocate", "conflict", "garbage", "unknown")
LIVENESS_BOUND_MS = 60_000
STALL_SLACK_MS = 250  # beyond a view's timeout: message delays and execution after the network is timely
REGOSSIP_MS = 300  # a node re-offers its pending txs this often (the node's REGOSSIP_S, scaled like the timeouts)
REGOSSIP_MAX = 8
REGOSSIP_HEADS = 2
SYNC_POLL_MS = 500  # the node's syncer asks a peer for its height this often, whatever consensus does
KEYS = [PrivateKey(digest("address", b"sim-validator-%d" % i)) for i in range(10)]
OUTSIDER = PrivateKey(digest("address", b"sim-outsider"))
SENDERS = [PrivateKey(digest("address", b"sim-sender-%d" % i)) for i in range(3)]


def make_tx(index: int, kind: str = "ok") -> Tx:
    """A sim tx: sender ``index % 3`` with consecutive nonces, so txs sent to different nodes form nonce runs.

    Signed, because the node's real mempool (which the sim runs) admits only
    signed txs; the validity function still looks at ``kind``.
    """
    key = SENDERS[index % len(SENDERS)]
    return Tx(CHAIN_ID, key.public_key, index // len(SENDERS), kind, {"i": index}, 1).sign(key)


class SimApp:
    """The node side of consensus.app.Application: the node's real mempool and a hash-chain 'state'.

    The mempool is node/mempool/pool.py itself, so "proposable", nonce gaps and
    re-gossip are the node's own rules, not a model of them.
    """

    def __init__(self) -> None:
        self.mempool = Mempool(MempoolLimits(), CHAIN_ID)
        self.nonces: dict[bytes, int] = {}
        self.committed: set[bytes] = set()
        self.root = GENESIS_ROOT
        self.chain: list[tuple[Block, Certificate]] = []

    def account_nonce(self, sender: bytes) -> int:
        return self.nonces.get(sender, 0)

    def has_proposable(self) -> bool:
        return self.mempool.has_proposable()

    def take_batch(self, max_txs: int, max_bytes: int) -> list[Tx]:
        return self.mempool.take_batch(max_txs, max_bytes, self.account_nonce)

    def check_block(self, block: Block) -> None:
        check_txs(block, self.committed)

    def state_root(self) -> bytes:
        return self.root

    def add(self, tx: Tx) -> bool:
        """Admit ``tx`` as the node would; False if the mempool refuses it (duplicate, stale)."""
        if tx.hash in self.committed:
            return False
        try:
            self.mempool.add(tx.encode(), self.account_nonce)
        except MempoolError:
            return False
        return True

    def execute(self, block: Block, cert: Certificate) -> None:
        self.root = digest("state", self.root + block.hash)
        for tx in block.txs:
            self.committed.add(tx.hash)
            self.nonces[tx.sender] = max(self.nonces.get(tx.sender, 0), tx.nonce + 1)
        self.mempool.remove_committed(block.txs)
        self.mempool.recheck(self.account_nonce)
        self.chain.append((block, cert))

    def head(self) -> Head:
        if not self.chain:
            return Head(0, GENESIS_HASH, 0, None)
        block, cert = self.chain[-1]
        return Head(block.height, block.hash, block.header.timestamp_ms, cert, block.header.view)


def check_txs(block: Block, committed: set[bytes]) -> None:
    """The sim's validity function: only 'ok' txs, none already committed, none twice."""
    seen: set[bytes] = set()
    for tx in block.txs:
        if tx.kind != "ok":
            raise ValidationError(f"tx kind {tx.kind!r} is invalid")
        if tx.hash in committed or tx.hash in seen:
            raise ValidationError("tx already committed")
        seen.add(tx.hash)


@dataclass
class SimNode:
    index: int
    key: PrivateKey
    app: SimApp
    replica: Replica
    byzantine: str | None = None
    alive: bool = True
    incarnation: int = 0
    last_signed: LastSigned | None = None
    timers: dict[str, int] = field(default_factory=dict)
    exec_queue: list[tuple[Block, Certificate]] = field(default_factory=list)
    alt_blocks: dict[bytes, Block] = field(default_factory=dict)  # equivocation: our hash -> the other block
    entered_here: set[bytes] = field(default_factory=set)  # txs clients sent to this node (its mempool journal)
    regossip_due: bool = False
    regossip_before: int = 0
    progress_ms: int = 0  # last commit executed, view changed or restart
    work_since: int | None = None  # when proposable work appeared after the last progress
    seen_view: tuple[int, bool, bool, bool] = (0, True, False, False)  # (view, entered, accepted, prepared)


@dataclass
class Violation:
    kind: str
    detail: str


@dataclass
class Scenario:
    seed: int
    n: int
    mix: str
    byzantine: dict[int, str]
    drop_p: float
    dup_p: float
    max_delay_ms: int
    heal_ms: int
    events: list[tuple[int, str, Any]]


def scenario_for(seed: int) -> Scenario:
    """The seed picks n, the fault mix and the schedule; nothing else is random."""
    rng = random.Random(seed)
    combo = seed % (len(NS) * len(MIXES))
    n, mix = NS[combo % len(NS)], MIXES[combo // len(NS)]
    f = max_faulty(n)
    heal_ms = rng.randint(1500, 5000)
    events: list[tuple[int, str, Any]] = []
    for i in range(rng.randint(3, 12)):
        events.append((rng.randint(0, heal_ms), "submit", i))
    byzantine: dict[int, str] = {}
    drop_p = dup_p = 0.0
    max_delay = 20
    if mix.startswith("byz-") or mix == "chaos":
        for index in rng.sample(range(n), f):
            byzantine[index] = mix[4:] if mix != "chaos" else rng.choice(BYZ_BEHAVIOURS)
    honest = [i for i in range(n) if i not in byzantine]
    if mix in ("lossy", "chaos"):
        drop_p, dup_p, max_delay = rng.uniform(0.05, 0.3), rng.uniform(0.0, 0.2), 80
    if mix == "byz-equivocate":  # losses force view changes, where a lying new primary can try its NewView
        drop_p = rng.uniform(0.0, 0.15)
    if mix in ("partition", "chaos") and n > 1:
        group = set(rng.sample(range(n), rng.randint(1, n - 1)))
        blocked = {(a, b) for a in range(n) for b in range(n) if (a in group) != (b in group)}
        events.append((rng.randint(0, heal_ms // 2), "partition", blocked))
    if mix == "one-way" and n > 1:
        blocked = {(a, b) for a in range(n) for b in range(n) if a != b and rng.random() < 0.4}
        events.append((rng.randint(0, heal_ms // 2), "partition", blocked))
    if mix == "rolling" and n > 1:
        t = 0
        while t < heal_ms:
            isolated = set(rng.sample(range(n), rng.randint(1, max(1, n // 2))))
            one_way = rng.random() < 0.5
            blocked = {(a, b) for a in range(n) for b in range(n)
                       if (a in isolated) != (b in isolated) and not (one_way and a in isolated)}
            events.append((t, "partition", blocked))
            t += rng.randint(150, 600)
    if mix in ("crash", "chaos"):
        for _ in range(rng.randint(1, 3)):
            at = rng.randint(0, heal_ms - 200)
            index = rng.choice(honest)
            events.append((at, "crash", index))
            events.append((rng.randint(at + 1, heal_ms), "restart", index))
    events.append((heal_ms, "heal", None))
    return Scenario(seed, n, mix, byzantine, drop_p, dup_p, max_delay, heal_ms, events)


class Simulation:
    """Runs one scenario; ``run()`` returns the violations found (empty when all checkers hold)."""

    def __init__(
        self,
        scenario: Scenario,
        replica_class: type[Replica] = Replica,
        stop_on_violation: bool = True,
        resend: bool = True,
    ) -> None:
        self.sc = scenario
        self.rng = random.Random(scenario.seed * 7919 + 1)
        self.replica_class = replica_class
        self.stop_on_violation = stop_on_violation
        self.config = ReplicaConfig(
            chain_id=CHAIN_ID, validators=tuple(k.public_key for k in KEYS[: scenario.n]),
            base_timeout_ms=200, max_block_txs=3, max_block_bytes=64 * 1024,
            max_clock_skew_ms=1000, rotate_every=2, future_buffer=256, resend=resend,
        )
        self.view_change_set: set[tuple[int, int, int]] = set()  # (node, height, view) honest validators moved to
        self.sync_requests = 0  # RequestBlocks honest validators made
        self.now = 0
        self.done_at: int | None = None  # when every tx was executed everywhere (after heal)
        self.seq = 0
        self.queue: list[tuple[int, int, str, Any]] = []
        self.blocked: set[tuple[int, int]] = set()
        self.healed = False
        self.trace: list[tuple[int, str, str]] = []
        self.violations: list[Violation] = []
        self.txs = {p: make_tx(p) for _, kind, p in scenario.events if kind == "submit"}
        self.submitted: dict[bytes, Tx] = {}
        self.decided: dict[int, bytes] = {}
        self.proposed: set[bytes] = set()
        self.signed: dict[tuple[bytes, int, int, int], bytes] = {}
        self.verified_certs: set[bytes] = set()
        self.by_key: dict[bytes, int] = {k.public_key: i for i, k in enumerate(KEYS[: scenario.n])}
        self.nodes = [self._new_node(i) for i in range(scenario.n)]
        for at, kind, payload in scenario.events:
            self._push(at, kind, payload)
        for node in self.nodes:
            self._push(SYNC_POLL_MS, "poll", node.index)

    # ------------------------------------------------------------------ setup

    def _new_node(self, index: int) -> SimNode:
        app = SimApp()
        key = KEYS[index]
        replica = self.replica_class(self.config, key, app, app.head(), None)
        return SimNode(index, key, app, replica, byzantine=self.sc.byzantine.get(index))

    def honest(self, node: SimNode) -> bool:
        return node.byzantine is None

    # ------------------------------------------------------------------ event loop

    def _push(self, at: int, kind: str, payload: Any) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (at, self.seq, kind, payload))

    def _log(self, kind: str, detail: str) -> None:
        self.trace.append((self.now, kind, detail))

    def run(self) -> list[Violation]:
        deadline = self.sc.heal_ms + LIVENESS_BOUND_MS
        while self.queue and self.queue[0][0] <= deadline:
            self._step()
            if self.healed:
                self._check_progress()
            if self.violations and self.stop_on_violation:
                return self.violations
            if self.healed and self._all_done():
                self.done_at = self.now
                self._settle_and_check_green()
                return self.violations
        if not self._all_done():
            missing = {
                n.index: len(self.submitted) - len(n.app.committed & set(self.submitted))
                for n in self.nodes if self.honest(n)
            }
            self._violate("liveness", f"txs still uncommitted {LIVENESS_BOUND_MS} ms after heal: {missing}")
        return self.violations

    def _step(self) -> None:
        at, _, kind, payload = heapq.heappop(self.queue)
        self.now = at
        getattr(self, "_ev_" + kind)(payload)

    def _settle_and_check_green(self) -> None:
        """Every tx is in: let in-flight messages and timers play out; then no honest replica may hold a timer."""
        limit = self.now + LIVENESS_BOUND_MS
        while self.queue and self.queue[0][0] <= limit:
            self._step()
            if self.violations and self.stop_on_violation:
                return
        for node in self.nodes:
            held = {TIMER_VIEW, TIMER_RESEND} & set(node.replica.timers()) if self.honest(node) and node.alive else set()
            if held:
                self._violate("green", f"node {node.index} keeps timers {sorted(held)} with nothing to do")

    def _all_done(self) -> bool:
        if len(self.submitted) < len(self.txs):
            return False
        want = set(self.submitted)
        return all(want <= n.app.committed and not n.exec_queue for n in self.nodes if self.honest(n) and n.alive)

    def _violate(self, kind: str, detail: str) -> None:
        self._log("VIOLATION", f"{kind}: {detail}")
        self.violations.append(Violation(kind, detail))

    # ------------------------------------------------------------------ events

    def _ev_submit(self, index: int) -> None:
        """A client sends the tx to one node (live ones preferred), which gossips it like the node does."""
        tx = self.txs[index]
        self.submitted[tx.hash] = tx
        alive = [n for n in self.nodes if n.alive]
        node = self.rng.choice(alive or self.nodes)
        node.entered_here.add(tx.hash)
        self._log("submit", f"tx {index} (sender {index % len(SENDERS)} nonce {tx.nonce}) to node {node.index}")
        if node.alive:
            self._admit(node, [tx], None)

    def _admit(self, node: SimNode, txs: list[Tx], origin: int | None) -> None:
        """Admit txs into ``node``'s mempool, gossip the ones it took, and tell its replica there is work."""
        admitted = [tx for tx in txs if node.app.add(tx)]
        if not admitted:
            return
        self._gossip(node, admitted, exclude=origin)
        self._schedule_regossip(node)
        self._perform(node, node.replica.on_work(self.now))

    def _gossip(self, node: SimNode, txs: list[Tx], exclude: int | None = None) -> None:
        data = tuple(tx.encode() for tx in txs)
        for target in range(self.sc.n):
            if target != node.index and target != exclude:
                self._transmit(node.index, target, data, kind="gossip")

    def _schedule_regossip(self, node: SimNode) -> None:
        if not node.regossip_due:
            node.regossip_due = True
            self._push(self.now + REGOSSIP_MS, "regossip", (node.index, node.incarnation))

    def _ev_regossip(self, payload: tuple[int, int]) -> None:
        index, incarnation = payload
        node = self.nodes[index]
        if not node.alive or node.incarnation != incarnation:
            return
        node.regossip_due = False
        stale = node.app.mempool.regossip_batch(node.regossip_before, REGOSSIP_MAX, REGOSSIP_HEADS)
        node.regossip_before = node.app.mempool.admission_seq
        if stale:
            self._gossip(node, stale)
        if node.app.mempool.has_pending():
            self._schedule_regossip(node)

    def _ev_poll(self, index: int) -> None:
        """The node's syncer (node/chain/sync.py): a node behind a peer fetches its blocks, even with no work pending."""
        node = self.nodes[index]
        self._push(self.now + SYNC_POLL_MS, "poll", index)
        others = [n for n in self.nodes if n is not node and n.alive and (n.index, index) not in self.blocked]
        if not node.alive or not others:
            return
        peer = self.rng.choice(others)
        if len(peer.app.chain) > len(node.app.chain):
            self._serve_sync(node, len(node.app.chain) + 1, peer.key.public_key)

    def _ev_gossip(self, payload: tuple[int, int, tuple[bytes, ...]]) -> None:
        src, dst, raws = payload
        node = self.nodes[dst]
        if node.alive:
            self._admit(node, [Tx.decode(raw) for raw in raws], src)

    def _ev_partition(self, blocked: set[tuple[int, int]]) -> None:
        if not self.healed:
            self.blocked = blocked
            self._log("partition", str(sorted(blocked)))

    def _ev_heal(self, _: Any) -> None:
        self.healed = True
        self.blocked = set()
        self._log("heal", "network healed, no more loss; every crashed node restarts")
        for node in self.nodes:
            node.progress_ms, node.work_since = self.now, None
            if not node.alive:
                self._ev_restart(node.index)

    def _ev_crash(self, index: int) -> None:
        node = self.nodes[index]
        if not node.alive or self.healed:
            return
        node.alive = False
        node.incarnation += 1
        node.timers.clear()
        node.exec_queue.clear()  # committed but not yet executed: never reached the disk
        self._log("crash", f"node {index} at height {node.app.head().height}")

    def _ev_restart(self, index: int) -> None:
        node = self.nodes[index]
        if node.alive:
            return
        node.alive = True
        node.progress_ms, node.work_since = self.now, None
        # The mempool did not survive the crash, but its journal did: txs clients sent to this node come back.
        node.app.mempool = Mempool(MempoolLimits(), CHAIN_ID)
        node.regossip_due, node.regossip_before = False, 0
        times = [0] + [block.header.timestamp_ms for block, _ in node.app.chain]  # genesis is at time 0
        recent = tuple(times[-RECENT_BLOCKS - 1 : -1])
        node.replica = self.replica_class(self.config, node.key, node.app, node.app.head(), node.last_signed, recent)
        self._log("restart", f"node {index} at height {node.app.head().height}, last signed {node.last_signed and node.last_signed.key()}")
        journal = [tx for h, tx in self.submitted.items() if h in node.entered_here and h not in node.app.committed]
        self._admit(node, journal, None)
        self._perform(node, node.replica.on_work(self.now))

    def _ev_deliver(self, payload: tuple[int, int, bytes]) -> None:
        src, dst, data = payload
        node = self.nodes[dst]
        if not node.alive:
            return
        try:
            msg = decode_message(data)
        except DecodeError as exc:
            self._log("drop", f"{src}->{dst} undecodable: {str(exc)[:60]}")
            return
        self._log("deliver", f"{src}->{dst} {describe(msg)}")
        self._perform(node, node.replica.receive(KEYS[src].public_key, msg, self.now))

    def _ev_timer(self, payload: tuple[int, int, str, int]) -> None:
        index, incarnation, name, deadline = payload
        node = self.nodes[index]
        if not node.alive or node.incarnation != incarnation or node.timers.get(name) != deadline:
            return
        del node.timers[name]
        self._log("timer", f"node {index} {name} (view {node.replica.view})")
        self._perform(node, node.replica.on_timer(name, self.now))

    def _ev_execute(self, payload: tuple[int, int]) -> None:
        index, incarnation = payload
        node = self.nodes[index]
        if not node.alive or node.incarnation != incarnation or not node.exec_queue:
            return
        block, cert = node.exec_queue.pop(0)
        if self.honest(node):
            self._check_executable(node, block)
        node.app.execute(block, cert)
        node.progress_ms, node.work_since = self.now, None
        self._perform(node, node.replica.on_executed(block.height, self.now))

    def _ev_sync(self, payload: tuple[int, int, Block, Certificate]) -> None:
        index, incarnation, block, cert = payload
        node = self.nodes[index]
        if node.alive and node.incarnation == incarnation:
            self._log("synced", f"node {index} gets block {block.height}")
            self._perform(node, node.replica.on_synced_block(block, cert, self.now))

    # ------------------------------------------------------------------ the node's side of the contract

    def _perform(self, node: SimNode, actions: list[Any]) -> None:
        self._perform_actions(node, actions)
        # Progress is a view started or entered, its proposal accepted or its block prepared (each restarts the
        # view's timer) while producing these.
        r = node.replica
        view = (r.view, r.view in r.round.entered, r.view in r.round.accepted, r.view in r.round.sent_commit)
        if view != node.seen_view:
            node.seen_view = view
            node.progress_ms, node.work_since = self.now, None

    def _perform_actions(self, node: SimNode, actions: list[Any]) -> None:
        for action in actions:
            if isinstance(action, PersistLastSigned):
                node.last_signed = action.record
            elif isinstance(action, Broadcast):
                if isinstance(action.msg, ViewChange) and self.honest(node):
                    self.view_change_set.add((node.index, action.msg.height, action.msg.view))
                self._send(node, None, action.msg)
            elif isinstance(action, SendTo):
                self._send(node, self.by_key.get(action.validator), action.msg)
            elif isinstance(action, CommitBlock):
                self._on_commit(node, action.block, action.certificate)
            elif isinstance(action, SetTimer):
                node.timers[action.name] = action.deadline_ms
                self._push(action.deadline_ms, "timer", (node.index, node.incarnation, action.name, action.deadline_ms))
            elif isinstance(action, CancelTimer):
                node.timers.pop(action.name, None)
            elif isinstance(action, RequestBlocks):
                if self.honest(node):
                    self.sync_requests += 1
                self._serve_sync(node, action.from_height, action.peer)
            elif isinstance(action, RecordEvidence):
                self._on_evidence(node, action.evidence)

    def _on_commit(self, node: SimNode, block: Block, cert: Certificate) -> None:
        self._log("commit", f"node {node.index} height {block.height} {block.hash.hex()[:8]} txs {len(block.txs)}")
        if self.honest(node):
            self._check_agreement(node, block)
            self._check_certified(block, cert)
        node.exec_queue.append((block, cert))
        self._push(self.now + self.rng.randint(0, 3), "execute", (node.index, node.incarnation))

    def _serve_sync(self, node: SimNode, from_height: int, peer: bytes | None) -> None:
        others = [n for n in self.nodes if n is not node and n.alive]
        if peer is not None and peer in self.by_key:
            source: SimNode | None = self.nodes[self.by_key[peer]]
        else:
            source = self.rng.choice(others) if others else None
        if source is None or not source.alive or (source.index, node.index) in self.blocked:
            return
        delay = self.rng.randint(1, self.sc.max_delay_ms)
        for offset, (block, cert) in enumerate(source.app.chain[from_height - 1 : from_height + 15]):
            self._push(self.now + delay + offset, "sync", (node.index, node.incarnation, block, cert))

    def _send(self, node: SimNode, dst: int | None, msg: Message) -> None:
        targets = [i for i in range(self.sc.n) if i != node.index] if dst is None else [dst]
        if isinstance(msg, PrePrepare):
            self.proposed.add(msg.block_hash)
        elif isinstance(msg, NewView) and msg.pre_prepare is not None:
            self.proposed.add(msg.pre_prepare.block_hash)
        if self.honest(node):
            self._note_signed(node, msg)
            data = encode_message(msg)
            for target in targets:
                self._transmit(node.index, target, data)
        else:
            for target, data in byzantine_outputs(self, node, msg, targets):
                self._transmit(node.index, target, data)

    def _transmit(self, src: int, dst: int, data: Any, kind: str = "deliver") -> None:
        """Send over the faulty network: consensus messages (``deliver``) and tx gossip (``gossip``) alike."""
        if (src, dst) in self.blocked or (not self.healed and self.rng.random() < self.sc.drop_p):
            return
        delay = self.rng.randint(1, self.sc.max_delay_ms if not self.healed else 20)
        self._push(self.now + delay, kind, (src, dst, data))
        if not self.healed and self.rng.random() < self.sc.dup_p:
            self._push(self.now + self.rng.randint(1, self.sc.max_delay_ms), kind, (src, dst, data))

    # ------------------------------------------------------------------ checkers

    def _note_signed(self, node: SimNode, msg: Message) -> None:
        """No double signing: an honest validator's votes never conflict, across crashes too."""
        votes: list[Vote] = []
        if isinstance(msg, PrePrepare):
            votes.append(msg.proposal)
        elif isinstance(msg, Prepare | Commit):
            votes.append(msg.vote)
        elif isinstance(msg, NewView) and msg.pre_prepare is not None:
            votes.append(msg.pre_prepare.proposal)
        for vote in votes:
            if vote.validator != node.key.public_key:
                continue  # forwarded (a NewView carries the new primary's proposal): not this node's signature
            slot = (vote.validator, vote.height, vote.view, vote.phase)
            if self.signed.setdefault(slot, vote.block_hash) != vote.block_hash:
                self._violate("double-sign", f"node {node.index} signed two blocks at {slot[1:]}")

    @property
    def view_changes(self) -> int:
        """View changes honest validators started (a re-sent ViewChange is not another one)."""
        return len(self.view_change_set)

    def _check_progress(self) -> None:
        """Liveness once the network is timely: a validator with proposable work commits or changes view in time.

        The bound is the view's own timeout (which the view-change timer uses)
        plus slack for message delays and execution; a replica that has work
        and lets that pass without a commit or a view change is stalled.
        """
        for node in self.nodes:
            if not (self.honest(node) and node.alive) or node.exec_queue:
                continue
            if not node.app.has_proposable():
                node.work_since = None
                continue
            if node.work_since is None:
                node.work_since = self.now
            replica = node.replica
            since = max(node.progress_ms, node.work_since)
            bound = replica.view_timeout_ms(replica.view - replica.base_view) + STALL_SLACK_MS
            if self.now - since > bound:
                self._violate("stall", f"node {node.index} has had proposable work for {self.now - since} ms "
                              f"at height {replica.height} view {replica.view} with no commit or view change "
                              f"(bound {bound} ms)")
                node.work_since = self.now  # report each stall once

    def _check_agreement(self, node: SimNode, block: Block) -> None:
        known = self.decided.setdefault(block.height, block.hash)
        if known != block.hash:
            self._violate("agreement", f"node {node.index} committed {block.hash.hex()[:8]} at height "
                          f"{block.height}, another honest node committed {known.hex()[:8]}")

    def _check_certified(self, block: Block, cert: Certificate) -> None:
        if (cert.height, cert.block_hash) != (block.height, block.hash):
            self._violate("validity", f"certificate of height {block.height} is for another block")
            return
        if block.hash not in self.proposed:
            self._violate("validity", f"block {block.hash.hex()[:8]} at {block.height} was never proposed")
        if cert.hash in self.verified_certs:
            return
        try:
            cert.verify(self.config.validators, CHAIN_ID)
        except (ConsensusError, ValidationError) as exc:
            self._violate("validity", f"certificate of height {block.height}: {exc}")
            return
        self.verified_certs.add(cert.hash)

    def _check_executable(self, node: SimNode, block: Block) -> None:
        head = node.app.head()
        if block.height != head.height + 1 or block.header.parent_hash != head.block_hash:
            self._violate("validity", f"node {node.index} executes block {block.height} out of order")
        if block.header.state_root != node.app.root:
            self._violate("validity", f"block {block.height} carries a state root that is not its parent's")
        try:
            check_txs(block, node.app.committed)
            block.check_contents()
        except ValidationError as exc:
            self._violate("validity", f"block {block.height} fails the validity function: {exc}")
        for tx in block.txs:
            if tx.hash not in self.submitted:
                self._violate("validity", f"block {block.height} holds a tx nobody submitted")

    def _on_evidence(self, node: SimNode, evidence: Any) -> None:
        accused = self.by_key.get(evidence.first.validator)
        self._log("evidence", f"node {node.index} accuses {accused}")
        try:
            evidence.check(CHAIN_ID)
        except (ConsensusError, ValidationError) as exc:
            self._violate("evidence", f"node {node.index} recorded invalid evidence: {exc}")
        if accused is None or self.nodes[accused].byzantine is None:
            self._violate("evidence", f"node {node.index} accused honest node {accused}")

    # ------------------------------------------------------------------ reporting

    def report(self, last: int = 400) -> str:
        sc = self.sc
        lines = [
            f"seed {sc.seed}: n={sc.n} mix={sc.mix} byzantine={sc.byzantine} drop={sc.drop_p:.2f} "
            f"dup={sc.dup_p:.2f} heal={sc.heal_ms}ms",
            f"replay: .venv/bin/python tests/sim/simulator.py --seed {sc.seed}",
            "schedule: " + ", ".join(f"{at}:{kind}" + (f"({p})" if kind in ("crash", "restart") else "")
                                     for at, kind, p in sorted(sc.events, key=lambda e: e[0])),
            *(f"{v.kind}: {v.detail}" for v in self.violations),
            f"--- last {min(last, len(self.trace))} of {len(self.trace)} trace lines ---",
            *(f"{t:>7} {kind:<9} {detail}" for t, kind, detail in self.trace[-last:]),
        ]
        return "\n".join(lines)


def describe(msg: Message) -> str:
    if isinstance(msg, PrePrepare):
        return f"PRE-PREPARE h{msg.height} v{msg.view} {msg.block_hash.hex()[:8]}"
    if isinstance(msg, Prepare | Commit):
        v = msg.vote
        return f"{type(msg).__name__.upper()} h{v.height} v{v.view} {v.block_hash.hex()[:8]} by {v.validator.hex()[:6]}"
    if isinstance(msg, NewView):
        return f"NEW-VIEW h{msg.height} v{msg.view}"
    name = type(msg).__name__
    return f"{name} h{getattr(msg, 'height', '?')} v{getattr(msg, 'view', '-')}"


# ---------------------------------------------------------------------- Byzantine behaviour


def byzantine_outputs(sim: Simulation, node: SimNode, msg: Message, targets: list[int]) -> list[tuple[int, bytes]]:
    """What a Byzantine node sends instead of ``msg``; it runs an honest replica inside and lies outside."""
    behaviour = node.byzantine
    assert behaviour is not None
    if behaviour == "silent":
        return []
    rng = sim.rng
    honest_targets = sorted(t for t in targets if sim.nodes[t].byzantine is None)
    half = set(honest_targets[: len(honest_targets) // 2])
    out: list[tuple[int, bytes]] = []
    if behaviour == "equivocate":
        other = _lying_new_view(sim, node, msg) if isinstance(msg, NewView) else _equivocate(node, msg)
        if other is None:
            return [(t, encode_message(msg)) for t in targets]
        if isinstance(msg, PrePrepare):
            sim.proposed.add(other.block_hash)  # type: ignore[attr-defined]
        return _split(rng, targets, half, encode_message(msg), encode_message(other))
    if behaviour == "conflict" and isinstance(msg, Prepare | Commit):
        forged = _vote_like(node, msg, rng.randbytes(32))
        return _split(rng, targets, half, encode_message(msg), encode_message(forged))
    data = encode_message(msg)
    out = [(t, data) for t in targets]
    if behaviour == "unknown" and isinstance(msg, Prepare | Commit):
        for _ in range(2):
            forged = _vote_like(node, msg, rng.randbytes(32), height_shift=rng.choice((0, 0, 1, 5)))
            out += [(t, encode_message(forged)) for t in targets]
    if behaviour == "garbage":
        out += [(t, _garbage(rng, data, node)) for t in targets for _ in range(2)]
    return out


def _split(rng: random.Random, targets: list[int], half: set[int], a: bytes, b: bytes) -> list[tuple[int, bytes]]:
    """``a`` to one half, ``b`` to the other; sometimes one target gets both, so it can catch the lie."""
    out = [(t, a if t in half else b) for t in targets]
    if targets and rng.random() < 0.3:
        witness = rng.choice(targets)
        out.append((witness, b if witness in half else a))
    return out


def _vote_like(node: SimNode, msg: Prepare | Commit, block_hash: bytes, height_shift: int = 0) -> Message:
    v = msg.vote
    vote = Vote(v.chain_id, v.phase, v.height + height_shift, v.view, block_hash, v.validator).sign(node.key)
    return Prepare(vote) if v.phase == PREPARE else Commit(vote)


def _equivocate(node: SimNode, msg: Message) -> Message | None:
    """The twin of ``msg`` for the other half: another block, or votes for that other block."""
    if isinstance(msg, PrePrepare):
        block = msg.block
        other = replace(block, header=replace(block.header, timestamp_ms=block.header.timestamp_ms + 1))
        node.alt_blocks[msg.block_hash] = other
        p = msg.proposal
        vote = Vote(p.chain_id, PROPOSE, p.height, p.view, other.hash, p.validator).sign(node.key)
        return PrePrepare(other, vote)
    if isinstance(msg, Prepare | Commit) and msg.vote.block_hash in node.alt_blocks:
        return _vote_like(node, msg, node.alt_blocks[msg.vote.block_hash].hash)
    if isinstance(msg, Prepare | Commit):
        return _vote_like(node, msg, digest("tx", msg.vote.block_hash))
    return None


def _lying_new_view(sim: Simulation, node: SimNode, msg: NewView) -> NewView | None:
    """As new primary: pick the view changes that hide prepared blocks and propose a fresh block instead."""
    replica = node.replica
    table = replica.round.view_changes.get(msg.view, {})
    chosen = sorted(table.values(), key=lambda vc: (vc.prepared is not None, vc.validator))[: replica.quorum]
    if len(chosen) < replica.quorum or any(vc.prepared is not None for vc in chosen):
        return None  # cannot hide it: any quorum holds the prepared block
    txs = node.app.take_batch(sim.config.max_block_txs, sim.config.max_block_bytes)[::-1]
    if not txs or msg.height != replica.height:
        return None
    block = Block.build(
        chain_id=CHAIN_ID, height=msg.height, view=msg.view,
        timestamp_ms=max(sim.now, replica.head.timestamp_ms + 1), parent_hash=replica.head.block_hash,
        proposer=node.key.public_key, state_root=node.app.root, txs=txs, last_cert=replica.head.certificate,
    )
    vote = Vote(CHAIN_ID, PROPOSE, msg.height, msg.view, block.hash, node.key.public_key).sign(node.key)
    if msg.pre_prepare is not None and msg.pre_prepare.block_hash == block.hash:
        return None
    sim.proposed.add(block.hash)
    return NewView(msg.height, msg.view, tuple(chosen), PrePrepare(block, vote))


def _garbage(rng: random.Random, data: bytes, node: SimNode) -> bytes:
    choice = rng.randrange(5)
    if choice == 0:
        return rng.randbytes(rng.randint(0, 64))
    if choice == 1:
        return data[: rng.randint(0, max(0, len(data) - 1))]
    if choice == 2:
        flipped = bytearray(data)
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        return bytes(flipped)
    if choice == 3:  # decodes, but signed by someone outside the validator set
        vote = Vote(CHAIN_ID, COMMIT, 1, 0, rng.randbytes(32), OUTSIDER.public_key).sign(OUTSIDER)
        return encode_message(Commit(vote))
    vote = Vote(CHAIN_ID, PREPARE, 1, 0, rng.randbytes(32), node.key.public_key, rng.randbytes(64))
    return encode_message(Prepare(vote))  # decodes, bad signature


# ---------------------------------------------------------------------- running many seeds


def run_seed(seed: int, replica_class: type[Replica] = Replica, stop_on_violation: bool = True,
             resend: bool = True) -> Simulation:
    sim = Simulation(scenario_for(seed), replica_class, stop_on_violation, resend)
    sim.run()
    return sim


def run_seeds(seeds: range, on_failure: Callable[[Simulation], None] | None = None) -> list[Simulation]:
    failures = []
    for seed in seeds:
        sim = run_seed(seed)
        if sim.violations:
            failures.append(sim)
            if on_failure:
                on_failure(sim)
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description="Replay one simulator seed and print its trace.")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--trace", type=int, default=400, help="how many trace lines to print")
    args = parser.parse_args()
    sim = run_seed(args.seed)
    print(sim.report(args.trace))
    sys.exit(1 if sim.violations else 0)


if __name__ == "__main__":
    main()
