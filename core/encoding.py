"""Canonical msgpack: the one byte encoding of everything signed or hashed.

Rules (docs/PROTOCOL.md, "Canonical encoding"): only int, bytes, str, bool,
None, list and map; map keys are str, sorted by their UTF-8 bytes, unique;
ints in [-2**63, 2**64-1] in msgpack's shortest form; no floats, no ext types.
Decoding checks key order and types, then re-encodes and compares, so any
second spelling of a value is refused.
"""

from __future__ import annotations

from typing import Any

import msgpack

from marketnode.core.errors import DecodeError

INT_MIN = -(2**63)
INT_MAX = 2**64 - 1
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 32

Value = Any  # int | bytes | str | bool | None | list[Value] | dict[str, Value]


_PLAIN = frozenset({str, bytes, int, bool, type(None)})


def _normalise(value: Value, depth: int) -> Value:
    """Check the value is encodable and return it with every map key-sorted.

    Hot path (every hash and signature goes through here): dispatch on the
    exact type and skip the call for plain scalars. Sorting str keys by code
    point is sorting by UTF-8 bytes. Int range is left to msgpack (it refuses
    anything outside 64 bits, and ``encode`` turns that into DecodeError).
    """
    t = type(value)
    if t in _PLAIN:
        return value
    if depth >= MAX_DEPTH:
        raise DecodeError("value nested too deeply")
    if t is dict:
        for key in value:
            if type(key) is not str:
                raise DecodeError(f"map key {key!r} is not a string")
        return {k: (v if type(v) in _PLAIN else _normalise(v, depth + 1)) for k, v in sorted(value.items())}
    if t is list or t is tuple:
        return [(v if type(v) in _PLAIN else _normalise(v, depth + 1)) for v in value]
    if t is float:
        raise DecodeError("floats cannot be encoded")
    return _normalise_other(value, depth)


def _normalise_other(value: Value, depth: int) -> Value:
    """Subclasses of the allowed types (bool is already exact) and byte-like views."""
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, dict):
        return _normalise(dict(value), depth)
    if isinstance(value, (list, tuple)):
        return _normalise(list(value), depth)
    raise DecodeError(f"type {type(value).__name__} cannot be encoded")


def _check_tree(value: Value, depth: int) -> None:
    """Refuse floats, unsorted map keys and too much nesting in a decoded value (no copies)."""
    t = type(value)
    if t in _PLAIN:
        return
    if t is float:
        raise DecodeError("floats are not allowed")
    if t is not dict and t is not list:
        raise DecodeError(f"type {t.__name__} is not allowed (ext types are refused)")
    if depth >= MAX_DEPTH:
        raise DecodeError("value nested too deeply")
    if t is dict:
        previous = None
        for key, item in value.items():
            if type(key) is not str:
                raise DecodeError(f"map key {key!r} is not a string")
            if previous is not None and key <= previous:
                raise DecodeError("map keys are not in canonical (sorted, unique) order")
            previous = key
            if type(item) not in _PLAIN:
                _check_tree(item, depth + 1)
    else:
        for item in value:
            if type(item) not in _PLAIN:
                _check_tree(item, depth + 1)


def encode(value: Value) -> bytes:
    """Return the canonical encoding of ``value``; raise DecodeError if it has none."""
    try:
        return msgpack.packb(_normalise(value, 0), use_bin_type=True)
    except UnicodeEncodeError:  # a str holding a lone surrogate has no UTF-8 form
        raise DecodeError("string is not valid Unicode (lone surrogate)") from None
    except OverflowError:
        raise DecodeError("integer outside the 64-bit range") from None
    except RecursionError:
        raise DecodeError("value nested too deeply") from None


def decode(data: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Value:
    """Decode canonical bytes; raise DecodeError for anything else.

    Refused: more than ``max_bytes``, truncated or trailing bytes, floats, ext
    types, non-string or unsorted or duplicate map keys, invalid UTF-8, and any
    non-shortest form.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecodeError("input is not bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        raise DecodeError(f"input of {len(data)} bytes exceeds the limit of {max_bytes}")
    if not data:
        raise DecodeError("empty input")
    try:
        value = msgpack.unpackb(
            data,
            raw=False,
            use_list=True,
            strict_map_key=True,
            ext_hook=_refuse_ext,
        )
    except DecodeError:
        raise
    except msgpack.ExtraData:
        raise DecodeError("trailing bytes after the value") from None
    except (ValueError, TypeError, UnicodeDecodeError, msgpack.UnpackException, RecursionError) as exc:
        raise DecodeError(f"malformed msgpack: {exc}") from None
    try:
        _check_tree(value, 0)
        canonical = msgpack.packb(value, use_bin_type=True)
    except RecursionError:
        raise DecodeError("value nested too deeply") from None
    if canonical != data:
        raise DecodeError("input is not in canonical form")
    return value


def decode_trusted(data: bytes) -> Value:
    """Decode bytes this node wrote itself (its own database): no canonical re-check.

    Never use on input from a peer, a wallet or a file: ``decode`` is for those.
    """
    return msgpack.unpackb(data, raw=False, use_list=True, strict_map_key=True)


def _refuse_ext(code: int, data: bytes) -> None:
    raise DecodeError(f"ext type {code} is not allowed")
