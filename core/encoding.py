"""Canonical msgpack: the one byte encoding of everything signed or hashed.

Rules (docs/PROTOCOL.md, "Canonical encoding"): only int, bytes, str, bool,
None, list and map; map keys are str, sorted by their UTF-8 bytes, unique;
ints in [-2**63, 2**64-1] in msgpack's shortest form; no floats, no ext types.
Decoding re-encodes and compares, so any second spelling of a value is refused.
"""

from __future__ import annotations

from typing import Any

import msgpack

from core.errors import DecodeError

INT_MIN = -(2**63)
INT_MAX = 2**64 - 1
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 32

Value = Any  # int | bytes | str | bool | None | list[Value] | dict[str, Value]


def _normalise(value: Value, depth: int) -> Value:
    """Check the value is encodable and return it with every map key-sorted."""
    if depth > MAX_DEPTH:
        raise DecodeError("value nested too deeply")
    if value is None or isinstance(value, (bool, bytes, str)):
        return value
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise DecodeError(f"integer {value} outside the 64-bit range")
        return value
    if isinstance(value, (list, tuple)):
        return [_normalise(item, depth + 1) for item in value]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise DecodeError(f"map key {key!r} is not a string")
        ordered = sorted(value, key=lambda k: k.encode("utf-8"))
        return {k: _normalise(value[k], depth + 1) for k in ordered}
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise DecodeError(f"type {type(value).__name__} cannot be encoded")


def encode(value: Value) -> bytes:
    """Return the canonical encoding of ``value``; raise DecodeError if it has none."""
    try:
        return msgpack.packb(_normalise(value, 0), use_bin_type=True)
    except UnicodeEncodeError:  # a str holding a lone surrogate has no UTF-8 form
        raise DecodeError("string is not valid Unicode (lone surrogate)") from None


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
        canonical = encode(value)
    except RecursionError:
        raise DecodeError("value nested too deeply") from None
    if canonical != data:
        raise DecodeError("input is not in canonical form")
    return value


def _refuse_ext(code: int, data: bytes) -> None:
    raise DecodeError(f"ext type {code} is not allowed")
