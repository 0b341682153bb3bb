"""Typed field checks for tx bodies; each type can also describe itself for docs.

A check returns the value or raises RuleError(BAD_BODY) naming the field, so
handlers can trust every body they receive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from marketnode.core.encoding import INT_MAX
from marketnode.core.keys import PUBKEY_SIZE
from marketnode.market.codes import BAD_BODY, fail


class FieldType:
    """One kind of value: ``check`` validates, ``describe`` documents."""

    def check(self, value: Any, where: str) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class UInt(FieldType):
    low: int = 0
    high: int = INT_MAX

    def check(self, value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not self.low <= value <= self.high:
            fail(BAD_BODY, f"{where}: expected an integer in [{self.low}, {self.high}]")
        return value

    def describe(self) -> str:
        return f"int {self.low}..{'2^64-1' if self.high == INT_MAX else self.high}"


@dataclass(frozen=True)
class Text(FieldType):
    max_len: int
    min_len: int = 0
    pattern: str | None = None

    def check(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            fail(BAD_BODY, f"{where}: expected a string")
        if not self.min_len <= len(value) <= self.max_len:
            fail(BAD_BODY, f"{where}: length must be {self.min_len}..{self.max_len}")
        if self.pattern is not None and not re.fullmatch(self.pattern, value):
            fail(BAD_BODY, f"{where}: must match {self.pattern}")
        return value

    def describe(self) -> str:
        shape = f" matching `{self.pattern}`" if self.pattern else ""
        return f"str {self.min_len}..{self.max_len} chars{shape}"


@dataclass(frozen=True)
class Raw(FieldType):
    max_len: int
    min_len: int = 0

    def check(self, value: Any, where: str) -> bytes:
        if not isinstance(value, bytes):
            fail(BAD_BODY, f"{where}: expected bytes")
        if not self.min_len <= len(value) <= self.max_len:
            fail(BAD_BODY, f"{where}: must be {self.min_len}..{self.max_len} bytes")
        return value

    def describe(self) -> str:
        if self.min_len == self.max_len:
            return f"bytes[{self.max_len}]"
        return f"bytes {self.min_len}..{self.max_len}"


@dataclass(frozen=True)
class Flag(FieldType):
    def check(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            fail(BAD_BODY, f"{where}: expected true or false")
        return value

    def describe(self) -> str:
        return "bool"


@dataclass(frozen=True)
class OneOf(FieldType):
    choices: tuple[str, ...]

    def check(self, value: Any, where: str) -> str:
        if value not in self.choices:
            fail(BAD_BODY, f"{where}: must be one of {list(self.choices)}")
        chosen: str = value  # equal to one of the choices, all of them str
        return chosen

    def describe(self) -> str:
        return "one of " + ", ".join(f"`{c}`" for c in self.choices)


@dataclass(frozen=True)
class Int(UInt):
    """A signed integer in [low, high] (a price modifier); bounds keep it exact in JSON and JavaScript."""

    def describe(self) -> str:
        return f"signed int {self.low}..{self.high}"


@dataclass(frozen=True)
class ListOf(FieldType):
    """A list of items of one type, distinct unless ``distinct`` is False (a tuple of choices)."""

    item: FieldType
    max_items: int
    distinct: bool = True

    def check(self, value: Any, where: str) -> list[Any]:
        if not isinstance(value, (list, tuple)) or len(value) > self.max_items:  # a tuple encodes as a list
            fail(BAD_BODY, f"{where}: expected a list of at most {self.max_items} items")
        items = [self.item.check(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if self.distinct and len(set(self._identity(items))) != len(items):
            fail(BAD_BODY, f"{where}: items must be distinct")
        return items

    def _identity(self, items: list[Any]) -> list[Any]:
        return items

    def describe(self) -> str:
        return f"list (≤{self.max_items}{', distinct' if self.distinct else ''}) of {self.item.describe()}"


@dataclass(frozen=True)
class Records(ListOf):
    """A list of structs (options, variants, shipping options) told apart by one member, ``key``."""

    key: str = "name"

    def _identity(self, items: list[Any]) -> list[Any]:
        return [item[self.key] for item in items]

    def describe(self) -> str:
        return f"list (≤{self.max_items}, distinct `{self.key}`) of {self.item.describe()}"


@dataclass(frozen=True)
class Scalar(FieldType):
    """A small int, str, bytes or bool: a reported or attribute value."""

    max_len: int

    def check(self, value: Any, where: str) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return UInt(0, INT_MAX).check(value, where)
        if isinstance(value, str):
            return Text(self.max_len).check(value, where)
        if isinstance(value, bytes):
            return Raw(self.max_len).check(value, where)
        fail(BAD_BODY, f"{where}: expected an int, str, bytes or bool")

    def describe(self) -> str:
        return f"uint, bool, or str/bytes ≤{self.max_len}"


@dataclass(frozen=True)
class MapOf(FieldType):
    """A map from short names to scalars (record attributes)."""

    max_items: int
    key: Text
    value: Scalar

    def check(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict) or len(value) > self.max_items:
            fail(BAD_BODY, f"{where}: expected a map of at most {self.max_items} entries")
        return {self.key.check(k, f"{where} key"): self.value.check(v, f"{where}.{k}") for k, v in value.items()}

    def describe(self) -> str:
        return f"map (≤{self.max_items}) of {self.key.describe()} → {self.value.describe()}"


@dataclass(frozen=True)
class Struct(FieldType):
    """A fixed set of named sub-fields, all required."""

    members: tuple[tuple[str, FieldType], ...]

    def check(self, value: Any, where: str) -> dict[str, Any]:
        names = {name for name, _ in self.members}
        if not isinstance(value, dict) or set(value) != names:
            fail(BAD_BODY, f"{where}: expected exactly the keys {sorted(names)}")
        return {name: kind.check(value[name], f"{where}.{name}") for name, kind in self.members}

    def describe(self) -> str:
        return "map {" + ", ".join(f"{n}: {k.describe()}" for n, k in self.members) + "}"


@dataclass(frozen=True)
class Field:
    """One named body field. Optional fields may be absent or nil (meaning: none / unchanged)."""

    name: str
    kind: FieldType
    doc: str
    optional: bool = False


@dataclass(frozen=True)
class Account(Raw):
    """An account: the raw 32-byte ed25519 public key (wallets show it as ``mn1...``)."""

    def describe(self) -> str:
        return "account (32-byte public key)"


ACCOUNT = Account(PUBKEY_SIZE, PUBKEY_SIZE)
HASH = Raw(32, 32)
AMOUNT = UInt(1)
ID = UInt(1)
ASSET = Text(12, 2, r"[A-Z][A-Z0-9]{1,11}")
NAME = Text(64, 1)
LABEL = Text(32, 1, r"[a-z0-9][a-z0-9_-]{0,31}")
REGION = Text(8, 2, r"[A-Z]{2}(-[A-Z0-9]{1,3})?")
DESCRIPTION = Text(2000)
RECORD_ID = Text(64, 1, r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
BPS = UInt(0, 10_000)
INT_DELTA = Int(-(2**53 - 1), 2**53 - 1)  # a price modifier: exact as a JavaScript number
