"""The p2p handshake as a sans-IO state machine: bytes in, bytes and a result out.

Three messages (docs/P2P.md, "Handshake"): the dialer's hello, the listener's
hello with its signature, the dialer's signature. Each side signs the other's
fresh challenge and its own ephemeral X25519 key, under the "handshake" tag and
the chain id, so a recorded handshake cannot be replayed and nobody can claim a
node key it does not hold. This module never touches sockets or clocks.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import nacl.bindings

from marketnode.core.encoding import encode
from marketnode.core.errors import P2PError, ValidationError
from marketnode.core.hashing import digest, signing_message
from marketnode.core.keys import PUBKEY_SIZE, SIGNATURE_SIZE, PrivateKey, verify
from marketnode.p2p.config import MAX_ADDRESS_CHARS, parse_hostport
from marketnode.p2p.framing import decode_map
from marketnode.p2p.session import SessionCipher

MAX_HANDSHAKE_BYTES = 2048
CHALLENGE_SIZE = 32
ROLE_INITIATOR = "initiator"
ROLE_RESPONDER = "responder"

Random = Callable[[int], bytes]
_HELLO_KEYS = frozenset({"type", "chain_id", "version", "node_key", "eph_key", "challenge", "advertise"})


class HandshakeError(P2PError):
    """The peer failed the handshake; ``reason`` is safe to send back to it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SelfConnectionError(HandshakeError):
    """We dialed ourselves (our own address reached through a seed or PEX)."""


@dataclass(frozen=True)
class Hello:
    """What each side announces before proving anything."""

    chain_id: str
    version: int
    node_key: bytes
    eph_key: bytes
    challenge: bytes
    advertise: str | None

    def to_value(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "chain_id": self.chain_id,
            "version": self.version,
            "node_key": self.node_key,
            "eph_key": self.eph_key,
            "challenge": self.challenge,
            "advertise": self.advertise,
        }

    @classmethod
    def from_value(cls, value: object) -> Hello:
        if not isinstance(value, dict) or value.get("type") != "hello" or set(value) != _HELLO_KEYS:
            raise HandshakeError(f"malformed hello: the keys must be exactly {sorted(_HELLO_KEYS)}")
        hello = cls(
            value["chain_id"], value["version"], value["node_key"], value["eph_key"], value["challenge"], value["advertise"]
        )
        if not isinstance(hello.chain_id, str) or isinstance(hello.version, bool) or not isinstance(hello.version, int):
            raise HandshakeError("malformed hello: chain_id or version")
        for name, size in (("node_key", PUBKEY_SIZE), ("eph_key", 32), ("challenge", CHALLENGE_SIZE)):
            field_value = getattr(hello, name)
            if not isinstance(field_value, bytes) or len(field_value) != size:
                raise HandshakeError(f"malformed hello: {name} must be {size} bytes")
        if hello.advertise is not None:
            try:
                if not isinstance(hello.advertise, str) or len(hello.advertise) > MAX_ADDRESS_CHARS:
                    raise ValidationError("too long")
                parse_hostport(hello.advertise)
            except ValidationError:
                raise HandshakeError("malformed hello: advertise is not host:port") from None
        return hello


@dataclass(frozen=True)
class HandshakeResult:
    """A proven peer identity and the cipher for the rest of the connection."""

    peer_key: bytes
    peer_advertise: str | None
    cipher: SessionCipher


def _decode_message(data: object) -> dict[str, Any]:
    return decode_map(data, MAX_HANDSHAKE_BYTES, HandshakeError, "handshake message")


def reject_message(reason: str) -> bytes:
    """A plaintext refusal sent before closing, so an honest misconfigured peer learns why."""
    return encode({"type": "reject", "reason": reason[:200]})


def transcript_hash(initiator: Hello, responder: Hello) -> bytes:
    """Both hellos hashed together: every signature and both session keys are bound to it."""
    return digest("handshake", encode({"initiator": initiator.to_value(), "responder": responder.to_value()}))


def auth_body(role: str, peer_challenge: bytes, own_eph_key: bytes, transcript: bytes) -> bytes:
    """The canonical bytes a side signs (wrapped by core.hashing.signing_message)."""
    return encode({"role": role, "challenge": peer_challenge, "eph_key": own_eph_key, "transcript": transcript})


def derive_session(eph_secret: bytes, peer_eph_key: bytes, transcript: bytes, initiator: bool) -> SessionCipher:
    """X25519 shared secret → one key per direction via keyed blake2b over the transcript."""
    try:
        shared = nacl.bindings.crypto_scalarmult(eph_secret, peer_eph_key)
    except Exception:  # libsodium refuses low-order points (all-zero result)
        raise HandshakeError("ephemeral key exchange failed (low-order point)") from None
    if shared == bytes(32):
        raise HandshakeError("ephemeral key exchange produced zero")
    i2r = hashlib.blake2b(transcript, key=shared, person=b"mn-p2p-i2r", digest_size=32).digest()
    r2i = hashlib.blake2b(transcript, key=shared, person=b"mn-p2p-r2i", digest_size=32).digest()
    return SessionCipher(i2r, r2i) if initiator else SessionCipher(r2i, i2r)


class _Side:
    """What both roles share: our key, our hello, checking theirs."""

    def __init__(self, key: PrivateKey, chain_id: str, version: int, advertise: str | None, random: Random) -> None:
        self._key = key
        self._eph_secret = random(32)
        self.hello = Hello(
            chain_id=chain_id,
            version=version,
            node_key=key.public_key,
            eph_key=nacl.bindings.crypto_scalarmult_base(self._eph_secret),
            challenge=random(CHALLENGE_SIZE),
            advertise=advertise,
        )

    def _check_peer_hello(self, peer: Hello, allow_self: bool = False) -> None:
        if peer.chain_id != self.hello.chain_id:
            raise HandshakeError(f"wrong chain id {peer.chain_id[:64]!r}, this node is on {self.hello.chain_id!r}")
        if peer.version != self.hello.version:
            raise HandshakeError(f"protocol version {peer.version} not supported, this node speaks {self.hello.version}")
        if peer.node_key == self.hello.node_key and not allow_self:
            raise SelfConnectionError("connected to itself")

    def _sign(self, role: str, peer: Hello, transcript: bytes) -> bytes:
        body = auth_body(role, peer.challenge, self.hello.eph_key, transcript)
        return self._key.sign(signing_message("handshake", self.hello.chain_id, body))

    def _verify(self, role: str, peer: Hello, transcript: bytes, signature: object) -> None:
        if not isinstance(signature, bytes) or len(signature) != SIGNATURE_SIZE:
            raise HandshakeError("malformed handshake signature")
        body = auth_body(role, self.hello.challenge, peer.eph_key, transcript)
        if not verify(peer.node_key, signing_message("handshake", self.hello.chain_id, body), signature):
            raise HandshakeError("handshake signature does not verify: peer did not prove its node key")


class Initiator(_Side):
    """The dialing side: ``first_message()``, then ``on_reply(reply) -> (last_message, result)``."""

    def __init__(
        self,
        key: PrivateKey,
        chain_id: str,
        version: int,
        advertise: str | None = None,
        expected_peer_key: bytes | None = None,
        random: Random = os.urandom,
    ) -> None:
        super().__init__(key, chain_id, version, advertise, random)
        self._expected_peer_key = expected_peer_key

    def first_message(self) -> bytes:
        return encode(self.hello.to_value())

    def on_reply(self, data: bytes) -> tuple[bytes, HandshakeResult]:
        value = _decode_message(data)
        if value.get("type") == "reject" and isinstance(value.get("reason"), str):
            raise HandshakeError(f"peer refused: {value['reason'][:200]}")
        if value.get("type") != "hello_auth" or set(value) != {"type", "hello", "sig"}:
            raise HandshakeError("malformed handshake reply")
        peer = Hello.from_value(value["hello"])
        self._check_peer_hello(peer)
        if self._expected_peer_key is not None and peer.node_key != self._expected_peer_key:
            raise HandshakeError(f"peer is {peer.node_key.hex()}, expected {self._expected_peer_key.hex()}")
        transcript = transcript_hash(self.hello, peer)
        self._verify(ROLE_RESPONDER, peer, transcript, value["sig"])
        last = encode({"type": "auth", "sig": self._sign(ROLE_INITIATOR, peer, transcript)})
        cipher = derive_session(self._eph_secret, peer.eph_key, transcript, initiator=True)
        return last, HandshakeResult(peer.node_key, peer.advertise, cipher)


class Responder(_Side):
    """The listening side: ``on_hello(hello) -> reply``, then ``on_auth(auth) -> result``."""

    def __init__(
        self, key: PrivateKey, chain_id: str, version: int, advertise: str | None = None, random: Random = os.urandom
    ) -> None:
        super().__init__(key, chain_id, version, advertise, random)
        self._peer: Hello | None = None
        self._transcript = b""

    def on_hello(self, data: bytes) -> bytes:
        if self._peer is not None:
            raise HandshakeError("second hello")
        peer = Hello.from_value(_decode_message(data))
        # A self-connection is answered so that the dialer (which alone can act on it) detects it.
        self._check_peer_hello(peer, allow_self=True)
        self._peer = peer
        self._transcript = transcript_hash(peer, self.hello)
        signature = self._sign(ROLE_RESPONDER, peer, self._transcript)
        return encode({"type": "hello_auth", "hello": self.hello.to_value(), "sig": signature})

    def on_auth(self, data: bytes) -> HandshakeResult:
        if self._peer is None:
            raise HandshakeError("auth before hello")
        value = _decode_message(data)
        if value.get("type") != "auth" or set(value) != {"type", "sig"}:
            raise HandshakeError("malformed handshake auth")
        self._verify(ROLE_INITIATOR, self._peer, self._transcript, value["sig"])
        if self._peer.node_key == self.hello.node_key:
            raise SelfConnectionError("connected to itself")
        cipher = derive_session(self._eph_secret, self._peer.eph_key, self._transcript, initiator=False)
        return HandshakeResult(self._peer.node_key, self._peer.advertise, cipher)
