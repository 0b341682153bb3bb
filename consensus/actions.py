"""What a replica asks its caller to do: frozen dataclasses, performed in list order.

Ordering contract (docs/CONSENSUS.md, "Actions"): a PersistLastSigned must be
durable before any later Broadcast/SendTo of the same list leaves the process;
after a CommitBlock the caller executes and stores the block, then calls
``Replica.on_executed``.
"""

from __future__ import annotations

from dataclasses import dataclass

from marketnode.consensus.messages import Message
from marketnode.consensus.records import LastSigned
from marketnode.core.types import Block, Certificate, Evidence


@dataclass(frozen=True, slots=True)
class Broadcast:
    """Send ``msg`` to every validator (and observers) except ourselves."""

    msg: Message


@dataclass(frozen=True, slots=True)
class SendTo:
    """Send ``msg`` to one peer, named by the key it was received from."""

    validator: bytes
    msg: Message


@dataclass(frozen=True, slots=True)
class CommitBlock:
    """``block`` is final, proven by ``certificate``: store and execute it, then call on_executed."""

    block: Block
    certificate: Certificate


@dataclass(frozen=True, slots=True)
class PersistLastSigned:
    """Durably record what we are about to sign, before the signed message leaves the process."""

    record: LastSigned


@dataclass(frozen=True, slots=True)
class SetTimer:
    """Call ``on_timer(name)`` at ``deadline_ms``; replaces any timer of the same name."""

    name: str
    deadline_ms: int


@dataclass(frozen=True, slots=True)
class CancelTimer:
    """Forget the timer ``name`` (a no-op if it is not set)."""

    name: str


@dataclass(frozen=True, slots=True)
class RequestBlocks:
    """Fetch committed blocks with their certificates from ``from_height`` on; feed them to on_synced_block.

    ``peer`` is a peer that showed it is ahead, or None for any peer.
    """

    from_height: int
    peer: bytes | None


@dataclass(frozen=True, slots=True)
class RecordEvidence:
    """A validator signed two different things at one (height, view, phase): keep it, make it queryable."""

    evidence: Evidence


Action = Broadcast | SendTo | CommitBlock | PersistLastSigned | SetTimer | CancelTimer | RequestBlocks | RecordEvidence
