"""Bodies for after-sales txs whose texts stay off chain: only their hashes are signed.

The reason, the ruling and the tracking reference are UTF-8 texts the wallet
uploads to the nodes' content store (wallet/content.py); the chain keeps their
sha256, like a dispute's statement (wallet/builders.py).
"""

from __future__ import annotations

from typing import Any

from wallet import kinds
from wallet.builders import text_hash


def return_request(order: int, reason: str) -> dict[str, Any]:
    """Ask to return a completed ``order``; ``reason`` is what the seller (and the arbiter) read."""
    return kinds.return_request(order=order, reason_hash=text_hash(reason))


def return_resolve(order: int, accept: bool, ruling: str | None = None) -> dict[str, Any]:
    """The arbiter's ruling on a refused return: ``accept`` lets it go ahead."""
    return kinds.return_resolve(order=order, accept=accept, ruling_hash=text_hash(ruling) if ruling else None)


def return_ship(order: int, tracking: str) -> dict[str, Any]:
    """The buyer ships the goods back; only the tracking reference's hash goes on chain."""
    return kinds.return_ship(order=order, tracking_hash=text_hash(tracking))
