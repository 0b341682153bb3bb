"""Tx bodies from friendly values, checked against the tx-kind table before signing.

The table (``wallet/kinds.py``) is generated from the market's schema, so a
body the wallet builds names exactly the fields the chain expects. Here a
body only gets its shape checked (known names, required ones present) and its
values put in wire form (``mn1`` addresses and hex hashes become bytes); value
rules (ranges, patterns) stay with the market, which the node applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marketnode.core.errors import ValidationError
from marketnode.core.hashing import HASH_SIZE
from marketnode.core.keys import PUBKEY_SIZE, pubkey_from_address

# The wire type of a field, as the generated table names it.
UINT, TEXT, FLAG, BYTES, ACCOUNT, HASH, SCALAR, MAP, STRUCT = (
    "uint", "str", "bool", "bytes", "account", "hash", "scalar", "map", "struct",
)
LIST_PREFIX = "list:"

Account = str | bytes  # an mn1... address, or the 32 public-key bytes
Hash = bytes | str  # 32 bytes, or 64 hex characters
Scalar = int | str | bytes | bool  # a record attribute or reported value


class TxBuildError(ValidationError):
    """A body the wallet refuses to sign: unknown or missing field, or a value in the wrong form."""


@dataclass(frozen=True)
class FieldSpec:
    """One body field: ``wire`` is its type tag (``uint``, ``account``, ``list:hash``, ...).

    ``choices`` lists the allowed strings of a one-of field, ``members`` the keys of a struct.
    """

    name: str
    wire: str
    required: bool
    doc: str
    choices: tuple[str, ...] = ()
    members: tuple[str, ...] = ()


@dataclass(frozen=True)
class KindSpec:
    """One tx kind: its summary and its body fields in schema order."""

    name: str
    summary: str
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec:
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)


def _fixed_bytes(value: Any, size: int) -> bytes | None:
    """``value`` as exactly ``size`` bytes, given raw or as hex; None if it is neither."""
    if isinstance(value, (bytes, bytearray)) and len(value) == size:
        return bytes(value)
    if isinstance(value, str) and len(value) == 2 * size:
        try:
            return bytes.fromhex(value)
        except ValueError:
            return None
    return None


def account_bytes(value: Any, where: str = "account") -> bytes:
    """An account as its 32 public-key bytes, from an ``mn1`` address, hex or raw bytes."""
    if isinstance(value, str) and value.startswith("mn1"):
        try:
            return pubkey_from_address(value)
        except ValidationError as exc:
            raise TxBuildError(f"{where}: {exc}") from None
    raw = _fixed_bytes(value, PUBKEY_SIZE)
    if raw is None:
        raise TxBuildError(f"{where}: expected an mn1... address, got {value!r:.80}")
    return raw


def hash_bytes(value: Any, where: str = "hash") -> bytes:
    """A 32-byte hash from bytes or 64 hex characters."""
    raw = _fixed_bytes(value, HASH_SIZE)
    if raw is None:
        raise TxBuildError(f"{where}: expected a 32-byte hash (64 hex characters), got {value!r:.80}")
    return raw


def _wire_value(wire: str, value: Any, where: str) -> Any:
    if wire == ACCOUNT:
        return account_bytes(value, where)
    if wire == HASH:
        return hash_bytes(value, where)
    if wire.startswith(LIST_PREFIX):
        if isinstance(value, (str, bytes, Mapping)):
            raise TxBuildError(f"{where}: expected a list")
        item = wire[len(LIST_PREFIX):]
        return [_wire_value(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if wire in (MAP, STRUCT):
        if not isinstance(value, Mapping):
            raise TxBuildError(f"{where}: expected a map")
        return dict(value)
    if wire == BYTES and isinstance(value, bytearray):
        return bytes(value)
    return value


def make_body(spec: KindSpec, values: Mapping[str, Any]) -> dict[str, Any]:
    """The wire body of ``spec.name`` from ``values``; absent or None optional fields are left out."""
    known = {f.name for f in spec.fields}
    unknown = sorted(set(values) - known)
    if unknown:
        raise TxBuildError(f"{spec.name}: unknown fields {unknown} (it takes {sorted(known)})")
    body: dict[str, Any] = {}
    for field in spec.fields:
        value = values.get(field.name)
        if value is None:
            if field.required:
                raise TxBuildError(f"{spec.name}.{field.name} is required: {field.doc}")
            continue
        if field.choices and value not in field.choices:
            raise TxBuildError(f"{spec.name}.{field.name} must be one of {list(field.choices)}, got {value!r}")
        if field.members and (not isinstance(value, Mapping) or set(value) != set(field.members)):
            raise TxBuildError(f"{spec.name}.{field.name} needs exactly the keys {list(field.members)}")
        body[field.name] = _wire_value(field.wire, value, f"{spec.name}.{field.name}")
    return body
