"""Building signed txs. Per-kind builders follow once market/ publishes its tx schema;
until then ``build_tx`` signs any kind and body."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.keys import PrivateKey, check_chain_id
from core.types import Tx


def build_tx(key: PrivateKey, chain_id: str, nonce: int, kind: str, body: Mapping[str, Any], fee: int) -> Tx:
    """A tx from ``key``'s account, signed; ``tx.encode().hex()`` is what tx_send takes."""
    tx = Tx(chain_id=check_chain_id(chain_id), sender=key.public_key, nonce=nonce, kind=kind, body=dict(body),
            fee=fee)
    signed = tx.sign(key)
    Tx.decode(signed.encode())  # refuse now, not at the node, a body that has no canonical form
    return signed
