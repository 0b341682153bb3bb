"""Field checks shared by every struct decoder: exact key sets and typed values.

A struct on the wire is a canonical map; decoding one checks that it has
exactly the expected keys and that each value has the expected type and
bounds, raising DecodeError with the field's name otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from marketnode.core.encoding import INT_MAX
from marketnode.core.errors import DecodeError
from marketnode.core.keys import CHAIN_ID_RE, PUBKEY_SIZE, SIGNATURE_SIZE

U64_MAX = INT_MAX


def expect_map(obj: Any, what: str, keys: Iterable[str]) -> dict[str, Any]:
    """Check ``obj`` is a map with exactly ``keys``; name missing/unknown ones."""
    if not isinstance(obj, dict):
        raise DecodeError(f"{what}: expected a map, got {type(obj).__name__}")
    wanted = set(keys)
    have = set(obj)
    if have != wanted:
        missing = sorted(wanted - have)
        unknown = sorted(have - wanted)
        parts = []
        if missing:
            parts.append(f"missing fields {missing}")
        if unknown:
            parts.append(f"unknown fields {unknown}")
        raise DecodeError(f"{what}: " + "; ".join(parts))
    return obj


def u64(obj: dict[str, Any], key: str, what: str) -> int:
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= U64_MAX:
        raise DecodeError(f"{what}.{key}: expected an unsigned 64-bit integer")
    return value


def raw(obj: dict[str, Any], key: str, what: str, size: int | None = None, max_size: int | None = None) -> bytes:
    value = obj[key]
    if not isinstance(value, bytes):
        raise DecodeError(f"{what}.{key}: expected bytes, got {type(value).__name__}")
    if size is not None and len(value) != size:
        raise DecodeError(f"{what}.{key}: expected {size} bytes, got {len(value)}")
    if max_size is not None and len(value) > max_size:
        raise DecodeError(f"{what}.{key}: {len(value)} bytes exceeds {max_size}")
    return value


def text(obj: dict[str, Any], key: str, what: str, max_len: int) -> str:
    value = obj[key]
    if not isinstance(value, str):
        raise DecodeError(f"{what}.{key}: expected a string, got {type(value).__name__}")
    if len(value) > max_len:
        raise DecodeError(f"{what}.{key}: longer than {max_len} characters")
    return value


def seq(obj: dict[str, Any], key: str, what: str, max_len: int) -> list[Any]:
    value = obj[key]
    if not isinstance(value, list):
        raise DecodeError(f"{what}.{key}: expected a list, got {type(value).__name__}")
    if len(value) > max_len:
        raise DecodeError(f"{what}.{key}: more than {max_len} items")
    return value


def mapping(obj: dict[str, Any], key: str, what: str) -> dict[str, Any]:
    value = obj[key]
    if not isinstance(value, dict):
        raise DecodeError(f"{what}.{key}: expected a map, got {type(value).__name__}")
    return value


def chain_id(obj: dict[str, Any], what: str) -> str:
    """``obj["chain_id"]``: a valid chain id (every signed struct names its chain)."""
    value = text(obj, "chain_id", what, 64)
    if not CHAIN_ID_RE.match(value):
        raise DecodeError(f"{what}.chain_id: {value!r} is not a valid chain id")
    return value


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
