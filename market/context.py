"""What a rule may know besides state: the block it runs in and the tx it serves.

Time is the block's agreed ``timestamp_ms``, never a local clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from marketnode.market.receipts import Event

if TYPE_CHECKING:
    from marketnode.market.params import Params
    from marketnode.market.state import State


@dataclass(frozen=True, slots=True)
class BlockContext:
    """The agreed facts of the block being executed."""

    chain_id: str
    height: int
    timestamp_ms: int
    proposer: bytes


@dataclass(slots=True)
class TxContext:
    """Everything a handler sees while executing one tx."""

    state: State
    block: BlockContext
    params: Params
    sender: bytes
    tx_hash: bytes
    events: list[Event] = field(default_factory=list)

    @property
    def now_ms(self) -> int:
        return self.block.timestamp_ms

    def emit(self, kind: str, **attrs: Any) -> None:
        """Record an event for the receipt (indexes and subscriptions read these)."""
        self.events.append(Event(kind, attrs))
