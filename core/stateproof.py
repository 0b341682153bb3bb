"""State and receipt proofs as the RPC serves them and a light client checks them (docs/PROTOCOL.md §7.3).

A ``StateProof`` shows what some keys held in the state after block
``height``: the header of block ``height + 1`` carries that state's root
(execution follows commit) and its commit certificate makes the header
final. A ``ReceiptProof`` shows a tx's outcome: its receipt's Merkle path to
the receipts root of its block, which a ``StateProof`` of the key
``receipts_root_key(height)`` proves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marketnode.core import smt
from marketnode.core.errors import DecodeError, ValidationError
from marketnode.core.jsonable import (
    certificate_from_json,
    certificate_to_json,
    from_hex,
    header_from_json,
    header_to_json,
    proof_from_json,
    proof_to_json,
)
from marketnode.core.merkle import MerkleProof
from marketnode.core.types import Certificate, Header

MAX_PROOF_KEYS = 64
MAX_KEY_BYTES = 1024
MAX_VALUE_BYTES = 256 * 1024


def receipts_root_key(height: int) -> bytes:
    """The state key under which block ``height``'s receipts root is kept (market/keys.py uses this)."""
    return b"rcpt/" + height.to_bytes(8, "big")


@dataclass(frozen=True, slots=True)
class KeyProof:
    """One key: the value it held (None: absent) and the tree proof of that."""

    key: bytes
    value: bytes | None
    proof: smt.Proof

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key.hex(), "value": None if self.value is None else self.value.hex(),
                "proof": self.proof.to_json()}

    @classmethod
    def from_json(cls, obj: Any) -> KeyProof:
        if not isinstance(obj, dict) or set(obj) != {"key", "value", "proof"}:
            raise ValidationError("key proof: expected {key, value, proof}")
        value = None if obj["value"] is None else from_hex(obj["value"], "key proof value", max_size=MAX_VALUE_BYTES)
        return cls(from_hex(obj["key"], "key proof key", max_size=MAX_KEY_BYTES), value, smt.Proof.from_json(obj["proof"]))


@dataclass(frozen=True, slots=True)
class StateProof:
    """Keys of the state after block ``height``, anchored by header ``height + 1`` and its certificate."""

    height: int
    header: Header
    certificate: Certificate
    entries: tuple[KeyProof, ...]

    def to_json(self) -> dict[str, Any]:
        return {"height": self.height, "header": header_to_json(self.header),
                "certificate": certificate_to_json(self.certificate),
                "proofs": [e.to_json() for e in self.entries]}

    @classmethod
    def from_json(cls, obj: Any) -> StateProof:
        if not isinstance(obj, dict) or set(obj) != {"height", "header", "certificate", "proofs"}:
            raise ValidationError("state proof: expected {height, header, certificate, proofs}")
        height, proofs = obj["height"], obj["proofs"]
        if isinstance(height, bool) or not isinstance(height, int) or not 0 <= height < 2**64 - 1:
            raise ValidationError("state proof: height is an unsigned integer")
        if not isinstance(proofs, list) or len(proofs) > MAX_PROOF_KEYS:
            raise ValidationError(f"state proof: proofs is a list of at most {MAX_PROOF_KEYS}")
        try:
            return cls(height, header_from_json(obj["header"]), certificate_from_json(obj["certificate"]),
                       tuple(KeyProof.from_json(p) for p in proofs))
        except DecodeError as exc:
            raise ValidationError(f"state proof: {exc}") from None

    def check_against_header(self) -> None:
        """Raise ValidationError unless the header is the one that commits this state and every key proof holds.

        The certificate is not checked here: that needs the validator set
        (wallet/light.py does both).
        """
        if self.header.height != self.height + 1:
            raise ValidationError(f"the anchor header is block {self.header.height}; the state after block "
                                  f"{self.height} is committed by block {self.height + 1}")
        for entry in self.entries:
            if not smt.verify_proof(self.header.state_root, entry.key, entry.value, entry.proof):
                raise ValidationError(f"the proof of key {entry.key.hex()} does not lead to the header's state_root")

    def value_of(self, key: bytes) -> bytes | None:
        for entry in self.entries:
            if entry.key == key:
                return entry.value
        raise ValidationError(f"the state proof does not cover key {key.hex()}")


@dataclass(frozen=True, slots=True)
class ReceiptProof:
    """A receipt's canonical bytes, its path among its block's receipts, and the state proof of their root."""

    receipt: bytes
    path: MerkleProof
    state: StateProof

    def to_json(self) -> dict[str, Any]:
        return {"receipt": self.receipt.hex(), "path": proof_to_json(self.path), "state": self.state.to_json()}

    @classmethod
    def from_json(cls, obj: Any) -> ReceiptProof:
        if not isinstance(obj, dict) or set(obj) != {"receipt", "path", "state"}:
            raise ValidationError("receipt proof: expected {receipt, path, state}")
        return cls(from_hex(obj["receipt"], "receipt", max_size=MAX_VALUE_BYTES), proof_from_json(obj["path"]),
                   StateProof.from_json(obj["state"]))

