"""Receipts: the outcome of each tx, with the events it emitted.

A receipt's canonical encoding is what the node stores and hashes
(``digest("receipt", encode())``); events feed indexes and subscriptions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marketnode.core import fields as f
from marketnode.core.encoding import decode as decode_value
from marketnode.core.encoding import encode as encode_value
from marketnode.core.errors import DecodeError
from marketnode.core.hashing import HASH_SIZE, digest

MAX_RECEIPT_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Event:
    """Something a tx did, e.g. ``Event("order_placed", {"order": 7, ...})``."""

    kind: str
    attrs: dict[str, Any]

    def to_obj(self) -> dict[str, Any]:
        return {"attrs": self.attrs, "kind": self.kind}

    @classmethod
    def from_obj(cls, obj: Any) -> Event:
        obj = f.expect_map(obj, "event", ("attrs", "kind"))
        return cls(f.text(obj, "kind", "event", 64), f.mapping(obj, "attrs", "event"))


@dataclass(frozen=True, slots=True)
class Receipt:
    """``ok`` with code "ok", or a failure with a documented code (market/codes.py)."""

    tx_hash: bytes
    ok: bool
    code: str
    message: str
    fee_paid: int
    events: tuple[Event, ...] = ()

    FIELDS = ("code", "events", "fee_paid", "message", "ok", "tx_hash")

    def to_obj(self) -> dict[str, Any]:
        return {
            "code": self.code, "events": [e.to_obj() for e in self.events], "fee_paid": self.fee_paid,
            "message": self.message, "ok": self.ok, "tx_hash": self.tx_hash,
        }

    def encode(self) -> bytes:
        return encode_value(self.to_obj())

    @property
    def hash(self) -> bytes:
        return digest("receipt", self.encode())

    @classmethod
    def from_obj(cls, obj: Any) -> Receipt:
        what = "receipt"
        obj = f.expect_map(obj, what, cls.FIELDS)
        if not isinstance(obj["ok"], bool):
            raise DecodeError("receipt.ok: expected a bool")
        return cls(
            tx_hash=f.raw(obj, "tx_hash", what, HASH_SIZE),
            ok=obj["ok"],
            code=f.text(obj, "code", what, 64),
            message=f.text(obj, "message", what, 1024),
            fee_paid=f.u64(obj, "fee_paid", what),
            events=tuple(Event.from_obj(e) for e in f.seq(obj, "events", what, 1024)),
        )

    @classmethod
    def decode(cls, data: bytes) -> Receipt:
        return cls.from_obj(decode_value(data, MAX_RECEIPT_BYTES))
