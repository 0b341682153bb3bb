"""Votes, the quorum arithmetic, and evidence of a validator signing two blocks in one slot.

A ``Vote`` is a validator's signature on (phase, height, view, block_hash);
``Evidence`` is two of them that conflict. Commit certificates (a quorum of
COMMIT votes) live in core/certificates.py. Re-exported by core/types.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from marketnode.core import fields as f
from marketnode.core.encoding import decode as decode_value
from marketnode.core.encoding import encode as encode_value
from marketnode.core.errors import ConsensusError, DecodeError, SignatureError, ValidationError
from marketnode.core.hashing import HASH_SIZE, digest, signing_message
from marketnode.core.keys import PUBKEY_SIZE, SIGNATURE_SIZE, PrivateKey
from marketnode.core.sigcache import SignatureCache, verify_signature

MAX_EVIDENCE = 64

# Vote phases. PROPOSE is the primary's signature over its proposed block.
PROPOSE, PREPARE, COMMIT = 0, 1, 2
PHASES = (PROPOSE, PREPARE, COMMIT)


def max_faulty(n: int) -> int:
    """f: how many of ``n`` validators may be Byzantine."""
    return (n - 1) // 3


def quorum_size(n: int) -> int:
    """Smallest vote count any two of which share an honest validator (2f+1 for n=3f+1)."""
    return (n + max_faulty(n)) // 2 + 1


@dataclass(frozen=True, slots=True)
class Vote:
    """A validator's signature on (phase, height, view, block_hash)."""

    chain_id: str
    phase: int
    height: int
    view: int
    block_hash: bytes
    validator: bytes
    sig: bytes = b""

    FIELDS: ClassVar[tuple[str, ...]] = ("block_hash", "chain_id", "height", "phase", "sig", "validator", "view")

    def unsigned_obj(self) -> dict[str, Any]:
        return {
            "block_hash": self.block_hash, "chain_id": self.chain_id, "height": self.height,
            "phase": self.phase, "validator": self.validator, "view": self.view,
        }

    def to_obj(self) -> dict[str, Any]:
        obj = self.unsigned_obj()
        obj["sig"] = self.sig
        return obj

    def signing_bytes(self) -> bytes:
        return vote_signing_bytes(self.chain_id, self.phase, self.height, self.view, self.block_hash, self.validator)

    def sign(self, key: PrivateKey) -> Vote:
        if key.public_key != self.validator:
            raise ValidationError("the signing key does not match the vote's validator")
        return replace(self, sig=key.sign(self.signing_bytes()))

    def verify(self, cache: SignatureCache | None = None) -> bool:
        """Whether the signature is the validator's over ``signing_bytes`` (verified once per ``cache``)."""
        return verify_signature(self.validator, self.signing_bytes(), self.sig, cache)

    def encode(self) -> bytes:
        return encode_value(self.to_obj())

    @property
    def hash(self) -> bytes:
        return digest("evidence", self.encode())

    @classmethod
    def from_obj(cls, obj: Any) -> Vote:
        what = "vote"
        obj = f.expect_map(obj, what, cls.FIELDS)
        phase = f.u64(obj, "phase", what)
        if phase not in PHASES:
            raise DecodeError(f"vote.phase: {phase} is not one of {PHASES}")
        return cls(
            chain_id=f.chain_id(obj, what),
            phase=phase,
            height=f.u64(obj, "height", what),
            view=f.u64(obj, "view", what),
            block_hash=f.raw(obj, "block_hash", what, HASH_SIZE),
            validator=f.raw(obj, "validator", what, PUBKEY_SIZE),
            sig=f.raw(obj, "sig", what, SIGNATURE_SIZE),
        )

    @classmethod
    def decode(cls, data: bytes) -> Vote:
        return cls.from_obj(decode_value(data, 1024))


def vote_signing_bytes(chain_id: str, phase: int, height: int, view: int, block_hash: bytes, validator: bytes) -> bytes:
    body = encode_value(
        {"block_hash": block_hash, "chain_id": chain_id, "height": height,
         "phase": phase, "validator": validator, "view": view}
    )
    return signing_message("vote", chain_id, body)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Two votes by one validator for different blocks at one (height, view, phase)."""

    first: Vote
    second: Vote

    def check(self, chain_id: str, cache: SignatureCache | None = None) -> None:
        """Raise ConsensusError unless this proves equivocation."""
        a, b = self.first, self.second
        if (a.chain_id, a.validator, a.phase, a.height, a.view) != (b.chain_id, b.validator, b.phase, b.height, b.view):
            raise ConsensusError("evidence votes differ in chain, validator, phase, height or view")
        if a.chain_id != chain_id:
            raise ConsensusError("evidence is for another chain")
        if a.block_hash == b.block_hash:
            raise ConsensusError("evidence votes are for the same block")
        if not (a.verify(cache) and b.verify(cache)):
            raise SignatureError("evidence vote signature is invalid")

    def to_obj(self) -> dict[str, Any]:
        a, b = sorted((self.first, self.second), key=lambda v: v.block_hash)
        return {"first": a.to_obj(), "second": b.to_obj()}

    def encode(self) -> bytes:
        return encode_value(self.to_obj())

    @property
    def hash(self) -> bytes:
        return digest("evidence", self.encode())

    @classmethod
    def from_obj(cls, obj: Any) -> Evidence:
        obj = f.expect_map(obj, "evidence", ("first", "second"))
        first, second = Vote.from_obj(obj["first"]), Vote.from_obj(obj["second"])
        if first.block_hash >= second.block_hash:
            raise DecodeError("evidence: votes must be ordered by block hash")
        return cls(first, second)

    @classmethod
    def decode(cls, data: bytes) -> Evidence:
        return cls.from_obj(decode_value(data, 4096))
