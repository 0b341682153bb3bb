"""Encrypted messages between accounts: the envelope, its encryption and the read marker.

An envelope is signed by its sender and encrypted to its readers (the
recipients and the sender); nodes store and forward the bytes but hold no key
that opens them. Byte layout, construction and test vectors: docs/PROTOCOL.md
§11. Randomness (ephemeral key, content key, nonce) is passed in by the caller
so the construction is testable byte for byte; ``seal_message`` draws it when
it is not given.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import nacl.bindings
import nacl.exceptions

from marketnode.core.encoding import decode, encode
from marketnode.core.errors import DecodeError, SignatureError, ValidationError
from marketnode.core.hashing import digest, signing_message
from marketnode.core.keys import PUBKEY_SIZE, SIGNATURE_SIZE, PrivateKey, check_chain_id, curve25519_public, verify

VERSION = 1
MAX_ENVELOPE_BYTES = 8192  # protocol ceiling; a node may set a lower one
MAX_TEXT_BYTES = 4096  # UTF-8 bytes of the text
PAD_BLOCK = 256  # the encrypted text is padded to a multiple of this, so nodes learn its length only roughly
MAX_PADDED = (MAX_TEXT_BYTES // PAD_BLOCK + 1) * PAD_BLOCK
MAX_TO = 3  # recipients besides the sender: buyer, seller, arbiter
MAX_READ_IDS = 256  # message ids one read marker names
ABOUT_KINDS = ("listing", "order")
KEY_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
WRAPPED_SIZE = KEY_SIZE + TAG_SIZE
WRAP_NONCE = bytes(NONCE_SIZE)  # each wrap key encrypts one content key once
ENVELOPE_FIELDS = ("about", "chain_id", "ciphertext", "ephemeral", "keys", "nonce", "sender", "sent_ms", "sig", "to",
                   "v")
READ_FIELDS = ("chain_id", "ids", "reader", "sig", "time_ms", "v")
U64_MAX = 2**64 - 1


# ---- primitives -------------------------------------------------------------

def hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int = KEY_SIZE) -> bytes:
    """RFC 5869 HKDF with SHA-256 (what WebCrypto's HKDF computes)."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, block, counter = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        out += block
        counter += 1
    return out[:length]


def aes_gcm_seal(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    return nacl.bindings.crypto_aead_aes256gcm_encrypt(plaintext, aad, nonce, key)


def aes_gcm_open(key: bytes, nonce: bytes, ciphertext: bytes, aad: bytes) -> bytes:
    try:
        return nacl.bindings.crypto_aead_aes256gcm_decrypt(ciphertext, aad, nonce, key)
    except (nacl.exceptions.CryptoError, nacl.exceptions.ValueError, ValueError) as exc:
        raise ValidationError(f"the message does not decrypt: {exc}") from None


def pad(text: bytes) -> bytes:
    """ISO/IEC 7816-4 padding: ``text ‖ 0x80 ‖ 0x00…`` up to the next multiple of PAD_BLOCK (at least one byte)."""
    return text + b"\x80" + bytes(-(len(text) + 1) % PAD_BLOCK)


def unpad(padded: bytes) -> bytes:
    body = padded.rstrip(b"\x00")
    if not body.endswith(b"\x80") or len(padded) % PAD_BLOCK:
        raise ValidationError("the message's padding is malformed")
    return body[:-1]


def wrap_key(shared: bytes, ephemeral: bytes, reader: bytes, chain_id: str) -> bytes:
    """The key that wraps the content key for one reader (its ed25519 account key in the salt)."""
    if shared == bytes(32):
        raise ValidationError("the ephemeral key gives an all-zero shared secret")
    return hkdf_sha256(shared, ephemeral + reader, b"marketnode-msg-key:" + chain_id.encode())


def x25519(secret: bytes, public: bytes) -> bytes:
    try:
        return nacl.bindings.crypto_scalarmult(secret, public)
    except (nacl.exceptions.RuntimeError, nacl.exceptions.ValueError, ValueError) as exc:
        raise ValidationError(f"X25519 failed: {exc}") from None


# ---- the envelope -----------------------------------------------------------

@dataclass(frozen=True)
class Envelope:
    """One message as stored and gossiped. ``to`` and ``keys`` are sorted by account."""

    chain_id: str
    sender: bytes
    to: tuple[bytes, ...]
    about: tuple[str, int]
    sent_ms: int
    ephemeral: bytes
    keys: tuple[tuple[bytes, bytes], ...]
    nonce: bytes
    ciphertext: bytes
    sig: bytes = b""
    v: int = VERSION

    @property
    def readers(self) -> tuple[bytes, ...]:
        """Everyone who can open it: the recipients and the sender."""
        return tuple(account for account, _ in self.keys)

    def header_obj(self) -> dict[str, Any]:
        """The unsigned map without the ciphertext: the AAD of the body."""
        return {"about": list(self.about), "chain_id": self.chain_id, "ephemeral": self.ephemeral,
                "keys": [[a, w] for a, w in self.keys], "nonce": self.nonce, "sender": self.sender,
                "sent_ms": self.sent_ms, "to": list(self.to), "v": self.v}

    def unsigned_obj(self) -> dict[str, Any]:
        obj = self.header_obj()
        obj["ciphertext"] = self.ciphertext
        return obj

    def signing_bytes(self) -> bytes:
        return signing_message("message", self.chain_id, encode(self.unsigned_obj()))

    def encode(self) -> bytes:
        obj = self.unsigned_obj()
        obj["sig"] = self.sig
        return encode(obj)

    @cached_property
    def id(self) -> bytes:
        """digest("message", signed bytes); computed once per value (a frozen dataclass never changes)."""
        return digest("message", self.encode())

    def verify(self) -> bool:
        return verify(self.sender, self.signing_bytes(), self.sig)

    @classmethod
    def decode(cls, data: bytes, max_bytes: int = MAX_ENVELOPE_BYTES) -> Envelope:
        """Parse and check the shape of an envelope (not its signature: ``check``)."""
        if not isinstance(data, bytes):
            raise DecodeError("an envelope is bytes")
        if len(data) > max_bytes:
            raise DecodeError(f"an envelope is at most {max_bytes} bytes, got {len(data)}")
        obj = decode(data, max_bytes)
        if not isinstance(obj, dict) or set(obj) != set(ENVELOPE_FIELDS):
            raise DecodeError(f"an envelope is a map of exactly {', '.join(ENVELOPE_FIELDS)}")
        return cls(
            chain_id=_text(obj["chain_id"], "chain_id"), sender=_raw(obj["sender"], "sender", PUBKEY_SIZE),
            to=tuple(_raw(a, "to", PUBKEY_SIZE) for a in _list(obj["to"], "to")), about=_about(obj["about"]),
            sent_ms=_u64(obj["sent_ms"], "sent_ms"), ephemeral=_raw(obj["ephemeral"], "ephemeral", KEY_SIZE),
            keys=tuple(_key_entry(e) for e in _list(obj["keys"], "keys")),
            nonce=_raw(obj["nonce"], "nonce", NONCE_SIZE), ciphertext=_raw(obj["ciphertext"], "ciphertext"),
            sig=_raw(obj["sig"], "sig", SIGNATURE_SIZE), v=_u64(obj["v"], "v"),
        )

    def check(self, chain_id: str) -> None:
        """The rules every node applies before storing: shape, readers, sizes and the signature."""
        if self.v != VERSION:
            raise ValidationError(f"envelope version {self.v} is not supported (only {VERSION})")
        if self.chain_id != chain_id:
            raise ValidationError(f"envelope is for chain {self.chain_id!r}, not {chain_id!r}")
        if not 1 <= len(self.to) <= MAX_TO:
            raise ValidationError(f"a message has 1-{MAX_TO} recipients, got {len(self.to)}")
        if list(self.to) != sorted(set(self.to)):
            raise ValidationError("recipients must be sorted and unique")
        if self.sender in self.to:
            raise ValidationError("the sender cannot be a recipient")
        if list(self.readers) != sorted(set(self.to) | {self.sender}):
            raise ValidationError("keys must hold one entry per recipient and the sender, sorted by account")
        padded = len(self.ciphertext) - TAG_SIZE
        if not PAD_BLOCK <= padded <= MAX_PADDED or padded % PAD_BLOCK:
            raise ValidationError(f"the ciphertext holds a text padded to a multiple of {PAD_BLOCK} bytes, at most "
                                  f"{MAX_PADDED}, got {padded}")
        if self.about[1] < 1:
            raise ValidationError("listing and order ids start at 1")
        if not self.verify():
            raise SignatureError("the envelope's signature does not verify against its sender")

    def open(self, key: PrivateKey) -> str:
        """Decrypt with a reader's account key; ValidationError if it is not a reader or bytes were changed."""
        wrapped = dict(self.keys).get(key.public_key)
        if wrapped is None:
            raise ValidationError("this account is not a reader of the message")
        shared = x25519(key.curve25519_private(), self.ephemeral)
        content_key = aes_gcm_open(wrap_key(shared, self.ephemeral, key.public_key, self.chain_id), WRAP_NONCE,
                                   wrapped, b"")
        plaintext = unpad(aes_gcm_open(content_key, self.nonce, self.ciphertext, encode(self.header_obj())))
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("the message text is not UTF-8") from None


def seal_message(key: PrivateKey, chain_id: str, to: list[bytes], about: tuple[str, int], text: str, sent_ms: int,
                 *, ephemeral_secret: bytes | None = None, content_key: bytes | None = None,
                 nonce: bytes | None = None) -> Envelope:
    """Encrypt ``text`` to ``to`` and the sender, and sign it; the three random inputs may be given (vectors)."""
    check_chain_id(chain_id)
    plaintext = text.encode("utf-8")
    if len(plaintext) > MAX_TEXT_BYTES:
        raise ValidationError(f"a message holds at most {MAX_TEXT_BYTES} bytes of UTF-8, got {len(plaintext)}")
    if about[0] not in ABOUT_KINDS:
        raise ValidationError(f"a message is about one of {', '.join(ABOUT_KINDS)}, not {about[0]!r}")
    esk = ephemeral_secret if ephemeral_secret is not None else os.urandom(KEY_SIZE)
    ckey = content_key if content_key is not None else os.urandom(KEY_SIZE)
    body_nonce = nonce if nonce is not None else os.urandom(NONCE_SIZE)
    ephemeral = nacl.bindings.crypto_scalarmult_base(esk)
    recipients = sorted(set(to))
    readers = sorted(set(recipients) | {key.public_key})
    keys = tuple((r, aes_gcm_seal(wrap_key(x25519(esk, curve25519_public(r)), ephemeral, r, chain_id), WRAP_NONCE,
                                  ckey, b"")) for r in readers)
    draft = Envelope(chain_id, key.public_key, tuple(recipients), (about[0], about[1]), sent_ms, ephemeral, keys,
                     body_nonce, b"")
    sealed = replace(draft, ciphertext=aes_gcm_seal(ckey, body_nonce, pad(plaintext), encode(draft.header_obj())))
    return replace(sealed, sig=key.sign(sealed.signing_bytes()))


# ---- the read marker --------------------------------------------------------

@dataclass(frozen=True)
class ReadMarker:
    """A reader's signed note that it has read ``ids``, so every node shows them read."""

    chain_id: str
    reader: bytes
    ids: tuple[bytes, ...]
    time_ms: int
    sig: bytes = b""
    v: int = VERSION

    def unsigned_obj(self) -> dict[str, Any]:
        return {"chain_id": self.chain_id, "ids": list(self.ids), "reader": self.reader, "time_ms": self.time_ms,
                "v": self.v}

    def signing_bytes(self) -> bytes:
        return signing_message("message-read", self.chain_id, encode(self.unsigned_obj()))

    def sign(self, key: PrivateKey) -> ReadMarker:
        if key.public_key != self.reader:
            raise ValidationError("the signing key does not match the reader")
        return replace(self, sig=key.sign(self.signing_bytes()))

    def encode(self) -> bytes:
        obj = self.unsigned_obj()
        obj["sig"] = self.sig
        return encode(obj)

    @classmethod
    def decode(cls, data: bytes) -> ReadMarker:
        limit = 64 + MAX_READ_IDS * 35 + 256
        obj = decode(data, limit)
        if not isinstance(obj, dict) or set(obj) != set(READ_FIELDS):
            raise DecodeError(f"a read marker is a map of exactly {', '.join(READ_FIELDS)}")
        return cls(chain_id=_text(obj["chain_id"], "chain_id"), reader=_raw(obj["reader"], "reader", PUBKEY_SIZE),
                   ids=tuple(_raw(i, "ids", 32) for i in _list(obj["ids"], "ids", MAX_READ_IDS)),
                   time_ms=_u64(obj["time_ms"], "time_ms"), sig=_raw(obj["sig"], "sig", SIGNATURE_SIZE),
                   v=_u64(obj["v"], "v"))

    def check(self, chain_id: str) -> None:
        if self.v != VERSION or self.chain_id != chain_id:
            raise ValidationError(f"read marker is not version {VERSION} for chain {chain_id!r}")
        if not 1 <= len(self.ids) <= MAX_READ_IDS or list(self.ids) != sorted(set(self.ids)):
            raise ValidationError(f"a read marker names 1-{MAX_READ_IDS} message ids, sorted and unique")
        if not verify(self.reader, self.signing_bytes(), self.sig):
            raise SignatureError("the read marker's signature does not verify against its reader")


# ---- field checks -----------------------------------------------------------

def _raw(value: Any, name: str, size: int | None = None) -> bytes:
    if not isinstance(value, bytes) or (size is not None and len(value) != size):
        raise DecodeError(f"{name} must be {size if size else 'some'} bytes")
    return value


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise DecodeError(f"{name} must be text")
    return value


def _u64(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= U64_MAX:
        raise DecodeError(f"{name} must be an unsigned 64-bit integer")
    return value


def _list(value: Any, name: str, max_items: int = MAX_TO + 1) -> list[Any]:
    if not isinstance(value, list) or len(value) > max_items:
        raise DecodeError(f"{name} must be a list of at most {max_items} items")
    return value


def _about(value: Any) -> tuple[str, int]:
    if not (isinstance(value, list) and len(value) == 2 and value[0] in ABOUT_KINDS):
        raise DecodeError(f"about must be [kind, id] with kind one of {', '.join(ABOUT_KINDS)}")
    return value[0], _u64(value[1], "about id")


def _key_entry(value: Any) -> tuple[bytes, bytes]:
    if not (isinstance(value, list) and len(value) == 2):
        raise DecodeError("each keys entry is [account, wrapped key]")
    return _raw(value[0], "keys account", PUBKEY_SIZE), _raw(value[1], "wrapped key", WRAPPED_SIZE)
