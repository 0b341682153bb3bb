"""The normal case of PBFT: the primary proposes, replicas PREPARE a valid proposal, a quorum COMMITs and decides.

Steps follow docs/CONSENSUS.md ("Normal case", "Retransmission"): on_pre_prepare, on_prepare,
on_commit, _try_prepared, _try_decide, _decide; proposing (_maybe_propose)
and the retransmission of our own votes. A mixin over ``ReplicaBase``
(why mixins: see replica_base).
"""

from __future__ import annotations

from dataclasses import replace

from marketnode.consensus.actions import Broadcast, CommitBlock, SendTo
from marketnode.consensus.messages import Commit, Message, Prepare, PreparedCert, PrePrepare
from marketnode.consensus.records import Head
from marketnode.consensus.replica_base import ReplicaBase
from marketnode.consensus.state import TIMER_RESEND, TIMER_VIEW, Rejected, Round
from marketnode.core.errors import ConsensusError, ValidationError
from marketnode.core.types import COMMIT, MAX_EVIDENCE, PREPARE, PROPOSE, Block, Certificate, Vote


class NormalCase(ReplicaBase):
    """PRE-PREPARE, PREPARE, COMMIT and deciding; proposing; what makes a proposal valid; retransmission."""

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
        self.head = Head(block.height, cert.block_hash, block.header.timestamp_ms, cert, block.header.view)
        for evidence in block.evidence:
            self.pending_evidence.pop(evidence.hash, None)
        self.base_view = block.header.view
        self.view = block.header.view
        self.round = Round(entered={self.view: None})
        self.prepared = self.prepared_block = None
        self._drain_future()

    def _learn_block(self, block_hash: bytes, block: Block) -> None:
        """Hold a signed block of our height; COMMITs that arrived before it may now decide it."""
        rnd = self.round
        if block_hash in rnd.blocks:
            return
        rnd.blocks[block_hash] = block
        for phase, view, voted in list(rnd.votes):
            if phase == COMMIT and voted == block_hash and self.round is rnd:
                self._try_decide(view, block_hash)

    def _vote(self, phase: int, view: int, block_hash: bytes) -> None:
        vote = self._sign(phase, view, block_hash)
        if vote is None:
            return
        self._out.append(Broadcast(Prepare(vote) if phase == PREPARE else Commit(vote)))
        self._arm_resend()
        self._count_vote(vote)

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
        self._verify_certificate(cert)
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
                evidence.check(self.config.chain_id, self.sig_cache)
            except (ConsensusError, ValidationError) as exc:
                raise Rejected(f"block evidence: {exc}") from None

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
