"""The PBFT replica: a sans-IO state machine. Messages, timer expiries and the time go in; actions come out.

It never reads a clock, sleeps, does I/O, or raises on a peer's bad message:
bad input is dropped, its reason kept in ``last_rejection``, and the caller
goes on. The protocol, its invariants and the caller's contract are in
docs/CONSENSUS.md; step names here follow it (on_pre_prepare, on_prepare,
on_commit, start_view_change, on_new_view).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

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
from marketnode.consensus.app import Application
from marketnode.consensus.messages import (
    Commit,
    CommitNotice,
    Message,
    NewView,
    Prepare,
    PreparedCert,
    PrePrepare,
    ViewChange,
)
from marketnode.consensus.records import Head, LastSigned
from marketnode.core.errors import ConsensusError, ValidationError
from marketnode.core.keys import PUBKEY_SIZE, PrivateKey, check_chain_id, verify
from marketnode.core.types import (
    COMMIT,
    MAX_EVIDENCE,
    PREPARE,
    PROPOSE,
    ZERO_HASH,
    Block,
    Certificate,
    Evidence,
    Vote,
    max_faulty,
    quorum_size,
    vote_signing_bytes,
)

__all__ = ["TIMER_RESEND", "TIMER_SYNC", "TIMER_VIEW", "Head", "LastSigned", "Rejected", "Replica", "ReplicaConfig"]

TIMER_VIEW = "view-change"
TIMER_SYNC = "sync"
TIMER_RESEND = "resend"
MAX_TIMEOUT_DOUBLINGS = 6
MAX_PENDING_EVIDENCE = 256
MAX_BUFFERED_BLOCKS = 4  # buffered messages that may carry a block, per validator
RECENT_BLOCKS = 5  # decided blocks whose intervals set the pace of view timeouts
MAX_PACE_FACTOR = 4  # the pace may raise the base timeout to at most this many times base_timeout_ms


class Rejected(ConsensusError):
    """A peer's message broke a rule; it is dropped (the peer's fault, never ours)."""


@dataclass(frozen=True, slots=True)
class ReplicaConfig:
    """Everything a replica needs to know that every validator must agree on, plus local limits.

    ``rotate_every`` is K: the primary of (height, view) is
    ``validators[(height // K + view) % n]``, so the primary changes at
    least every K heights even when it never fails.
    """

    chain_id: str
    validators: tuple[bytes, ...]
    base_timeout_ms: int = 1000
    max_block_txs: int = 1000
    max_block_bytes: int = 1 << 20
    max_clock_skew_ms: int = 5000
    rotate_every: int = 10
    future_buffer: int = 1024
    max_view_ahead: int = 64
    resend_ms: int = 0  # first retransmission of our own votes in an undecided round; 0: base_timeout_ms // 4
    resend: bool = True  # False only to measure what retransmission saves (tests/sim)

    def __post_init__(self) -> None:
        check_chain_id(self.chain_id)
        validators = tuple(self.validators)
        object.__setattr__(self, "validators", validators)
        if not validators:
            raise ConsensusError("a validator set needs at least one validator")
        if len(set(validators)) != len(validators):
            raise ConsensusError("a validator is listed twice")
        if any(not isinstance(v, bytes) or len(v) != PUBKEY_SIZE for v in validators):
            raise ConsensusError("validators are 32-byte ed25519 public keys")
        for name in ("base_timeout_ms", "max_block_txs", "max_block_bytes", "rotate_every", "future_buffer"):
            if getattr(self, name) < 1:
                raise ConsensusError(f"{name} must be at least 1")

    @property
    def n(self) -> int:
        return len(self.validators)

    def primary(self, height: int, view: int) -> bytes:
        """The validator that proposes at (height, view): rotates every K heights and every view."""
        return self.validators[(height // self.rotate_every + view) % len(self.validators)]

    def view_timeout_ms(self, view: int) -> int:
        """How long the ``view``-th view of a height may take: doubles per failed view, capped.

        ``view`` counts from the height's first view (views persist across heights).
        """
        return self.base_timeout_ms * 2 ** min(view, MAX_TIMEOUT_DOUBLINGS)

    def resend_delay_ms(self, resends: int, view: int) -> int:
        """Wait before the next retransmission: doubles per resend, never longer than the view's timeout."""
        first = self.resend_ms or max(1, self.base_timeout_ms // 4)
        return min(first * 2 ** min(resends, MAX_TIMEOUT_DOUBLINGS), self.view_timeout_ms(view))


@dataclass(slots=True)
class _Round:
    """Everything the replica knows about the height it is deciding; dropped when it commits."""

    blocks: dict[bytes, Block] = field(default_factory=dict)  # signed proposals and view-change blocks, by hash
    proposals: dict[int, PrePrepare] = field(default_factory=dict)  # view -> first signed proposal
    accepted: dict[int, bytes] = field(default_factory=dict)  # view -> hash of the proposal we validated
    votes: dict[tuple[int, int, bytes], dict[bytes, Vote]] = field(default_factory=dict)  # (phase, view, hash)
    first_vote: dict[tuple[bytes, int, int], Vote] = field(default_factory=dict)  # (validator, phase, view)
    equivocators: set[tuple[bytes, int, int]] = field(default_factory=set)
    view_changes: dict[int, dict[bytes, ViewChange]] = field(default_factory=dict)  # view -> validator -> vc
    entered: dict[int, bytes | None] = field(default_factory=lambda: {0: None})  # view -> block it must carry
    new_views: dict[int, NewView] = field(default_factory=dict)
    sent_commit: set[int] = field(default_factory=set)  # views we sent (or refused to send) a COMMIT in
    own_view_change: ViewChange | None = None
    helped: set[tuple[bytes, int]] = field(default_factory=set)  # (validator, view) we answered, once each
    ahead: dict[bytes, bool] = field(default_factory=dict)  # validator seen above our height -> "clearly stuck"
    resends: int = 0  # retransmissions of our own messages in the current view


class Replica:
    """One validator's (or observer's) view of consensus. Single-threaded: one call at a time.

    Every public method takes ``now_ms`` from the caller and returns the
    actions to perform, in order.
    """

    def __init__(
        self,
        config: ReplicaConfig,
        key: PrivateKey | None,
        app: Application,
        head: Head,
        last_signed: LastSigned | None = None,
        recent_times: tuple[int, ...] = (),
    ) -> None:
        """``recent_times``: timestamps of the blocks before the head, oldest first (up to RECENT_BLOCKS),
        so that a restarted replica paces its view timeouts like the others from its first height."""
        self.config = config
        self.key = key
        self.me: bytes | None = key.public_key if key else None
        if self.me is not None and self.me not in config.validators:
            raise ConsensusError("the replica's key is not a validator; pass key=None for an observer")
        self.app = app
        self.members = frozenset(config.validators)
        self.f = max_faulty(config.n)
        self.quorum = quorum_size(config.n)
        self.head = head
        self.executed_height = head.height
        self.last_signed = last_signed
        # Views persist across heights (PBFT): a height starts in the view its parent was proposed in,
        # so once a view change skips a dead primary the following heights do not pay for it again.
        self.base_view = head.view
        self.view = head.view
        self.prepared: PreparedCert | None = None
        self.prepared_block: Block | None = None
        self.round = _Round(entered={head.view: None})
        self.pending_evidence: dict[bytes, Evidence] = {}
        self.last_rejection: str | None = None
        self.rejections = 0
        self._timers: dict[str, int] = {}
        self._sync_for_head: int | None = None
        self._head_commit_sigs: dict[tuple[int, bytes], bytes] = {}
        self._future: dict[bytes, list[tuple[bytes, Message]]] = {}
        self._future_count = 0
        self._now = 0
        self._recent_times: deque[int] = deque([*recent_times, head.timestamp_ms], maxlen=RECENT_BLOCKS + 1)
        self._out: list[Action] = []
        self._replaying = False
        if last_signed is not None and last_signed.height == self.height:
            # Resume where we signed last: never vote in a view we left, and keep reporting what we prepared.
            self.view = last_signed.view
            self.prepared = last_signed.prepared
            self.prepared_block = last_signed.prepared_block
            if last_signed.prepared_block is not None:
                self.round.blocks[last_signed.prepared_block.hash] = last_signed.prepared_block

    # ------------------------------------------------------------------ queries

    @property
    def height(self) -> int:
        """The height being decided: one above the last committed block."""
        return self.head.height + 1

    @property
    def is_primary(self) -> bool:
        return self.me is not None and self.config.primary(self.height, self.view) == self.me

    def status(self) -> dict[str, Any]:
        """A snapshot for logs, metrics and RPC: where this replica stands and what it waits for."""
        return {
            "height": self.height, "view": self.view, "is_primary": self.is_primary,
            "in_view_change": self.view not in self.round.entered,
            "prepared_view": self.prepared.view if self.prepared else None,
            "executed_height": self.executed_height, "timers": self.timers(),
            "pending_evidence": len(self.pending_evidence), "buffered": self._future_count,
            "rejections": self.rejections, "last_rejection": self.last_rejection,
            "timeout_ms": self.view_timeout_ms(self.view - self.base_view),
        }

    def timers(self) -> dict[str, int]:
        """The timers this replica believes are set (name -> deadline_ms)."""
        return dict(self._timers)

    # ------------------------------------------------------------------ entry points

    def receive(self, sender: bytes, msg: Message, now_ms: int) -> list[Action]:
        """Handle one decoded message from peer ``sender``."""
        return self._run(now_ms, lambda: self._dispatch(sender, msg))

    def on_timer(self, name: str, now_ms: int) -> list[Action]:
        """A timer set by SetTimer fired."""
        return self._run(now_ms, lambda: self._on_timer(name))

    def on_work(self, now_ms: int) -> list[Action]:
        """The mempool got work: propose if we are the primary, and start the view-change timer."""
        return self._run(now_ms, self._on_work)

    def on_executed(self, height: int, now_ms: int) -> list[Action]:
        """The node executed and stored block ``height``: state_root is current, the next height may start."""
        return self._run(now_ms, lambda: self._on_executed(height))

    def on_synced_block(self, block: Block, cert: Certificate, now_ms: int) -> list[Action]:
        """Catch-up delivered a committed block; commit it if it is the next one and its certificate holds."""
        return self._run(now_ms, lambda: self._on_synced_block(block, cert))

    def _run(self, now_ms: int, step: Callable[[], Any]) -> list[Action]:
        self._now = now_ms
        self._out = []
        step()
        out, self._out = self._out, []
        return out

    def _dispatch(self, sender: bytes, msg: Message) -> None:
        handler = HANDLERS.get(type(msg))
        try:
            if handler is None:
                raise Rejected(f"not a consensus message: {type(msg).__name__}")
            handler(self, sender, msg)
        except Rejected as exc:
            self.last_rejection = f"{type(msg).__name__}: {exc}"
            self.rejections += 1

    # ------------------------------------------------------------------ normal case

    def on_pre_prepare(self, sender: bytes, pp: PrePrepare) -> None:
        """Validate the primary's proposal; PREPARE it if it is good."""
        p = pp.proposal
        self._check_signer(p.chain_id, p.validator)
        rnd = self.round
        if not self._is_current(sender, pp, p.height, p.view, p.validator):
            self._note_certificate_ahead(sender, pp.block.last_cert)
            return
        if p.view < self.view:
            return  # a view we left
        if p.view not in rnd.entered:
            self._buffer(sender, pp, p.validator, p.height)  # wait for the NewView of that view
            return
        if p.validator != self.config.primary(p.height, p.view):
            raise Rejected("proposal is not from the primary of its (height, view)")
        if self.executed_height != self.head.height:
            self._buffer(sender, pp, p.validator, p.height)  # state_root not current yet: see on_executed
            return
        existing = rnd.proposals.get(p.view)
        if existing is not None:
            if existing.proposal != p:
                self._check_vote_signature(p)
                self._record_equivocation(existing.proposal, p)
            return
        self._check_vote_signature(p)
        required = rnd.entered[p.view]
        if required is not None and pp.block_hash != required:
            raise Rejected("the new view requires re-proposing the block prepared in an earlier view")
        self._check_extends_head(pp.block)
        rnd.proposals[p.view] = pp
        rnd.first_vote[(p.validator, PROPOSE, p.view)] = p
        self._learn_block(pp.block_hash, pp.block)
        if self.round is not rnd:
            return  # COMMITs that arrived first decided it
        self._validate_proposal(pp, carried=required is not None)
        rnd.accepted[p.view] = pp.block_hash
        self._restart_view_timer()
        self._vote(PREPARE, p.view, pp.block_hash)
        self._try_prepared()

    def on_prepare(self, sender: bytes, msg: Prepare) -> None:
        """Count a PREPARE; a quorum on our accepted proposal makes us COMMIT."""
        self._on_vote(sender, msg, msg.vote)

    def on_commit(self, sender: bytes, msg: Commit) -> None:
        """Count a COMMIT; a quorum in any view decides the block."""
        self._on_vote(sender, msg, msg.vote)

    def _on_vote(self, sender: bytes, msg: Message, vote: Vote) -> None:
        self._check_signer(vote.chain_id, vote.validator)
        if not self._is_current(sender, msg, vote.height, vote.view, vote.validator):
            return
        if vote.view > self.view and (vote.phase == PREPARE or vote.view > self.view + self.config.max_view_ahead):
            self._buffer(sender, msg, vote.validator, vote.height)
            return
        if vote.phase == PREPARE and vote.view < self.view:
            return  # a view we left: prepares there no longer matter
        slot = (vote.validator, vote.phase, vote.view)
        first = self.round.first_vote.get(slot)
        if first == vote:
            return  # duplicate: already verified and counted
        self._check_vote_signature(vote)
        if first is not None:
            self._record_equivocation(first, vote)
            return
        self._count_vote(vote)

    def _count_vote(self, vote: Vote) -> None:
        rnd = self.round
        rnd.first_vote[(vote.validator, vote.phase, vote.view)] = vote
        rnd.votes.setdefault((vote.phase, vote.view, vote.block_hash), {})[vote.validator] = vote
        if vote.phase == PREPARE:
            self._try_prepared()
        elif vote.phase == COMMIT:
            self._try_decide(vote.view, vote.block_hash)

    def _try_prepared(self) -> None:
        """Prepared = our accepted proposal + a quorum of PREPAREs in this view: send COMMIT once."""
        rnd, view = self.round, self.view
        block_hash = rnd.accepted.get(view)
        if block_hash is None or view in rnd.sent_commit:
            return
        votes = rnd.votes.get((PREPARE, view, block_hash), {})
        if len(votes) < self.quorum:
            return
        rnd.sent_commit.add(view)
        cert = PreparedCert(tuple(sorted(votes.values(), key=lambda v: v.validator)[: self.quorum]))
        if self.prepared is None or cert.view > self.prepared.view:
            self.prepared, self.prepared_block = cert, rnd.blocks[block_hash]
        self._restart_view_timer()
        self._vote(COMMIT, view, block_hash)

    def _try_decide(self, view: int, block_hash: bytes) -> None:
        """A quorum of COMMITs on a block we hold decides it, whatever view we are in."""
        votes = self.round.votes.get((COMMIT, view, block_hash), {})
        if len(votes) < self.quorum:
            return
        block = self.round.blocks.get(block_hash)
        if block is None:
            self._request_sync(None)  # decided, but we never saw the block
            return
        cert = Certificate.from_votes(sorted(votes.values(), key=lambda v: v.validator)[: self.quorum])
        self._decide(block, cert)

    def _decide(self, block: Block, cert: Certificate) -> None:
        """Commit ``block`` at our height; the next height starts in the view ``block`` was proposed in."""
        self._recent_times.append(block.header.timestamp_ms)
        self._cancel_timer(TIMER_VIEW)
        self._cancel_timer(TIMER_RESEND)
        self._out.append(CommitBlock(block, cert))
        # COMMIT signatures already verified on this block: the next proposal's last_cert reuses them.
        self._head_commit_sigs = {
            (view, validator): vote.sig
            for (phase, view, voted), votes in self.round.votes.items() if phase == COMMIT and voted == cert.block_hash
            for validator, vote in votes.items()
        }
        self.head = Head(block.height, cert.block_hash, block.header.timestamp_ms, cert, block.header.view)
        for evidence in block.evidence:
            self.pending_evidence.pop(evidence.hash, None)
        self.base_view = block.header.view
        self.view = block.header.view
        self.round = _Round(entered={self.view: None})
        self.prepared = self.prepared_block = None
        self._drain_future()

    # ------------------------------------------------------------------ proposing

    def _on_work(self) -> None:
        self._maybe_propose()
        self._ensure_view_timer()

    def _on_executed(self, height: int) -> None:
        if height != self.head.height or height <= self.executed_height:
            return
        self.executed_height = height
        self._drain_future()
        self._maybe_propose()
        self._ensure_view_timer()

    def _maybe_propose(self) -> None:
        """As primary of an entered view with no proposal yet and work pending: propose a full batch."""
        rnd, view = self.round, self.view
        if not self.is_primary or view not in rnd.entered or rnd.entered[view] is not None:
            return
        if view in rnd.proposals or self.executed_height != self.head.height:
            return
        block = self._build_block(view)
        if block is not None:
            self._propose(block, view)

    def _build_block(self, view: int) -> Block | None:
        assert self.me is not None
        if not self.app.has_proposable():
            return None
        txs = self.app.take_batch(self.config.max_block_txs, self.config.max_block_bytes)
        if not txs:
            return None
        evidence = [self.pending_evidence[h] for h in sorted(self.pending_evidence)][:MAX_EVIDENCE]
        return Block.build(
            chain_id=self.config.chain_id, height=self.height, view=view,
            timestamp_ms=max(self._now, self.head.timestamp_ms + 1), parent_hash=self.head.block_hash,
            proposer=self.me, state_root=self.app.state_root(), txs=txs,
            last_cert=self.head.certificate, evidence=evidence,
        )

    def _propose(self, block: Block, view: int) -> PrePrepare | None:
        """Sign, broadcast and locally accept a proposal (fresh, or carried by a new view)."""
        vote = self._sign(PROPOSE, view, block.hash)
        if vote is None:
            return None
        pp = PrePrepare(block, vote)
        self._out.append(Broadcast(pp))
        self._arm_resend()
        assert self.me is not None
        self._dispatch(self.me, pp)
        return pp

    # ------------------------------------------------------------------ proposal validity

    def _check_extends_head(self, block: Block) -> None:
        """The block is for our height on our head, and its body is the one its header (hash) commits to.

        Checked before a block is stored under its hash: a body swapped under
        a genuine header would otherwise be committed by the honest votes.
        """
        h = block.header
        if h.chain_id != self.config.chain_id:
            raise Rejected("block is for another chain")
        if h.height != self.height:
            raise Rejected(f"block height {h.height} is not {self.height}")
        if h.parent_hash != self.head.block_hash:
            raise Rejected("block does not extend our head")
        try:
            block.check_contents()
        except ValidationError as exc:
            raise Rejected(f"block contents: {exc}") from None

    def _validate_proposal(self, pp: PrePrepare, *, carried: bool) -> None:
        """Everything that makes a proposal acceptable, cheapest first (docs/CONSENSUS.md, "PRE-PREPARE")."""
        block, header, cfg = pp.block, pp.block.header, self.config
        if header.timestamp_ms <= self.head.timestamp_ms:
            raise Rejected("block timestamp is not after its parent's")
        if carried:
            # Prepared by a quorum in an earlier view: its clock check was done then.
            if header.proposer != cfg.primary(header.height, header.view):
                raise Rejected("carried block was not proposed by the primary of its view")
        else:
            if header.view != pp.view or header.proposer != pp.proposal.validator:
                raise Rejected("block header view/proposer differ from the proposal's")
            if abs(header.timestamp_ms - self._now) > cfg.max_clock_skew_ms:
                raise Rejected("block timestamp is too far from our clock")
        if len(block.txs) > cfg.max_block_txs:
            raise Rejected(f"block holds more than {cfg.max_block_txs} txs")
        if sum(len(tx.encode()) for tx in block.txs) > cfg.max_block_bytes:
            raise Rejected(f"block txs exceed {cfg.max_block_bytes} bytes")
        self._check_last_cert(block)
        if header.state_root != self.app.state_root():
            raise Rejected("block state_root differs from ours after the parent")
        self._check_evidence(block)
        try:
            self.app.check_block(block)
        except ValidationError as exc:
            raise Rejected(f"block rejected by the application: {exc}") from None

    def _check_last_cert(self, block: Block) -> None:
        cert = block.last_cert
        if cert is None:
            if self.head.height == 0:
                return  # genesis has no certificate
            raise Rejected("block lacks its parent's certificate")
        if (cert.height, cert.block_hash) != (self.head.height, self.head.block_hash):
            raise Rejected("block's last_cert does not certify its parent")
        if cert == self.head.certificate:
            return  # the very certificate we verified or built
        self._verify_certificate(cert, self._head_commit_sigs)
        if self.head.certificate is None:
            self.head = replace(self.head, certificate=cert)

    def _check_evidence(self, block: Block) -> None:
        seen: set[bytes] = set()
        for evidence in block.evidence:
            if evidence.hash in seen:
                raise Rejected("block lists the same evidence twice")
            seen.add(evidence.hash)
            if evidence.first.validator not in self.members:
                raise Rejected("block evidence accuses a non-validator")
            try:
                evidence.check(self.config.chain_id)
            except (ConsensusError, ValidationError) as exc:
                raise Rejected(f"block evidence: {exc}") from None

    def _verify_certificate(self, cert: Certificate, verified: dict[tuple[int, bytes], bytes] | None = None) -> None:
        """Check a commit certificate against the validator set, verifying each signature once.

        ``verified`` maps (view, validator) to COMMIT signatures on this very
        block that we already checked (or made) as votes; only the others
        are verified here.
        """
        if cert.chain_id != self.config.chain_id:
            raise Rejected("certificate is for another chain")
        signers = [v for v, _ in cert.signatures]
        if len(set(signers)) != len(signers) or not self.members.issuperset(signers):
            raise Rejected("certificate signers are not distinct validators")
        if len(signers) < self.quorum:
            raise Rejected(f"certificate has {len(signers)} signatures, needs {self.quorum}")
        known = verified or {}
        for validator, sig in cert.signatures:
            if known.get((cert.view, validator)) == sig:
                continue
            message = vote_signing_bytes(cert.chain_id, COMMIT, cert.height, cert.view, cert.block_hash, validator)
            if not verify(validator, message, sig):
                raise Rejected(f"certificate signature of validator {validator.hex()[:16]} is invalid")

    # ------------------------------------------------------------------ view change

    def start_view_change(self, new_view: int) -> None:
        """Leave the current view for ``new_view``: sign a ViewChange reporting what we prepared."""
        if self.me is None or self.key is None or new_view <= self.view:
            return
        rnd = self.round
        if self.last_signed is not None and not self.last_signed.allows(self.height, new_view, None, ZERO_HASH):
            return
        self.view = new_view
        vc = ViewChange(
            self.config.chain_id, self.height, new_view, self.me, self.prepared, self.prepared_block
        ).sign(self.key)
        self._persist(LastSigned(self.height, new_view, None, ZERO_HASH, self.prepared, self.prepared_block))
        self._out.append(Broadcast(vc))
        rnd.own_view_change = vc
        rnd.resends = 0
        self._arm_resend(restart=True)
        self._store_view_change(vc.without_block())
        self._set_view_timer(new_view - self.base_view)
        self._try_new_view()
        self._drain_future()

    def on_view_change(self, sender: bytes, vc: ViewChange) -> None:
        """Collect ViewChanges: f+1 for later views pull us along; a quorum lets the new primary start."""
        self._check_signer(vc.chain_id, vc.validator)
        if vc.height != self.height:
            self._is_current(sender, vc, vc.height, vc.view, vc.validator)  # stale: help; future: buffer
            return
        stripped = vc.without_block()
        known = self.round.view_changes.get(vc.view, {}).get(vc.validator)
        if known == stripped:
            return  # duplicate
        if vc.view < self.view:
            self._help_laggard(sender, vc.validator, vc.view)
            return
        if any(v > vc.view and vc.validator in t for v, t in self.round.view_changes.items()):
            return  # it already moved past this view
        if not vc.verify():
            raise Rejected("view change signature is invalid")
        if vc.prepared is not None:
            self._check_prepared(vc.prepared)
            if vc.block is None:
                raise Rejected("a view change reporting a prepared block must carry it")
            self._check_extends_head(vc.block)
            self._learn_block(vc.prepared.block_hash, vc.block)
        self._store_view_change(stripped)
        if vc.view > self.view:
            self._join_view_change()
        elif vc.view in self.round.new_views:
            self._help_laggard(sender, vc.validator, vc.view)  # it missed the NewView we entered by
        else:
            self._try_new_view()

    def _store_view_change(self, vc: ViewChange) -> None:
        """Keep the view change; above our view, only each validator's highest (bounds memory)."""
        rnd = self.round
        if vc.view > self.view:
            for view in [v for v, table in rnd.view_changes.items() if v > self.view and vc.validator in table]:
                if view < vc.view:
                    del rnd.view_changes[view][vc.validator]
        rnd.view_changes.setdefault(vc.view, {})[vc.validator] = vc

    def _join_view_change(self) -> None:
        """f+1 validators are past our view, so at least one honest one is: follow to the (f+1)-th highest."""
        highest: dict[bytes, int] = {}
        for view, table in self.round.view_changes.items():
            if view > self.view:
                for validator in table:
                    highest[validator] = max(view, highest.get(validator, 0))
        if len(highest) <= self.f:
            return
        target = sorted(highest.values(), reverse=True)[self.f]
        self.start_view_change(target)

    def _try_new_view(self) -> None:
        """As primary of our view with a quorum of ViewChanges: send NewView, re-proposing any prepared block."""
        rnd, view = self.round, self.view
        if view == 0 or view in rnd.entered or not self.is_primary:
            return
        table = rnd.view_changes.get(view, {})
        if len(table) < self.quorum:
            return
        vcs = tuple(sorted(table.values(), key=lambda v: v.validator)[: self.quorum])
        required = self._carried_hash(vcs)
        pp: PrePrepare | None = None
        if required is not None:
            block = rnd.blocks.get(required)
            if block is None:
                return  # cannot happen for honest senders: they carry the block
            vote = self._sign(PROPOSE, view, required)
            if vote is None:
                return
            pp = PrePrepare(block, vote)
        elif self.executed_height == self.head.height:
            block = self._build_block(view)
            if block is not None:
                vote = self._sign(PROPOSE, view, block.hash)
                pp = PrePrepare(block, vote) if vote is not None else None
        new_view = NewView(self.height, view, vcs, pp)
        self._out.append(Broadcast(new_view))
        self._arm_resend()
        assert self.me is not None
        self._enter_view(self.me, new_view, required)

    def on_new_view(self, sender: bytes, nv: NewView) -> None:
        """Enter a later view on proof that a quorum left the earlier ones; check its proposal carries what must be."""
        if nv.height != self.height:
            primary = self.config.primary(nv.height, nv.view)
            if nv.height > self.height:
                self._buffer(sender, nv, primary, nv.height)
            return
        if nv.view < self.view or nv.view in self.round.entered:
            return
        required = self._check_new_view(nv)
        pp = nv.pre_prepare
        if required is not None and (pp is None or pp.block_hash != required):
            raise Rejected("new view does not re-propose the highest prepared block")
        if pp is not None and pp.proposal.validator != self.config.primary(nv.height, nv.view):
            raise Rejected("new view proposal is not from the new primary")
        self._enter_view(sender, nv, required)

    def _check_new_view(self, nv: NewView) -> bytes | None:
        """Verify the quorum of ViewChanges in ``nv``; return the block hash it obliges the view to carry."""
        table = self.round.view_changes.get(nv.view, {})
        seen: set[bytes] = set()
        for vc in nv.view_changes:
            if vc.chain_id != self.config.chain_id or vc.validator not in self.members:
                raise Rejected("new view holds a view change from a non-validator or another chain")
            if vc.validator in seen:
                raise Rejected("new view holds two view changes from one validator")
            seen.add(vc.validator)
            if table.get(vc.validator) == vc:
                continue  # verified when it reached us directly
            if not vc.verify():
                raise Rejected("new view holds a view change with a bad signature")
            if vc.prepared is not None:
                self._check_prepared(vc.prepared)
        if len(seen) < self.quorum:
            raise Rejected(f"new view holds {len(seen)} view changes, needs {self.quorum}")
        return self._carried_hash(nv.view_changes)

    def _carried_hash(self, vcs: tuple[ViewChange, ...]) -> bytes | None:
        """The block prepared in the highest view among ``vcs``: the only one that may have committed."""
        best: PreparedCert | None = None
        for vc in vcs:
            p = vc.prepared
            if p is None:
                continue
            if best is not None and p.view == best.view and p.block_hash != best.block_hash:
                raise Rejected("two blocks prepared in one view: more than f validators are faulty")
            if best is None or p.view > best.view:
                best = p
        return best.block_hash if best else None

    def _enter_view(self, sender: bytes, nv: NewView, required: bytes | None) -> None:
        rnd = self.round
        self.view = nv.view
        rnd.resends = 0
        rnd.entered[nv.view] = required
        rnd.new_views[nv.view] = nv
        self._cancel_timer(TIMER_VIEW)
        self._ensure_view_timer()
        if nv.pre_prepare is not None:
            self._dispatch(sender, nv.pre_prepare)
        self._drain_future()
        self._maybe_propose()

    def _help_laggard(self, sender: bytes, validator: bytes, their_view: int) -> None:
        """A validator is behind our view, or in it without its NewView: send the NewView (or our ViewChange), once."""
        rnd = self.round
        if self._replaying or (validator, their_view) in rnd.helped:
            return
        rnd.helped.add((validator, their_view))
        if self.view in rnd.new_views:
            self._out.append(SendTo(sender, rnd.new_views[self.view]))
        elif rnd.own_view_change is not None:
            self._out.append(SendTo(sender, rnd.own_view_change))

    def _check_prepared(self, cert: PreparedCert) -> None:
        if cert.height != self.height or cert.votes[0].chain_id != self.config.chain_id:
            raise Rejected("prepared certificate is for another height or chain")
        if len(cert.votes) < self.quorum:
            raise Rejected(f"prepared certificate has {len(cert.votes)} votes, needs {self.quorum}")
        for vote in cert.votes:
            if vote.validator not in self.members:
                raise Rejected("prepared certificate holds a non-validator's vote")
            if self.round.first_vote.get((vote.validator, PREPARE, vote.view)) != vote:
                self._check_vote_signature(vote)

    # ------------------------------------------------------------------ catch-up

    def on_commit_notice(self, sender: bytes, notice: CommitNotice) -> None:
        """A certificate for our height or later: commit the block we hold, or ask for blocks."""
        cert = notice.certificate
        if cert.height <= self.head.height:
            return
        if cert.chain_id != self.config.chain_id:
            raise Rejected("commit notice is for another chain")
        block = self.round.blocks.get(cert.block_hash) if cert.height == self.height else None
        if block is None and not self._sync_allowed():
            return
        self._verify_certificate(cert)
        if block is not None:
            self._decide(block, cert)
        else:
            self._request_sync(sender)

    def _on_synced_block(self, block: Block, cert: Certificate) -> None:
        if block.height != self.height:
            return  # old, or not the next one: the caller delivers in order
        if (cert.height, cert.block_hash) != (block.height, block.hash):
            self.last_rejection = "synced block: certificate is for another block"
            return
        try:
            self._check_extends_head(block)
            self._verify_certificate(cert)
        except (Rejected, ValidationError) as exc:
            self.last_rejection = f"synced block: {exc}"
            return
        self._decide(block, cert)

    def _note_certificate_ahead(self, sender: bytes, cert: Certificate | None) -> None:
        """A proposal above our height carries proof that our height is decided: use it."""
        if cert is not None and cert.height >= self.height:
            self.on_commit_notice(sender, CommitNotice(cert))

    def _sync_allowed(self) -> bool:
        return self._sync_for_head != self.head.height

    def _request_sync(self, peer: bytes | None) -> None:
        """Ask for blocks from our height on, at most once per head height until the sync timer fires."""
        if not self._sync_allowed():
            return
        self._sync_for_head = self.head.height
        self._out.append(RequestBlocks(self.height, peer))
        self._set_timer(TIMER_SYNC, self._now + self.config.base_timeout_ms)

    # ------------------------------------------------------------------ timers

    def _on_timer(self, name: str) -> None:
        deadline = self._timers.get(name)
        if deadline is None or self._now < deadline:
            return  # cancelled or replaced: a stale expiry
        del self._timers[name]
        if name == TIMER_SYNC:
            self._sync_for_head = None
            if len(self.round.ahead) > self.f:
                self._request_sync(None)
        elif name == TIMER_RESEND:
            self._resend()
        elif name == TIMER_VIEW:
            if not self._work_in_flight():
                return
            if len(self.round.ahead) > self.f:
                self._request_sync(None)
            self.start_view_change(self.view + 1)

    # ------------------------------------------------------------------ retransmission

    def _arm_resend(self, restart: bool = False) -> None:
        """We sent something this round: if the round is still undecided after a while, send it again."""
        if self.me is None or not self.config.resend:
            return
        if restart:
            self._cancel_timer(TIMER_RESEND)
        elif TIMER_RESEND in self._timers:
            return
        delay = self.config.resend_delay_ms(self.round.resends, self.view - self.base_view)
        self._set_timer(TIMER_RESEND, self._now + delay)

    def _resend(self) -> None:
        """Send our own messages of this round again: one lost vote costs a round trip, not a view change.

        Votes and view changes go to everyone (they are small; receivers drop
        duplicates before any signature check). A proposal or NewView carries
        a block, so it goes only to validators that have not voted on it,
        which are the ones that may have missed it.
        """
        assert self.me is not None
        rnd, view, me = self.round, self.view, self.me
        sent = False
        if view not in rnd.entered:
            if rnd.own_view_change is not None and rnd.own_view_change.view == view:
                self._out.append(Broadcast(rnd.own_view_change))
                sent = True
        else:
            carrier: Message | None = None
            pp = rnd.proposals.get(view)
            if view in rnd.new_views and self.config.primary(self.height, view) == me:
                carrier = rnd.new_views[view]
            elif pp is not None and pp.proposal.validator == me:
                carrier = pp
            if carrier is not None and pp is not None:
                voted = {v for (phase, v_view, voted_hash), table in rnd.votes.items()
                         if v_view == view and voted_hash == pp.block_hash for v in table}
                for validator in self.config.validators:
                    if validator != me and validator not in voted:
                        self._out.append(SendTo(validator, carrier))
                        sent = True
            elif carrier is not None:  # a NewView without a proposal: nothing to vote on, so to everyone
                self._out.append(Broadcast(carrier))
                sent = True
            for phase, wrap in ((PREPARE, Prepare), (COMMIT, Commit)):
                vote = rnd.first_vote.get((me, phase, view))
                if vote is not None:
                    self._out.append(Broadcast(wrap(vote)))
                    sent = True
        if sent:
            rnd.resends += 1
            self._arm_resend()

    def _work_in_flight(self) -> bool:
        """Something to decide: pending txs, a proposal seen, or a view change under way."""
        rnd = self.round
        return self.app.has_proposable() or bool(rnd.blocks) or self.view not in rnd.entered

    def _ensure_view_timer(self) -> None:
        """Green: the view-change timer runs only while there is work; validators only."""
        if self.me is None or TIMER_VIEW in self._timers or self.executed_height != self.head.height:
            return  # an observer, already running, or waiting for on_executed (which calls us again)
        if not self._work_in_flight():
            return
        self._set_view_timer(self.view - self.base_view)

    def view_timeout_ms(self, views_failed: int) -> int:
        """The timeout of a view after ``views_failed`` failed views at this height, adapted to the chain's pace.

        ``base_timeout_ms`` is a floor: when the recent blocks came further
        apart (a busy network, large blocks), the base becomes twice the
        median interval between the last RECENT_BLOCKS decided blocks, capped
        at MAX_PACE_FACTOR times the configured base (slow blocks must not make
        the next view change ever slower). A timeout shorter than an ordinary
        round only changes views on primaries that are doing their job. The
        intervals come from agreed block timestamps, so every replica at a
        height computes the same timeout and view changes stay in step (a
        replica timing out on its own clock would run ahead of the others and
        never meet them in one view). The median ignores an idle gap.
        Doubling per failed view comes on top.
        """
        cfg = self.config
        cap = cfg.view_timeout_ms(MAX_TIMEOUT_DOUBLINGS)
        intervals = sorted(b - a for a, b in itertools.pairwise(self._recent_times))
        pace = intervals[len(intervals) // 2] if len(intervals) >= RECENT_BLOCKS else 0
        base = max(cfg.base_timeout_ms, min(2 * pace, cfg.base_timeout_ms * MAX_PACE_FACTOR, cap))
        return min(base * 2 ** min(views_failed, MAX_TIMEOUT_DOUBLINGS), cap)

    def _set_view_timer(self, views_failed: int) -> None:
        self._set_timer(TIMER_VIEW, self._now + self.view_timeout_ms(views_failed))

    def _restart_view_timer(self) -> None:
        """The view made progress (we accepted its proposal, or it prepared): give the next phase a full timeout.

        The timer is there to replace a primary that does not do its job. On a
        busy host, validating and executing a large block can take longer than
        the timeout; counting that against the view changed views on a primary
        that had proposed in time, and threw away the work. Each view still
        ends within three timeouts (waiting for the proposal, the PREPAREs,
        the COMMITs), so a faulty primary or quorum cannot hold it forever.
        """
        if self.me is None or self.executed_height != self.head.height:
            return
        self._set_view_timer(self.view - self.base_view)

    def _set_timer(self, name: str, deadline_ms: int) -> None:
        self._timers[name] = deadline_ms
        self._out.append(SetTimer(name, deadline_ms))

    def _cancel_timer(self, name: str) -> None:
        if self._timers.pop(name, None) is not None:
            self._out.append(CancelTimer(name))

    # ------------------------------------------------------------------ signing

    def _sign(self, phase: int, view: int, block_hash: bytes) -> Vote | None:
        """Sign a vote unless it could conflict with what we signed before; persist first."""
        if self.key is None or self.me is None:
            return None
        if self.last_signed is not None and not self.last_signed.allows(self.height, view, phase, block_hash):
            return None
        vote = Vote(self.config.chain_id, phase, self.height, view, block_hash, self.me).sign(self.key)
        self._persist(LastSigned(self.height, view, phase, block_hash, self.prepared, self.prepared_block))
        return vote

    def _persist(self, record: LastSigned) -> None:
        self.last_signed = record
        self._out.append(PersistLastSigned(record))

    def _vote(self, phase: int, view: int, block_hash: bytes) -> None:
        vote = self._sign(phase, view, block_hash)
        if vote is None:
            return
        self._out.append(Broadcast(Prepare(vote) if phase == PREPARE else Commit(vote)))
        self._arm_resend()
        self._count_vote(vote)

    # ------------------------------------------------------------------ helpers

    def _check_signer(self, chain_id: str, validator: bytes) -> None:
        if chain_id != self.config.chain_id:
            raise Rejected(f"message is for chain {chain_id!r}")
        if validator not in self.members:
            raise Rejected("message is signed by a non-validator")

    def _check_vote_signature(self, vote: Vote) -> None:
        if not vote.verify():
            raise Rejected(f"{('PROPOSE', 'PREPARE', 'COMMIT')[vote.phase]} vote signature is invalid")

    def _is_current(self, sender: bytes, msg: Message, height: int, view: int, validator: bytes) -> bool:
        """True for our height; older heights get a CommitNotice back, later ones are buffered."""
        if height == self.height:
            return True
        if height < self.height:
            # A view change at a decided height means its sender is stuck; so may a vote for the height we
            # decided last (it may be a retransmission): the head's certificate lets it decide at once.
            if isinstance(msg, ViewChange) or (height == self.head.height and isinstance(msg, Prepare | Commit)):
                self._answer_stale(sender, validator, view, height)
        else:
            self._buffer(sender, msg, validator, height)
        return False

    def _answer_stale(self, sender: bytes, validator: bytes, view: int, height: int) -> None:
        """A validator still works on a height we decided: send it our head's certificate, once per view."""
        cert = self.head.certificate
        key = (b"stale:" + validator, view)
        if self._replaying or cert is None or key in self.round.helped:
            return
        self.round.helped.add(key)
        self._out.append(SendTo(sender, CommitNotice(cert)))

    def _learn_block(self, block_hash: bytes, block: Block) -> None:
        """Hold a signed block of our height; COMMITs that arrived before it may now decide it."""
        rnd = self.round
        if block_hash in rnd.blocks:
            return
        rnd.blocks[block_hash] = block
        for phase, view, voted in list(rnd.votes):
            if phase == COMMIT and voted == block_hash and self.round is rnd:
                self._try_decide(view, block_hash)

    def _record_equivocation(self, first: Vote, second: Vote) -> None:
        """Two signed votes at one (height, view, phase) for different blocks: keep the proof, count neither again."""
        slot = (first.validator, first.phase, first.view)
        if first.block_hash == second.block_hash or slot in self.round.equivocators:
            return
        self.round.equivocators.add(slot)
        a, b = sorted((first, second), key=lambda v: v.block_hash)
        evidence = Evidence(a, b)
        if len(self.pending_evidence) < MAX_PENDING_EVIDENCE:
            self.pending_evidence[evidence.hash] = evidence
        self._out.append(RecordEvidence(evidence))

    def _buffer(self, sender: bytes, msg: Message, validator: bytes, height: int) -> None:
        """Keep a message for the next height or a later view, within a per-validator share of the buffer.

        Two or more heights ahead we only note that we are behind (catch-up
        fetches those blocks); messages carrying blocks get a share of their
        own, since each may be megabytes.
        """
        if height > self.height:
            self._note_ahead(sender, validator, height, msg)
            if height > self.height + 1:
                return
        queue = self._future.setdefault(validator, [])
        if len(queue) >= max(4, self.config.future_buffer // self.config.n):
            return
        carrying = (PrePrepare, NewView, ViewChange)
        if isinstance(msg, carrying) and sum(isinstance(m, carrying) for _, m in queue) >= MAX_BUFFERED_BLOCKS:
            return
        queue.append((sender, msg))
        self._future_count += 1

    def _note_ahead(self, sender: bytes, validator: bytes, height: int, msg: Message) -> None:
        """f+1 validators clearly past our height (two ahead, or changing views there): we are behind."""
        rnd = self.round
        stuck = height > self.height + 1 or isinstance(msg, ViewChange)
        rnd.ahead[validator] = rnd.ahead.get(validator, False) or stuck
        if len(rnd.ahead) > self.f and any(rnd.ahead.values()):
            self._request_sync(sender)

    def _drain_future(self) -> None:
        """Re-offer buffered messages after our height, view or executed state changed."""
        if not self._future_count:
            return
        queued = [item for queue in self._future.values() for item in queue]
        self._future.clear()
        self._future_count = 0
        replaying, self._replaying = self._replaying, True
        try:
            for sender, msg in queued:
                self._dispatch(sender, msg)
        finally:
            self._replaying = replaying


# The message -> step table: every message type and the one handler that takes it.
HANDLERS: dict[type, Callable[[Replica, bytes, Any], None]] = {
    PrePrepare: Replica.on_pre_prepare,
    Prepare: Replica.on_prepare,
    Commit: Replica.on_commit,
    ViewChange: Replica.on_view_change,
    NewView: Replica.on_new_view,
    CommitNotice: Replica.on_commit_notice,
}
