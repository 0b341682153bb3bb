"""Commit certificates: 2f+1 COMMIT signatures on one block, the proof that it is final.

Re-exported by core/types.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from marketnode.core import fields as f
from marketnode.core.encoding import decode as decode_value
from marketnode.core.encoding import encode as encode_value
from marketnode.core.errors import ConsensusError, SignatureError
from marketnode.core.hashing import HASH_SIZE, digest
from marketnode.core.keys import verify
from marketnode.core.votes import COMMIT, Vote, quorum_size, vote_signing_bytes


@dataclass(frozen=True, slots=True)
class Certificate:
    """2f+1 COMMIT signatures on one block: proof that the block is final.

    ``signatures`` is sorted by validator key, one entry per validator.
    """

    chain_id: str
    height: int
    view: int
    block_hash: bytes
    signatures: tuple[tuple[bytes, bytes], ...]

    FIELDS: ClassVar[tuple[str, ...]] = ("block_hash", "chain_id", "height", "signatures", "view")

    @classmethod
    def from_votes(cls, votes: Iterable[Vote]) -> Certificate:
        votes = list(votes)
        if not votes:
            raise ConsensusError("a certificate needs votes")
        first = votes[0]
        by_validator: dict[bytes, bytes] = {}
        for vote in votes:
            key = (vote.chain_id, vote.phase, vote.height, vote.view, vote.block_hash)
            if key != (first.chain_id, COMMIT, first.height, first.view, first.block_hash):
                raise ConsensusError("certificate votes must be COMMITs on one block, height and view")
            by_validator[vote.validator] = vote.sig
        return cls(first.chain_id, first.height, first.view, first.block_hash, tuple(sorted(by_validator.items())))

    def to_obj(self) -> dict[str, Any]:
        return {
            "block_hash": self.block_hash, "chain_id": self.chain_id, "height": self.height,
            "signatures": [[v, s] for v, s in self.signatures], "view": self.view,
        }

    def encode(self) -> bytes:
        return encode_value(self.to_obj())

    @property
    def hash(self) -> bytes:
        return digest("certificate", self.encode())

    def signers(self) -> list[bytes]:
        return [v for v, _ in self.signatures]

    def verify(self, validators: Sequence[bytes], chain_id: str) -> None:
        """Raise ConsensusError unless a quorum of ``validators`` signed this block."""
        if self.chain_id != chain_id:
            raise ConsensusError(f"certificate is for chain {self.chain_id!r}, not {chain_id!r}")
        members = set(validators)
        if not members:
            raise ConsensusError("cannot verify a certificate against an empty validator set")
        need = quorum_size(len(members))
        seen: set[bytes] = set()
        for validator, sig in self.signatures:
            if validator not in members:
                raise ConsensusError("certificate signed by a non-validator")
            if validator in seen:
                raise ConsensusError("certificate lists a validator twice")
            seen.add(validator)
            message = vote_signing_bytes(chain_id, COMMIT, self.height, self.view, self.block_hash, validator)
            if not verify(validator, message, sig):
                raise SignatureError(f"certificate signature of validator {validator.hex()[:16]} is invalid")
        if len(seen) < need:
            raise ConsensusError(f"certificate has {len(seen)} signatures, needs {need}")

    @classmethod
    def from_obj(cls, obj: Any) -> Certificate:
        what = "certificate"
        obj = f.expect_map(obj, what, cls.FIELDS)
        pairs = f.signature_pairs(f.seq(obj, "signatures", what, 1024), "certificate.signatures", "validator")
        return cls(
            chain_id=f.chain_id(obj, what),
            height=f.u64(obj, "height", what),
            view=f.u64(obj, "view", what),
            block_hash=f.raw(obj, "block_hash", what, HASH_SIZE),
            signatures=pairs,
        )

    @classmethod
    def decode(cls, data: bytes) -> Certificate:
        return cls.from_obj(decode_value(data, 256 * 1024))
