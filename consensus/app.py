"""The application interface consensus needs; the node supplies it (mempool + executor).

Declared here, next to its only user, so consensus never imports node.
"""

from __future__ import annotations

from typing import Protocol

from marketnode.core.types import Block, Tx


class Application(Protocol):
    """What the replica asks of the node's mempool and state.

    All four are called synchronously from inside replica handlers and must
    not call back into the replica.
    """

    def has_proposable(self) -> bool:
        """True while a block could carry a pending tx now: the only time timers run and primaries propose.

        Txs that cannot go into the next block (waiting behind a nonce gap)
        are not work: with them alone a primary builds nothing, so a timer
        run for them would only change views to primaries in the same state.
        """
        ...

    def take_batch(self, max_txs: int, max_bytes: int) -> list[Tx]:
        """Up to ``max_txs`` txs of at most ``max_bytes`` encoded bytes in all, for a proposal.

        The txs stay in the mempool until a block holding them is executed.
        """
        ...

    def check_block(self, block: Block) -> None:
        """Raise core.errors.ValidationError if the block's txs are invalid (signature, nonce, ...)."""
        ...

    def state_root(self) -> bytes:
        """The state root after the last executed block; a proposal's header must carry it."""
        ...
