"""Check, without trusting the node, that a tx is in a final block.

A ``tx_get`` answer carries an inclusion (core/jsonable.Inclusion): the tx's
Merkle path to the header's ``tx_root``, the header, and the block's commit
certificate. Given the validator set, the wallet checks the path, that the
certificate is for this very header, and that a quorum of validators signed it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from marketnode.core.errors import ConsensusError, DecodeError, ValidationError
from marketnode.core.jsonable import Inclusion, validators_from_json
from marketnode.core.merkle import verify_proof
from marketnode.core.types import Tx


class InclusionProofError(ValidationError):
    """The inclusion proof does not prove what it claims; the message says which part fails."""


def tx_hash_of(raw_tx: bytes) -> bytes:
    """The hash a block commits to for the canonical tx bytes ``raw_tx``."""
    return Tx.decode(raw_tx).hash


def verify_inclusion(
    inclusion: Inclusion | dict[str, Any],
    *,
    tx_hash: bytes,
    validators: Sequence[bytes | str],
    chain_id: str,
) -> Inclusion:
    """Return the checked inclusion (``.header.height`` is the tx's block) or raise InclusionProofError.

    ``inclusion`` is the object from ``tx_get`` (JSON) or already decoded;
    ``validators`` are the validator keys at that height (bytes, hex or mn1).
    """
    try:
        proof = inclusion if isinstance(inclusion, Inclusion) else Inclusion.from_json(inclusion)
        keys = validators_from_json(validators)
    except (ValidationError, DecodeError) as exc:
        raise InclusionProofError(f"malformed inclusion proof: {exc}") from None
    header, cert = proof.header, proof.certificate
    if proof.tx_hash != tx_hash:
        raise InclusionProofError("the proof is for another tx")
    if header.chain_id != chain_id:
        raise InclusionProofError(f"the block is on chain {header.chain_id!r}, not {chain_id!r}")
    if proof.proof.size != header.tx_count:
        raise InclusionProofError(f"the proof counts {proof.proof.size} txs, the header {header.tx_count}")
    if not verify_proof(header.tx_root, tx_hash, proof.proof):
        raise InclusionProofError("the Merkle path does not lead to the header's tx_root")
    if cert.block_hash != header.hash or cert.height != header.height:
        raise InclusionProofError("the certificate is for another block")
    try:
        cert.verify(keys, chain_id)
    except (ConsensusError, ValidationError) as exc:
        raise InclusionProofError(f"the certificate does not prove finality: {exc}") from None
    return proof
