"""What every part of the replica shares: its agreed configuration, the state of the height it decides, the limits.

``ReplicaConfig`` is what all validators must agree on (plus local limits);
``Round`` is everything known about the height being decided, dropped when
it commits. The replica's behaviour lives in ``replica_base``,
``normal_case``, ``view_change`` and ``catch_up``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marketnode.consensus.messages import NewView, PrePrepare, ViewChange
from marketnode.core.errors import ConsensusError
from marketnode.core.keys import PUBKEY_SIZE, check_chain_id
from marketnode.core.types import Block, Vote

TIMER_VIEW = "view-change"
TIMER_SYNC = "sync"
TIMER_RESEND = "resend"
MAX_TIMEOUT_DOUBLINGS = 6
MAX_PENDING_EVIDENCE = 256
MAX_BUFFERED_BLOCKS = 4  # buffered messages that may carry a block, per validator
RECENT_BLOCKS = 5  # decided blocks whose intervals set the pace of view timeouts
# Signature cache entries per validator: a PROPOSE, PREPARE, COMMIT and ViewChange at this height and the last,
# so a height's re-checks (last_cert, prepared certificates, NewView) hit even through a view change.
SIGNATURES_PER_VALIDATOR = 8
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
        return self.base_timeout_ms << min(view, MAX_TIMEOUT_DOUBLINGS)  # * 2**k, kept an int

    def resend_delay_ms(self, resends: int, view: int) -> int:
        """Wait before the next retransmission: doubles per resend, never longer than the view's timeout."""
        first = self.resend_ms or max(1, self.base_timeout_ms // 4)
        return min(first << min(resends, MAX_TIMEOUT_DOUBLINGS), self.view_timeout_ms(view))


@dataclass(slots=True)
class Round:
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
