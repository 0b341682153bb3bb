"""What the simulator checks while it runs: no double signing, agreement, validity, evidence, liveness; its report.

A mixin of ``Simulation`` (simulator.py): the checks read the run's state (nodes, what was proposed,
signed, decided) and record a ``Violation`` through ``_violate``, so they stay beside the events that
call them without making the event loop longer.
"""

from __future__ import annotations

from typing import Any

from sim_world import CHAIN_ID, STALL_SLACK_MS, Scenario, SimNode, Violation, check_txs

from marketnode.consensus.messages import (
    Commit,
    Message,
    NewView,
    Prepare,
    PrePrepare,
)
from marketnode.consensus.replica import ReplicaConfig
from marketnode.core.errors import ConsensusError, ValidationError
from marketnode.core.types import Block, Certificate, Tx, Vote


class Checks:
    """The checkers and the report of a Simulation."""

    sc: Scenario
    nodes: list[SimNode]
    now: int
    trace: list[tuple[int, str, str]]
    violations: list[Violation]
    signed: dict[tuple[bytes, int, int, int], bytes]
    view_change_set: set[tuple[int, int, int]]
    decided: dict[int, bytes]
    proposed: set[bytes]
    submitted: dict[bytes, Tx]
    verified_certs: set[bytes]
    by_key: dict[bytes, int]
    config: ReplicaConfig

    def honest(self, node: SimNode) -> bool:
        raise NotImplementedError

    def _violate(self, kind: str, detail: str) -> None:
        raise NotImplementedError

    def _log(self, kind: str, detail: str) -> None:
        raise NotImplementedError

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
