"""The chain's rules as this node applies them to a tx at its head: one path for every way a tx comes in.

A wallet's ``tx_send``, a peer's gossip and the faucet admit through the
mempool (node/mempool/pool.py: this node's policy, then ``check_at_head`` as its
``check``); ``tx_estimate`` dry-runs through ``dry_run``, which applies the
same ``check_at_head`` before executing the tx on a throwaway overlay. The
rules themselves are market's (market/engine.py ``check_tx``): nothing here
re-checks a chain id, a nonce or a fee.
"""

from __future__ import annotations

from dataclasses import dataclass

from marketnode.core.errors import RuleError
from marketnode.core.types import Tx
from marketnode.market.context import BlockContext
from marketnode.market.engine import apply_tx, check_tx, load_params
from marketnode.market.receipts import Receipt
from marketnode.market.state import StateOverlay
from marketnode.node.boundary import ChainView


def check_at_head(store: ChainView, tx: Tx, next_nonce: int | None = None, allowance: bool = True) -> None:
    """Raise RuleError unless ``tx`` passes the chain's rules on the committed head's state.

    ``next_nonce``: the sender's next nonce when the caller has read it (the
    mempool has), so an admission reads it once. ``allowance``: also check a
    fee paid by fewer keys than the threshold against the one-key allowance
    at the head's block time (a dry run leaves that to ``apply_tx`` at the
    next block's time).
    """
    reader = store.state_reader()
    head = store.head() if allowance else None
    check_tx(reader, tx, load_params(reader), None if head is None else head.timestamp_ms, next_nonce)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a tx would not even be admitted: ``signature``, or a chain rule's code (docs/MARKET.md)."""

    code: str
    message: str


def dry_run(store: ChainView, tx: Tx, chain_id: str, proposer: bytes, now_ms: int) -> Receipt | Refusal:
    """What ``tx`` would do if the next block carried it, changing nothing.

    Refused at admission (bad signature, a chain rule): a ``Refusal``, no fee.
    Otherwise the receipt of executing it on an overlay over the head, in a
    block proposed by ``proposer`` at ``now_ms`` (or just after the head).
    """
    if not tx.verify():
        return Refusal("signature", "the signature does not verify")
    try:
        check_at_head(store, tx, allowance=False)
    except RuleError as exc:
        return Refusal(exc.code, exc.message)
    head = store.head()
    assert head is not None, "the genesis is stored before the node serves"
    ctx = BlockContext(chain_id=chain_id, height=head.height + 1, timestamp_ms=max(head.timestamp_ms + 1, now_ms),
                       proposer=proposer)
    return apply_tx(StateOverlay(store.state_reader()), ctx, tx)
