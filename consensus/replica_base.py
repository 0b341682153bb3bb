"""The replica's shared state and helpers; the parts (normal case, view change, catch-up) build on it.

The replica is split by job into mixins over one object rather than free
functions over a state dataclass: every step reads and writes the same dozen
fields (the round, the view, the head, the output list) and calls steps of
the other parts (a decided COMMIT drains buffered messages, which may
dispatch a proposal, which may start the view timer). As methods on one
object those calls stay what they were in the single class; as free
functions every one would have to thread the state through. ``ReplicaBase``
declares, as abstract methods, the few steps one part calls in another, so
each module type-checks alone and a Replica missing one cannot be built.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque

from marketnode.consensus.actions import (
    Action,
    CancelTimer,
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
from marketnode.consensus.state import (
    MAX_BUFFERED_BLOCKS,
    MAX_PENDING_EVIDENCE,
    RECENT_BLOCKS,
    SIGNATURES_PER_VALIDATOR,
    TIMER_SYNC,
    Rejected,
    ReplicaConfig,
    Round,
)
from marketnode.core.certificates import CertificateChecker
from marketnode.core.errors import ConsensusError, ValidationError
from marketnode.core.keys import PrivateKey
from marketnode.core.sigcache import DEFAULT_CAPACITY, SignatureCache
from marketnode.core.types import (
    Block,
    Certificate,
    Evidence,
    Vote,
    max_faulty,
    quorum_size,
)


class ReplicaBase(ABC):
    """The state of one replica and the helpers every part uses: dispatch, signing, buffering, timers."""

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
        # Every vote, view change and certificate signature is verified through this cache, once each; sized
        # from n so that a few heights' votes fit even for a large validator set (core/sigcache.py: the bound).
        self.sig_cache = SignatureCache(max(DEFAULT_CAPACITY, SIGNATURES_PER_VALIDATOR * config.n))
        self.certificates = CertificateChecker(config.validators, config.chain_id, self.sig_cache)
        self.head = head
        self.executed_height = head.height
        self.last_signed = last_signed
        # Views persist across heights (PBFT): a height starts in the view its parent was proposed in,
        # so once a view change skips a dead primary the following heights do not pay for it again.
        self.base_view = head.view
        self.view = head.view
        self.prepared: PreparedCert | None = None
        self.prepared_block: Block | None = None
        self.round = Round(entered={head.view: None})
        self.pending_evidence: dict[bytes, Evidence] = {}
        self.last_rejection: str | None = None
        self.rejections = 0
        self._timers: dict[str, int] = {}
        self._sync_for_head: int | None = None
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

    def timers(self) -> dict[str, int]:
        """The timers this replica believes are set (name -> deadline_ms)."""
        return dict(self._timers)

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self, sender: bytes, msg: Message) -> None:
        try:
            self._handle(sender, msg)
        except Rejected as exc:
            self.last_rejection = f"{type(msg).__name__}: {exc}"
            self.rejections += 1

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

    # ------------------------------------------------------------------ helpers

    def _check_signer(self, chain_id: str, validator: bytes) -> None:
        if chain_id != self.config.chain_id:
            raise Rejected(f"message is for chain {chain_id!r}")
        if validator not in self.members:
            raise Rejected("message is signed by a non-validator")

    def _check_vote_signature(self, vote: Vote) -> None:
        if not vote.verify(self.sig_cache):
            raise Rejected(f"{('PROPOSE', 'PREPARE', 'COMMIT')[vote.phase]} vote signature is invalid")

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

    def _verify_certificate(self, cert: Certificate) -> None:
        """Check a commit certificate with core's one checker, at our quorum.

        Signatures go through the replica's cache: the COMMITs we verified as
        votes (the usual content of the next proposal's last_cert) cost
        nothing here.
        """
        try:
            self.certificates.check(cert, self.quorum)
        except (ConsensusError, ValidationError) as exc:
            raise Rejected(str(exc)) from None

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

    # ------------------------------------------------------------------ buffering and sync requests

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

    def _set_timer(self, name: str, deadline_ms: int) -> None:
        self._timers[name] = deadline_ms
        self._out.append(SetTimer(name, deadline_ms))

    def _cancel_timer(self, name: str) -> None:
        if self._timers.pop(name, None) is not None:
            self._out.append(CancelTimer(name))

    # ------------------------------------------------------------------ steps of the other parts
    # Each part of the replica calls a few steps another part defines; declared here so each part type-checks
    # on its own and Replica cannot be built without them.

    @abstractmethod
    def _handle(self, sender: bytes, msg: Message) -> None:
        """Run the one step that takes ``msg`` (replica.Replica: the message table)."""

    @abstractmethod
    def _decide(self, block: Block, cert: Certificate) -> None:
        """Commit ``block`` at our height (normal_case)."""

    @abstractmethod
    def _learn_block(self, block_hash: bytes, block: Block) -> None:
        """Hold a signed block of our height (normal_case)."""

    @abstractmethod
    def _build_block(self, view: int) -> Block | None:
        """A full batch proposal for ``view``, or None without work (normal_case)."""

    @abstractmethod
    def _maybe_propose(self) -> None:
        """Propose if we are the primary of an entered view with work (normal_case)."""

    @abstractmethod
    def _arm_resend(self, restart: bool = False) -> None:
        """Schedule retransmission of our own messages of this round (normal_case)."""

    @abstractmethod
    def _ensure_view_timer(self) -> None:
        """Run the view-change timer while there is work (view_change)."""

    @abstractmethod
    def _restart_view_timer(self) -> None:
        """Give the view's next phase a full timeout (view_change)."""

    @abstractmethod
    def _note_certificate_ahead(self, sender: bytes, cert: Certificate | None) -> None:
        """Use a certificate above our height carried by a proposal (catch_up)."""
