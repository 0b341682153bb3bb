"""JSON for RPC results: the core conventions (core/jsonable.py) plus dumping.

Bytes become plain lowercase hex without ``0x``; accounts that a method names
are ``mn1...`` addresses (``address_json``); no floats. This module only
re-exports and serialises: the shapes themselves live in core so the wallet
reads exactly what the node writes.
"""

from __future__ import annotations

import json
import math
from typing import Any

from marketnode.core.jsonable import (
    Inclusion,
    address_json,
    block_to_json,
    certificate_to_json,
    from_hex,
    header_to_json,
    proof_to_json,
    to_json,
    tx_to_json,
)

__all__ = [
    "Inclusion",
    "address_json",
    "block_to_json",
    "certificate_to_json",
    "dumps",
    "from_hex",
    "header_to_json",
    "proof_to_json",
    "to_json",
    "tx_to_json",
]


def dumps(obj: Any) -> str:
    """Compact JSON text; refuses NaN/Infinity, which JSON does not have."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:32]} is out of range")
    return value


def loads(text: str | bytes) -> Any:
    """Strict JSON parse: NaN, Infinity and numbers that overflow to them are refused (ValueError)."""
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
