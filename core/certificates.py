"""Commit certificates: 2f+1 COMMIT signatures on one block, the proof that it is final, and their one checker.

``CertificateChecker`` is the only code that decides whether a certificate
holds: ``Certificate.verify`` (sync, snapshots, wallets' proofs) and the
consensus replica both call it. Given a SignatureCache it verifies each
signature once, so a certificate made of COMMITs a replica already checked
as votes costs no ed25519 work. Re-exported by core/types.py.
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
from marketnode.core.sigcache import SignatureCache, verify_signature
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

    def verify(self, validators: Sequence[bytes], chain_id: str, cache: SignatureCache | None = None) -> None:
        """Raise ConsensusError (SignatureError for a bad signature) unless a quorum of ``validators`` signed this block.

        A shorthand for ``CertificateChecker(validators, chain_id, cache).check(self)``.
        """
        CertificateChecker(validators, chain_id, cache).check(self)

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


class CertificateChecker:
    """Checks commit certificates against one validator set on one chain, cheapest rule first.

    Chain, then distinct validators of the set, then the count, and only then
    the signatures (through ``cache`` when given): a certificate that fails
    on its face costs no signature check.
    """

    __slots__ = ("cache", "chain_id", "members", "quorum")

    def __init__(self, validators: Iterable[bytes], chain_id: str, cache: SignatureCache | None = None) -> None:
        self.members = frozenset(validators)
        self.chain_id = chain_id
        self.quorum = quorum_size(len(self.members))
        self.cache = cache

    def check(self, cert: Certificate, quorum: int | None = None) -> None:
        """Raise unless ``cert`` carries valid COMMITs of at least ``quorum`` (default 2f+1 of the set) validators.

        ``quorum`` lets a caller with its own count (the consensus replica,
        whose quorum tests may change) apply the one it votes with.
        """
        if cert.chain_id != self.chain_id:
            raise ConsensusError(f"certificate is for chain {cert.chain_id!r}, not {self.chain_id!r}")
        if not self.members:
            raise ConsensusError("cannot verify a certificate against an empty validator set")
        seen: set[bytes] = set()
        for validator, _ in cert.signatures:
            if validator not in self.members:
                raise ConsensusError("certificate signed by a non-validator")
            if validator in seen:
                raise ConsensusError("certificate lists a validator twice")
            seen.add(validator)
        need = self.quorum if quorum is None else quorum
        if len(seen) < need:
            raise ConsensusError(f"certificate has {len(seen)} signatures, needs {need}")
        for validator, sig in cert.signatures:
            message = vote_signing_bytes(cert.chain_id, COMMIT, cert.height, cert.view, cert.block_hash, validator)
            if not verify_signature(validator, message, sig, self.cache):
                raise SignatureError(f"certificate signature of validator {validator.hex()[:16]} is invalid")
