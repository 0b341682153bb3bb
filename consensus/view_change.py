"""The view change: replace a primary that does not do its job, carrying any block that may have committed.

Steps follow docs/CONSENSUS.md ("View change", "Timers"): start_view_change,
on_view_change, _join_view_change, _try_new_view, on_new_view; and the
view-change timer, which runs only while there is work and adapts to the
chain's pace. A mixin over ``ReplicaBase`` (why mixins: see replica_base).
"""

from __future__ import annotations

import itertools

from marketnode.consensus.actions import Broadcast, SendTo
from marketnode.consensus.messages import NewView, PreparedCert, PrePrepare, ViewChange
from marketnode.consensus.records import LastSigned
from marketnode.consensus.replica_base import ReplicaBase
from marketnode.consensus.state import MAX_PACE_FACTOR, MAX_TIMEOUT_DOUBLINGS, RECENT_BLOCKS, TIMER_VIEW, Rejected
from marketnode.core.types import PREPARE, PROPOSE, ZERO_HASH


class ViewChanges(ReplicaBase):
    """ViewChange and NewView, and the view-change timer that starts them."""

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
        if not vc.verify(self.sig_cache):
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
            if not vc.verify(self.sig_cache):
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

    # ------------------------------------------------------------------ view timers

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
        return min(base << min(views_failed, MAX_TIMEOUT_DOUBLINGS), cap)  # base * 2**k, kept an int

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
