"""ed25519 keys (pynacl) and human-readable addresses with a checksum.

An address is the 32-byte public key itself, written for humans as
``"mn1" + base32(pubkey ‖ checksum)`` (RFC 4648 alphabet, lower case, no
padding), checksum = first 4 bytes of ``digest("address", b"mn" + pubkey)``.
Inside state and on the wire, accounts are the raw 32 public-key bytes.
"""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import nacl.bindings
import nacl.exceptions
import nacl.signing

from marketnode.core.errors import ConfigError, ValidationError
from marketnode.core.hashing import digest
from marketnode.core.textfile import read_text

PUBKEY_SIZE = 32
SEED_SIZE = 32
SIGNATURE_SIZE = 64
ADDRESS_HRP = "mn"
_ADDRESS_RE = re.compile(r"\Amn1[a-z2-7]{58}\Z")  # \Z: "$" would let a trailing newline in
CHAIN_ID_RE = re.compile(r"\A[a-z0-9][a-z0-9-]{0,63}\Z")


class PrivateKey:
    """An ed25519 signing key; the 32-byte seed is the only secret."""

    __slots__ = ("_signing_key", "public_key")

    def __init__(self, seed: bytes) -> None:
        if len(seed) != SEED_SIZE:
            raise ValidationError(f"a key seed is {SEED_SIZE} bytes, got {len(seed)}")
        self._signing_key = nacl.signing.SigningKey(seed)
        self.public_key: bytes = bytes(self._signing_key.verify_key)

    @classmethod
    def generate(cls) -> PrivateKey:
        return cls(os.urandom(SEED_SIZE))

    @property
    def seed(self) -> bytes:
        return bytes(self._signing_key)

    @property
    def address(self) -> str:
        return address_from_pubkey(self.public_key)

    def sign(self, message: bytes) -> bytes:
        return self._signing_key.sign(message).signature

    def curve25519_private(self) -> bytes:
        """The X25519 private key matching this key, for opening sealed boxes."""
        return nacl.bindings.crypto_sign_ed25519_sk_to_curve25519(self.seed + self.public_key)

    def save(self, path: Path) -> None:
        """Write the seed as hex to a new file readable by the owner only (0600)."""
        write_secret_file(path, self.seed.hex().encode() + b"\n")

    @classmethod
    def load(cls, path: Path) -> PrivateKey:
        text = read_text(path, "key file", f"key file {path} does not exist").strip()
        try:
            return cls(bytes.fromhex(text))
        except (ValueError, ValidationError) as exc:
            raise ConfigError(f"key file {path} does not hold a 32-byte hex seed: {exc}") from None


def write_secret_file(path: Path, data: bytes) -> None:
    """Create ``path`` with mode 0600 (never readable by others, even briefly)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # a stale tmp file left by a crash keeps its old mode otherwise
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True when ``signature`` is a valid ed25519 signature of ``message``."""
    if len(public_key) != PUBKEY_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + message, public_key)
    except (nacl.exceptions.BadSignatureError, nacl.exceptions.ValueError, ValueError, TypeError):
        return False
    return True


def curve25519_public(public_key: bytes) -> bytes:
    """The X25519 public key for an ed25519 one, to seal data to an account."""
    try:
        return nacl.bindings.crypto_sign_ed25519_pk_to_curve25519(public_key)
    except (nacl.exceptions.RuntimeError, nacl.exceptions.ValueError, ValueError) as exc:
        raise ValidationError(f"not a valid ed25519 public key: {exc}") from None


def _checksum(public_key: bytes) -> bytes:
    return digest("address", ADDRESS_HRP.encode() + public_key)[:4]


def address_from_pubkey(public_key: bytes) -> str:
    if len(public_key) != PUBKEY_SIZE:
        raise ValidationError(f"a public key is {PUBKEY_SIZE} bytes, got {len(public_key)}")
    body = base64.b32encode(public_key + _checksum(public_key)).decode().lower().rstrip("=")
    return ADDRESS_HRP + "1" + body


def pubkey_from_address(address: str) -> bytes:
    """Parse an address; a typo (bad checksum, length, alphabet) is refused."""
    if not isinstance(address, str) or not _ADDRESS_RE.match(address):
        raise ValidationError(f"{address!r} is not a marketnode address (mn1 + 58 base32 chars)")
    raw = base64.b32decode(address[3:].upper() + "======")
    public_key, checksum = raw[:PUBKEY_SIZE], raw[PUBKEY_SIZE:]
    if _checksum(public_key) != checksum:
        raise ValidationError(f"address {address} has a bad checksum (mistyped?)")
    if address_from_pubkey(public_key) != address:
        # The last character carries 2 padding bits; only the spelling with them zero is an address.
        raise ValidationError(f"address {address} is not in canonical form (mistyped last character?)")
    return public_key


def check_chain_id(chain_id: str) -> str:
    if not isinstance(chain_id, str) or not CHAIN_ID_RE.match(chain_id):
        raise ValidationError(f"chain id {chain_id!r} must be 1-64 of a-z, 0-9, '-'")
    return chain_id
