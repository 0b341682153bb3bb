"""Deterministic consensus simulator: n replicas, a virtual clock and network, faults from a seed.

Everything random comes from one ``random.Random(seed)``; the seed alone
picks n, the fault mix and the whole schedule, so ``python
tests/sim/simulator.py --seed S`` replays a failing run with its trace. It
checks agreement, validity and no-double-signing at every commit and vote,
and liveness after the network heals.

The parts: ``sim_world`` (constants, the app, a node, the scenario a seed
picks), ``sim_checks`` (the checkers and the report, a mixin of
Simulation), ``sim_byzantine`` (what a lying node sends). This module holds
the event loop and the runners, and re-exports what the tests import.
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sim_byzantine import byzantine_outputs
from sim_checks import Checks, describe
from sim_world import (
    CHAIN_ID,
    KEYS,
    LIVENESS_BOUND_MS,
    MIXES,
    NS,
    REGOSSIP_HEADS,
    REGOSSIP_MAX,
    REGOSSIP_MS,
    SENDERS,
    SYNC_POLL_MS,
    Scenario,
    SimApp,
    SimNode,
    Violation,
    make_tx,
    scenario_for,
)

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
    Message,
    NewView,
    PrePrepare,
    ViewChange,
    decode_message,
    encode_message,
)
from marketnode.consensus.replica import RECENT_BLOCKS, TIMER_RESEND, TIMER_VIEW, Replica, ReplicaConfig
from marketnode.core.errors import DecodeError
from marketnode.core.types import Block, Certificate, Tx
from marketnode.node.mempool.pool import Mempool, MempoolLimits

__all__ = ["MIXES", "NS", "Scenario", "Simulation", "Violation", "run_seed", "run_seeds", "scenario_for"]


class Simulation(Checks):
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
