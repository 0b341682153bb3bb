"""Blocks and their headers: what a block commits to, and the check that its body is that.

Re-exported by core/types.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from marketnode.core import fields as f
from marketnode.core.certificates import Certificate
from marketnode.core.encoding import decode as decode_value
from marketnode.core.encoding import encode as encode_value
from marketnode.core.errors import DecodeError, ValidationError
from marketnode.core.hashing import HASH_SIZE, digest
from marketnode.core.keys import PUBKEY_SIZE
from marketnode.core.merkle import merkle_root
from marketnode.core.tx import Tx
from marketnode.core.votes import MAX_EVIDENCE, Evidence

MAX_BLOCK_BYTES = 16 * 1024 * 1024
MAX_BLOCK_TXS = 20_000
# Signatures one block may carry in all: multi-signature txs must not multiply a block's verification work
# (a block of 16-signature txs would otherwise cost every replica 8x the ed25519 checks of a full block).
MAX_BLOCK_SIGS = MAX_BLOCK_TXS
ZERO_HASH = bytes(HASH_SIZE)


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
            chain_id=f.chain_id(obj, what),
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
