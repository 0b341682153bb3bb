"""Frames inside the encrypted link: canonical msgpack maps with a "type" of msg, req, resp or pex.

Decoding validates every field and raises FrameError, so the peer loop can
turn any malformed frame into a penalty instead of an exception deeper in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marketnode.core.encoding import decode, encode
from marketnode.core.errors import DecodeError, P2PError, ValidationError
from marketnode.core.keys import PUBKEY_SIZE
from marketnode.p2p.config import check_topic, parse_hostport

MAX_PEX_ENTRIES = 64
MAX_REQUEST_ID = 2**63 - 1
MAX_ERROR_CHARS = 200


class FrameError(P2PError):
    """A decrypted frame that is not a valid msg, req, resp or pex."""


@dataclass(frozen=True)
class MsgFrame:
    """A one-way message (gossip or direct)."""

    topic: str
    payload: bytes


@dataclass(frozen=True)
class ReqFrame:
    """A request the peer must answer with a RespFrame carrying the same id."""

    id: int
    topic: str
    payload: bytes


@dataclass(frozen=True)
class RespFrame:
    """The answer to a request; when ``ok`` is false, payload is a UTF-8 error text."""

    id: int
    ok: bool
    payload: bytes


@dataclass(frozen=True)
class PexFrame:
    """Peer exchange: (node key, advertised host:port) of peers the sender is connected to."""

    peers: tuple[tuple[bytes, str], ...]


Frame = MsgFrame | ReqFrame | RespFrame | PexFrame


def encode_frame(frame: Frame) -> bytes:
    if isinstance(frame, MsgFrame):
        value: dict[str, Any] = {"type": "msg", "topic": frame.topic, "payload": frame.payload}
    elif isinstance(frame, ReqFrame):
        value = {"type": "req", "id": frame.id, "topic": frame.topic, "payload": frame.payload}
    elif isinstance(frame, RespFrame):
        value = {"type": "resp", "id": frame.id, "ok": frame.ok, "payload": frame.payload}
    else:
        value = {"type": "pex", "peers": [{"node_key": k, "address": a} for k, a in frame.peers]}
    return encode(value)


def decode_map(data: object, max_bytes: int, error: type[P2PError], what: str) -> dict[str, Any]:
    """Canonical-decode a map of at most ``max_bytes``, raising ``error`` (never DecodeError)."""
    if not isinstance(data, bytes):
        raise error(f"{what} is not bytes")
    try:
        value = decode(data, max_bytes=max_bytes)
    except DecodeError as exc:
        raise error(f"{what} does not decode: {exc}") from None
    if not isinstance(value, dict):
        raise error(f"{what} is not a map")
    return value


def decode_frame(data: bytes, max_bytes: int) -> Frame:
    """Decode and validate one plaintext frame; raise FrameError for anything malformed."""
    value = decode_map(data, max_bytes, FrameError, "frame")
    kind = value.get("type")
    try:
        if kind == "msg":
            _keys(value, "topic", "payload")
            return MsgFrame(check_topic(value["topic"]), _bytes(value["payload"]))
        if kind == "req":
            _keys(value, "id", "topic", "payload")
            return ReqFrame(_request_id(value["id"]), check_topic(value["topic"]), _bytes(value["payload"]))
        if kind == "resp":
            _keys(value, "id", "ok", "payload")
            if not isinstance(value["ok"], bool):
                raise FrameError("resp.ok is not a bool")
            return RespFrame(_request_id(value["id"]), value["ok"], _bytes(value["payload"]))
        if kind == "pex":
            _keys(value, "peers")
            return PexFrame(_pex_peers(value["peers"]))
    except ValidationError as exc:
        raise FrameError(f"invalid {kind} frame: {exc}") from None
    raise FrameError(f"unknown frame type {str(kind)[:32]!r}")


def _keys(value: dict[str, Any], *names: str) -> None:
    if set(value) != {"type", *names}:
        raise FrameError(f"{value['type']} frame must have exactly the fields {sorted(names)}")


def _bytes(value: object) -> bytes:
    if not isinstance(value, bytes):
        raise FrameError("payload is not bytes")
    return value


def _request_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_REQUEST_ID:
        raise FrameError("request id is not an integer in 0..2**63-1")
    return value


def _pex_peers(value: object) -> tuple[tuple[bytes, str], ...]:
    if not isinstance(value, list) or len(value) > MAX_PEX_ENTRIES:
        raise FrameError(f"pex.peers is not a list of at most {MAX_PEX_ENTRIES}")
    peers = []
    for entry in value:
        if not isinstance(entry, dict) or set(entry) != {"node_key", "address"}:
            raise FrameError("pex entry must be {node_key, address}")
        key, address = entry["node_key"], entry["address"]
        if not isinstance(key, bytes) or len(key) != PUBKEY_SIZE or not isinstance(address, str):
            raise FrameError("pex entry has a bad node_key or address")
        parse_hostport(address)
        peers.append((key, address))
    return tuple(peers)
