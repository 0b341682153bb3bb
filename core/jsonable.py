"""The JSON shapes of chain values, shared by the node's RPC and the wallet.

Conventions (docs/RPC.md, "Encoding"): bytes are plain lowercase hex with no
``0x`` prefix; accounts, where a method names one, are ``mn1...`` addresses;
integers are JSON integers (amounts can exceed 2**53: JavaScript clients need a
big-integer-aware parser); there are no floats. ``to_json`` is the generic,
lossy direction (bytes → hex); the ``*_from_json`` functions are the exact
inverses of the ``*_to_json`` ones for the chain types a wallet must verify.
This module never imports node/ or wallet/: both sides import it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from marketnode.core.errors import DecodeError, ValidationError
from marketnode.core.hashing import HASH_SIZE
from marketnode.core.keys import PUBKEY_SIZE, address_from_pubkey, pubkey_from_address
from marketnode.core.merkle import MerkleProof, merkle_proof
from marketnode.core.types import Block, Certificate, Header, Tx

_HEX_RE = re.compile(r"^(?:[0-9a-f]{2})*$")

# Header fields that hold bytes; every other header field is an int or a str.
HEADER_BYTES_FIELDS = frozenset(
    {"parent_hash", "proposer", "tx_root", "state_root", "last_cert_hash", "evidence_root"}
)


def to_json(value: Any) -> Any:
    """Return ``value`` with bytes as hex, tuples as lists, ``to_obj`` types expanded.

    For results of RPC methods: canonical values (int, str, bool, None, bytes,
    list, tuple, dict with str keys) and objects with a ``to_obj()``. Floats are
    refused so that none can slip into a response by accident.
    """
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).hex()
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, Mapping):
        return to_json_map(value)
    to_obj = getattr(value, "to_obj", None)
    if callable(to_obj):
        return to_json(to_obj())
    raise TypeError(f"{type(value).__name__} has no JSON form")


def to_json_map(value: Mapping[str, Any]) -> dict[str, Any]:
    """``to_json`` of a map (a chain value's ``to_obj()``): the same rules, typed as the JSON object it is."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise TypeError(f"JSON object keys must be strings, got {type(key).__name__}")
        out[key] = to_json(item)
    return out


def from_hex(text: Any, what: str, size: int | None = None, max_size: int | None = None) -> bytes:
    """Parse lowercase hex into bytes; ``what`` names the field in the error."""
    if not isinstance(text, str):
        raise ValidationError(f"{what}: expected a hex string, got {type(text).__name__}")
    if max_size is not None and len(text) > 2 * max_size:
        raise ValidationError(f"{what}: longer than {max_size} bytes")
    if not _HEX_RE.match(text):
        raise ValidationError(f"{what}: not lowercase hex of whole bytes (no 0x prefix)")
    data = bytes.fromhex(text)
    if size is not None and len(data) != size:
        raise ValidationError(f"{what}: expected {size} bytes ({2 * size} hex chars), got {len(data)}")
    return data


def address_json(public_key: bytes) -> str:
    """An account as it appears in JSON: its ``mn1...`` address."""
    return address_from_pubkey(public_key)


# --- Header ------------------------------------------------------------------


def header_to_json(header: Header) -> dict[str, Any]:
    return to_json_map(header.to_obj())


def header_from_json(obj: Any) -> Header:
    """Exact inverse of ``header_to_json``; raises ValidationError/DecodeError."""
    if not isinstance(obj, dict):
        raise ValidationError("header: expected a JSON object")
    converted = {
        key: from_hex(value, f"header.{key}") if key in HEADER_BYTES_FIELDS else value
        for key, value in obj.items()
    }
    return Header.from_obj(converted)


# --- Certificate ---------------------------------------------------------------


def certificate_to_json(cert: Certificate) -> dict[str, Any]:
    """``signatures`` is a list of ``[validator_hex, signature_hex]``, sorted by validator."""
    return to_json_map(cert.to_obj())


def certificate_from_json(obj: Any) -> Certificate:
    if not isinstance(obj, dict):
        raise ValidationError("certificate: expected a JSON object")
    converted = dict(obj)
    if "block_hash" in converted:
        converted["block_hash"] = from_hex(converted["block_hash"], "certificate.block_hash", HASH_SIZE)
    signatures = converted.get("signatures")
    if isinstance(signatures, list):
        pairs = []
        for i, entry in enumerate(signatures):
            if not isinstance(entry, list) or len(entry) != 2:
                raise ValidationError(f"certificate.signatures[{i}]: expected [validator, signature]")
            pairs.append([from_hex(entry[0], f"certificate.signatures[{i}][0]"),
                          from_hex(entry[1], f"certificate.signatures[{i}][1]")])
        converted["signatures"] = pairs
    return Certificate.from_obj(converted)


# --- Merkle proof --------------------------------------------------------------


def proof_to_json(proof: MerkleProof) -> dict[str, Any]:
    """``{"index": int, "size": int, "path": [hash_hex, ...]}``."""
    return to_json_map(proof.to_obj())


def proof_from_json(obj: Any) -> MerkleProof:
    if not isinstance(obj, dict) or set(obj) != {"index", "size", "path"}:
        raise ValidationError("proof: expected an object with exactly index, size, path")
    index, size, path = obj["index"], obj["size"], obj["path"]
    for name, number in (("index", index), ("size", size)):
        if isinstance(number, bool) or not isinstance(number, int) or number < 0:
            raise ValidationError(f"proof.{name}: expected a non-negative integer")
    if not isinstance(path, list):
        raise ValidationError("proof.path: expected a list of hashes")
    hashes = tuple(from_hex(item, f"proof.path[{i}]", HASH_SIZE) for i, item in enumerate(path))
    return MerkleProof(index, size, hashes)


# --- Tx ----------------------------------------------------------------------------


def tx_to_json(tx: Tx) -> dict[str, Any]:
    """A tx for reading: decoded fields plus ``raw`` (the canonical bytes) and ``hash``.

    The body's bytes turn into hex, so the decoded fields are for display;
    ``raw`` is the exact form, and the only one ``tx_from_json`` reads.
    """
    return {
        "hash": tx.hash.hex(),
        "chain_id": tx.chain_id,
        "sender": address_json(tx.sender),
        "nonce": tx.nonce,
        "kind": tx.kind,
        "body": to_json(tx.body),
        "fee": tx.fee,
        "sig": tx.sig.hex(),
        "sigs": [[key.hex(), sig.hex()] for key, sig in tx.signatures()],
        "raw": tx.encode().hex(),
    }


def tx_from_json(obj: Any) -> Tx:
    """Decode a tx from ``{"raw": hex}`` (any other fields are ignored) or from a bare hex string."""
    raw = obj.get("raw") if isinstance(obj, dict) else obj
    return Tx.decode(from_hex(raw, "tx.raw"))


# --- Block ----------------------------------------------------------------------------


def block_to_json(block: Block, certificate: Certificate | None = None) -> dict[str, Any]:
    """A block for reading: its hash, header, txs (``tx_to_json``), the parent's
    certificate (``last_cert``), evidence, and this block's own ``certificate``
    when known (None until the next block or the commit is stored)."""
    return {
        "hash": block.hash.hex(),
        "header": header_to_json(block.header),
        "txs": [tx_to_json(tx) for tx in block.txs],
        "last_cert": certificate_to_json(block.last_cert) if block.last_cert else None,
        "evidence": [to_json(e.to_obj()) for e in block.evidence],
        "certificate": certificate_to_json(certificate) if certificate else None,
    }


# --- Inclusion proof (tx_get) --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Inclusion:
    """What a wallet needs to check, alone, that a tx is in a final block."""

    tx_hash: bytes
    proof: MerkleProof
    header: Header
    certificate: Certificate

    def to_json(self) -> dict[str, Any]:
        return {
            "tx_hash": self.tx_hash.hex(),
            "proof": proof_to_json(self.proof),
            "header": header_to_json(self.header),
            "certificate": certificate_to_json(self.certificate),
        }

    @classmethod
    def build(cls, block: Block, tx_index: int, certificate: Certificate) -> Inclusion:
        """The inclusion of ``block.txs[tx_index]``; ``certificate`` is this block's own commit certificate."""
        hashes = [tx.hash for tx in block.txs]
        return cls(hashes[tx_index], merkle_proof(hashes, tx_index), block.header, certificate)

    @classmethod
    def from_json(cls, obj: Any) -> Inclusion:
        if not isinstance(obj, dict):
            raise ValidationError("inclusion: expected a JSON object")
        missing = sorted({"tx_hash", "proof", "header", "certificate"} - set(obj))
        if missing:
            raise ValidationError(f"inclusion: missing fields {missing}")
        try:
            return cls(
                tx_hash=from_hex(obj["tx_hash"], "inclusion.tx_hash", HASH_SIZE),
                proof=proof_from_json(obj["proof"]),
                header=header_from_json(obj["header"]),
                certificate=certificate_from_json(obj["certificate"]),
            )
        except DecodeError as exc:
            raise ValidationError(str(exc)) from None


def validators_from_json(items: Sequence[Any]) -> list[bytes]:
    """Validator keys given as hex public keys or ``mn1`` addresses."""
    keys = []
    for i, item in enumerate(items):
        if isinstance(item, bytes) and len(item) == PUBKEY_SIZE:
            keys.append(item)
        elif isinstance(item, str) and item.startswith("mn1"):
            keys.append(pubkey_from_address(item))
        else:
            keys.append(from_hex(item, f"validators[{i}]", PUBKEY_SIZE))
    return keys
