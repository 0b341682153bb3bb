"""The chain's data types: Tx, Header, Block, Vote, Certificate, Evidence.

Each is a frozen dataclass with ``to_obj``/``from_obj`` (the canonical map),
``encode``/``decode`` (its bytes) and ``hash``; signed ones have
``sign``/``verify``. Byte layouts and test vectors: docs/PROTOCOL.md.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from marketnode.core import fields as f
from marketnode.core.encoding import decode as decode_value
from marketnode.core.encoding import encode as encode_value
from marketnode.core.errors import ConsensusError, DecodeError, SignatureError, ValidationError
from marketnode.core.hashing import HASH_SIZE, digest, signing_message
from marketnode.core.keys import CHAIN_ID_RE, PUBKEY_SIZE, SIGNATURE_SIZE, PrivateKey, verify
from marketnode.core.merkle import merkle_root

MAX_TX_BYTES = 64 * 1024
MAX_BLOCK_BYTES = 16 * 1024 * 1024
MAX_BLOCK_TXS = 20_000
# Signatures one block may carry in all: multi-signature txs must not multiply a block's verification work
# (a block of 16-signature txs would otherwise cost every replica 8x the ed25519 checks of a full block).
MAX_BLOCK_SIGS = MAX_BLOCK_TXS
MAX_EVIDENCE = 64
MAX_KIND_LEN = 32
ZERO_HASH = bytes(HASH_SIZE)

# Vote phases. PROPOSE is the primary's signature over its proposed block.
PROPOSE, PREPARE, COMMIT = 0, 1, 2
PHASES = (PROPOSE, PREPARE, COMMIT)


def max_faulty(n: int) -> int:
    """f: how many of ``n`` validators may be Byzantine."""
    return (n - 1) // 3


def quorum_size(n: int) -> int:
    """Smallest vote count any two of which share an honest validator (2f+1 for n=3f+1)."""
    return (n + max_faulty(n)) // 2 + 1


def _chain_id(obj: dict[str, Any], what: str) -> str:
    value = f.text(obj, "chain_id", what, 64)
    if not CHAIN_ID_RE.match(value):
        raise DecodeError(f"{what}.chain_id: {value!r} is not a valid chain id")
    return value


MAX_TX_SIGS = 16  # signatures one tx may carry: bounds its verification cost (params.max_tx_signers may lower it)


@dataclass(frozen=True, slots=True)
class Tx:
    """A signed transaction: ``kind`` names the market rule, ``body`` its arguments.

    ``sender`` is the account's address. A tx signed only by the key the
    address was made from carries ``sig`` (the original form); any other
    signing — a rotated key, several keys of a multi-key account — carries
    ``sigs``, a list of [public key, signature] sorted by key, and no ``sig``.
    Every signature covers the same ``signing_bytes``. Whether the signing
    keys may act for the sender is the market's question (market/authority.py),
    answered from state; ``verify`` only checks the signatures themselves.
    """

    chain_id: str
    sender: bytes
    nonce: int
    kind: str
    body: dict[str, Any]
    fee: int
    sig: bytes = b""
    sigs: tuple[tuple[bytes, bytes], ...] = ()
    _cache: dict[str, bytes] = field(default_factory=dict, init=False, repr=False, compare=False)

    FIELDS: ClassVar[tuple[str, ...]] = ("body", "chain_id", "fee", "kind", "nonce", "sender", "sig")
    MULTI_FIELDS: ClassVar[tuple[str, ...]] = ("body", "chain_id", "fee", "kind", "nonce", "sender", "sigs")

    def unsigned_obj(self) -> dict[str, Any]:
        return {
            "body": self.body, "chain_id": self.chain_id, "fee": self.fee,
            "kind": self.kind, "nonce": self.nonce, "sender": self.sender,
        }

    def to_obj(self) -> dict[str, Any]:
        obj = self.unsigned_obj()
        if self.sigs:
            obj["sigs"] = [[key, sig] for key, sig in self.sigs]
        else:
            obj["sig"] = self.sig
        return obj

    def signing_bytes(self) -> bytes:
        return signing_message("tx", self.chain_id, encode_value(self.unsigned_obj()))

    def sign(self, key: PrivateKey) -> Tx:
        """Sign with the sender's own key (the original single-signature form)."""
        if key.public_key != self.sender:
            raise ValidationError("the signing key does not match the tx sender")
        return replace(self, sig=key.sign(self.signing_bytes()), sigs=())

    def cosign(self, key: PrivateKey) -> Tx:
        """Add ``key``'s signature (replacing an earlier one by the same key); the result carries ``sigs``.

        A ``sig`` already present counts as the sender key's entry. The
        result has the one canonical form: a tx whose only signer is the
        sender's own key goes back to ``sig``.
        """
        pairs = dict(self.signatures())
        pairs[key.public_key] = key.sign(self.signing_bytes())
        if len(pairs) > MAX_TX_SIGS:
            raise ValidationError(f"a tx carries at most {MAX_TX_SIGS} signatures")
        if set(pairs) == {self.sender}:
            return replace(self, sig=pairs[self.sender], sigs=())
        return replace(self, sig=b"", sigs=tuple(sorted(pairs.items())))

    def signatures(self) -> tuple[tuple[bytes, bytes], ...]:
        """(public key, signature) pairs, sorted by key: the sender's own for a ``sig`` tx."""
        if self.sigs:
            return self.sigs
        return ((self.sender, self.sig),) if self.sig else ()

    def signers(self) -> tuple[bytes, ...]:
        """The public keys that signed (unverified until ``verify``)."""
        return tuple(key for key, _ in self.signatures())

    def fee_floor(self, min_fee: int) -> int:
        """The least fee this tx may pay where each signature costs ``min_fee``: verification work is paid per key."""
        return min_fee * max(1, len(self.signatures()))

    def verify(self) -> bool:
        """Every carried signature is valid over ``signing_bytes`` (at least one, at most MAX_TX_SIGS)."""
        pairs = self.signatures()
        if not pairs or len(pairs) > MAX_TX_SIGS:
            return False
        message = self.signing_bytes()
        return all(verify(key, message, sig) for key, sig in pairs)

    def encode(self) -> bytes:
        cached = self._cache.get("enc")
        if cached is None:
            cached = self._cache["enc"] = encode_value(self.to_obj())
        return cached

    @property
    def hash(self) -> bytes:
        cached = self._cache.get("hash")
        if cached is None:
            cached = self._cache["hash"] = tx_hash_of(self.encode())
        return cached

    @classmethod
    def from_obj(cls, obj: Any) -> Tx:
        what = "tx"
        multi = isinstance(obj, dict) and "sigs" in obj
        obj = f.expect_map(obj, what, cls.MULTI_FIELDS if multi else cls.FIELDS)
        kind = f.text(obj, "kind", what, MAX_KIND_LEN)
        if not kind:
            raise DecodeError("tx.kind: empty")
        sender = f.raw(obj, "sender", what, PUBKEY_SIZE)
        return cls(
            chain_id=_chain_id(obj, what),
            sender=sender,
            nonce=f.u64(obj, "nonce", what),
            kind=kind,
            body=f.mapping(obj, "body", what),
            fee=f.u64(obj, "fee", what),
            sig=b"" if multi else f.raw(obj, "sig", what, SIGNATURE_SIZE),
            sigs=_signature_list(obj, sender) if multi else (),
        )

    @classmethod
    def decode(cls, data: bytes, max_bytes: int = MAX_TX_BYTES) -> Tx:
        tx = cls.from_obj(decode_value(data, max_bytes))
        tx._cache["enc"] = bytes(data)
        return tx


def signature_pairs(entries: list[Any], where: str, signer: str) -> tuple[tuple[bytes, bytes], ...]:
    """[key, signature] entries as pairs: keys 32 bytes, signatures 64, keys strictly ascending (no repeats).

    One rule for a certificate's validator signatures and a tx's ``sigs``.
    """
    pairs: list[tuple[bytes, bytes]] = []
    previous = b""
    for entry in entries:
        if not isinstance(entry, list) or len(entry) != 2:
            raise DecodeError(f"{where}: each entry is [{signer}, signature]")
        key, sig = entry
        if not (isinstance(key, bytes) and len(key) == PUBKEY_SIZE):
            raise DecodeError(f"{where}: {signer} must be 32 bytes")
        if not (isinstance(sig, bytes) and len(sig) == SIGNATURE_SIZE):
            raise DecodeError(f"{where}: signature must be 64 bytes")
        if key <= previous:
            raise DecodeError(f"{where}: must be sorted by {signer}, no repeats")
        previous = key
        pairs.append((key, sig))
    return tuple(pairs)


def _signature_list(obj: dict[str, Any], sender: bytes) -> tuple[tuple[bytes, bytes], ...]:
    """tx.sigs: 1..MAX_TX_SIGS [key, signature] pairs, keys strictly ascending; not the sender's key alone."""
    entries = f.seq(obj, "sigs", "tx", MAX_TX_SIGS)
    if not entries:
        raise DecodeError("tx.sigs: empty (an unsigned tx carries sig)")
    pairs = signature_pairs(entries, "tx.sigs", "public key")
    if len(pairs) == 1 and pairs[0][0] == sender:
        raise DecodeError("tx.sigs: a tx signed by the sender's own key alone carries sig, not sigs")
    return pairs


def tx_hash_of(raw: bytes) -> bytes:
    """The hash of the tx whose encoding is ``raw``, without decoding it.

    The decoder accepts only canonical bytes, so a tx that decodes from
    ``raw`` has exactly this hash; bytes that do not decode have no tx.
    """
    return digest("tx", raw)


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

    def verify(self) -> bool:
        return verify(self.validator, self.signing_bytes(), self.sig)

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
            chain_id=_chain_id(obj, what),
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
        pairs = signature_pairs(f.seq(obj, "signatures", what, 1024), "certificate.signatures", "validator")
        return cls(
            chain_id=_chain_id(obj, what),
            height=f.u64(obj, "height", what),
            view=f.u64(obj, "view", what),
            block_hash=f.raw(obj, "block_hash", what, HASH_SIZE),
            signatures=pairs,
        )

    @classmethod
    def decode(cls, data: bytes) -> Certificate:
        return cls.from_obj(decode_value(data, 256 * 1024))


@dataclass(frozen=True, slots=True)
class Evidence:
    """Two votes by one validator for different blocks at one (height, view, phase)."""

    first: Vote
    second: Vote

    def check(self, chain_id: str) -> None:
        """Raise ConsensusError unless this proves equivocation."""
        a, b = self.first, self.second
        if (a.chain_id, a.validator, a.phase, a.height, a.view) != (b.chain_id, b.validator, b.phase, b.height, b.view):
            raise ConsensusError("evidence votes differ in chain, validator, phase, height or view")
        if a.chain_id != chain_id:
            raise ConsensusError("evidence is for another chain")
        if a.block_hash == b.block_hash:
            raise ConsensusError("evidence votes are for the same block")
        if not (a.verify() and b.verify()):
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


@dataclass(frozen=True, slots=True)
class Header:
    """What a block commits to; its hash is the block's hash.

    ``state_root`` is the state after the *parent* block: execution follows
    commit, so a proposer never has to execute before proposing.
    """

    chain_id: str
    height: int
    view: int
    timestamp_ms: int
    parent_hash: bytes
    proposer: bytes
    tx_root: bytes
    tx_count: int
    state_root: bytes
    last_cert_hash: bytes
    evidence_root: bytes

    FIELDS: ClassVar[tuple[str, ...]] = (
        "chain_id", "evidence_root", "height", "last_cert_hash", "parent_hash", "proposer",
        "state_root", "timestamp_ms", "tx_count", "tx_root", "view",
    )

    def to_obj(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}

    def encode(self) -> bytes:
        return encode_value(self.to_obj())

    @property
    def hash(self) -> bytes:
        return digest("header", self.encode())

    @classmethod
    def from_obj(cls, obj: Any) -> Header:
        what = "header"
        obj = f.expect_map(obj, what, cls.FIELDS)
        return cls(
            chain_id=_chain_id(obj, what),
            height=f.u64(obj, "height", what),
            view=f.u64(obj, "view", what),
            timestamp_ms=f.u64(obj, "timestamp_ms", what),
            parent_hash=f.raw(obj, "parent_hash", what, HASH_SIZE),
            proposer=f.raw(obj, "proposer", what, PUBKEY_SIZE),
            tx_root=f.raw(obj, "tx_root", what, HASH_SIZE),
            tx_count=f.u64(obj, "tx_count", what),
            state_root=f.raw(obj, "state_root", what, HASH_SIZE),
            last_cert_hash=f.raw(obj, "last_cert_hash", what, HASH_SIZE),
            evidence_root=f.raw(obj, "evidence_root", what, HASH_SIZE),
        )

    @classmethod
    def decode(cls, data: bytes) -> Header:
        return cls.from_obj(decode_value(data, 4096))


@dataclass(frozen=True, slots=True)
class Block:
    """A header, its txs, the parent's commit certificate and any evidence."""

    header: Header
    txs: tuple[Tx, ...]
    last_cert: Certificate | None
    evidence: tuple[Evidence, ...] = ()

    @classmethod
    def build(
        cls,
        *,
        chain_id: str,
        height: int,
        view: int,
        timestamp_ms: int,
        parent_hash: bytes,
        proposer: bytes,
        state_root: bytes,
        txs: Sequence[Tx],
        last_cert: Certificate | None,
        evidence: Sequence[Evidence] = (),
    ) -> Block:
        """Assemble a block whose header commits to its contents."""
        header = Header(
            chain_id=chain_id, height=height, view=view, timestamp_ms=timestamp_ms,
            parent_hash=parent_hash, proposer=proposer,
            tx_root=merkle_root([tx.hash for tx in txs]), tx_count=len(txs),
            state_root=state_root,
            last_cert_hash=last_cert.hash if last_cert else ZERO_HASH,
            evidence_root=merkle_root([e.hash for e in evidence]),
        )
        return cls(header, tuple(txs), last_cert, tuple(evidence))

    @property
    def hash(self) -> bytes:
        return self.header.hash

    @property
    def height(self) -> int:
        return self.header.height

    def check_contents(self) -> None:
        """Raise ValidationError unless the header commits to exactly this body."""
        h = self.header
        if h.tx_count != len(self.txs):
            raise ValidationError("header tx_count does not match the txs")
        if h.tx_root != merkle_root([tx.hash for tx in self.txs]):
            raise ValidationError("header tx_root does not match the txs")
        expected_cert = self.last_cert.hash if self.last_cert else ZERO_HASH
        if h.last_cert_hash != expected_cert:
            raise ValidationError("header last_cert_hash does not match the certificate")
        if h.evidence_root != merkle_root([e.hash for e in self.evidence]):
            raise ValidationError("header evidence_root does not match the evidence")
        for tx in self.txs:
            if tx.chain_id != h.chain_id:
                raise ValidationError("block holds a tx for another chain")

    def to_obj(self) -> dict[str, Any]:
        return {
            "evidence": [e.to_obj() for e in self.evidence],
            "header": self.header.to_obj(),
            "last_cert": self.last_cert.to_obj() if self.last_cert else None,
            "txs": [tx.encode() for tx in self.txs],
        }

    def encode(self) -> bytes:
        return encode_value(self.to_obj())

    @classmethod
    def from_obj(cls, obj: Any) -> Block:
        what = "block"
        obj = f.expect_map(obj, what, ("evidence", "header", "last_cert", "txs"))
        txs = []
        signatures = 0
        for raw_tx in f.seq(obj, "txs", what, MAX_BLOCK_TXS):
            if not isinstance(raw_tx, bytes):
                raise DecodeError("block.txs: each tx is its canonical bytes")
            tx = Tx.decode(raw_tx)
            signatures += len(tx.signatures())
            if signatures > MAX_BLOCK_SIGS:
                raise DecodeError(f"block.txs: more than {MAX_BLOCK_SIGS} signatures in all")
            txs.append(tx)
        cert = None if obj["last_cert"] is None else Certificate.from_obj(obj["last_cert"])
        evidence = tuple(Evidence.from_obj(e) for e in f.seq(obj, "evidence", what, MAX_EVIDENCE))
        return cls(Header.from_obj(obj["header"]), tuple(txs), cert, evidence)

    @classmethod
    def decode(cls, data: bytes, max_bytes: int = MAX_BLOCK_BYTES) -> Block:
        return cls.from_obj(decode_value(data, max_bytes))
