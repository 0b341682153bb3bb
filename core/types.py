"""The chain's data types: Tx, Header, Block, Vote, Certificate, Evidence (the public façade).

Each is a frozen dataclass with ``to_obj``/``from_obj`` (the canonical map),
``encode``/``decode`` (its bytes) and ``hash``; signed ones have
``sign``/``verify``. Byte layouts and test vectors: docs/PROTOCOL.md.

They live one job per module: ``tx`` (Tx), ``votes`` (Vote, Evidence, the
quorum arithmetic), ``certificates`` (Certificate and its checker) and
``block`` (Header, Block). This module re-exports them so that callers keep
one import path; ``__all__`` names every re-export (mypy's
no_implicit_reexport).
"""

from __future__ import annotations

from marketnode.core.block import MAX_BLOCK_BYTES, MAX_BLOCK_SIGS, MAX_BLOCK_TXS, ZERO_HASH, Block, Header
from marketnode.core.certificates import Certificate
from marketnode.core.fields import signature_pairs
from marketnode.core.tx import MAX_KIND_LEN, MAX_TX_BYTES, MAX_TX_SIGS, Tx, tx_hash_of
from marketnode.core.votes import (
    COMMIT,
    MAX_EVIDENCE,
    PHASES,
    PREPARE,
    PROPOSE,
    Evidence,
    Vote,
    max_faulty,
    quorum_size,
    vote_signing_bytes,
)

__all__ = [
    "COMMIT", "MAX_BLOCK_BYTES", "MAX_BLOCK_SIGS", "MAX_BLOCK_TXS", "MAX_EVIDENCE", "MAX_KIND_LEN", "MAX_TX_BYTES",
    "MAX_TX_SIGS", "PHASES", "PREPARE", "PROPOSE", "ZERO_HASH", "Block", "Certificate", "Evidence", "Header", "Tx",
    "Vote", "max_faulty", "quorum_size", "signature_pairs", "tx_hash_of", "vote_signing_bytes",
]
