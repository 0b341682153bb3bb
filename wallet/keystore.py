"""Encrypted key files: a key's 32-byte seed sealed under a passphrase.

argon2id (nacl.pwhash) stretches the passphrase with a random salt into a
SecretBox (XSalsa20-Poly1305) key; the file is JSON, written 0600, and names
its address so a wallet can show it without the passphrase. Never writes the
seed in the clear and never asks for the passphrase itself (the CLI does).

File format, version 1::

    {"version": 1, "address": "mn1...",
     "kdf": {"name": "argon2id", "opslimit": 3, "memlimit": 268435456, "salt": hex16},
     "cipher": {"name": "xsalsa20-poly1305", "nonce": hex24, "ciphertext": hex48}}
"""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path
from typing import Any

import nacl.exceptions
import nacl.pwhash
import nacl.secret
import nacl.utils

from marketnode.core.errors import ConfigError, ValidationError
from marketnode.core.jsonable import from_hex
from marketnode.core.keys import PrivateKey, write_secret_file

KEYSTORE_VERSION = 1
PASSPHRASE_ENV = "MARKETNODE_PASSPHRASE"
KDF_NAME = "argon2id"
CIPHER_NAME = "xsalsa20-poly1305"
_argon2id = nacl.pwhash.argon2id
OPSLIMIT = _argon2id.OPSLIMIT_MODERATE
MEMLIMIT = _argon2id.MEMLIMIT_MODERATE
# A file may not ask for more than this: a crafted keystore must not be able
# to make unlocking eat all memory or hours of CPU.
MAX_OPSLIMIT = _argon2id.OPSLIMIT_SENSITIVE
MAX_MEMLIMIT = _argon2id.MEMLIMIT_SENSITIVE
MAX_FILE_BYTES = 4096


class KeystoreError(ConfigError):
    """A keystore file that is missing, malformed or altered."""


class WrongPassphraseError(KeystoreError):
    """The passphrase does not open this keystore (or its ciphertext was altered)."""


def _normalise(passphrase: str) -> bytes:
    """NFC, so the same passphrase typed on another system opens the file."""
    if not isinstance(passphrase, str) or not passphrase:
        raise KeystoreError("a passphrase must be a non-empty string")
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def _box(passphrase: str, salt: bytes, opslimit: int, memlimit: int) -> nacl.secret.SecretBox:
    key = _argon2id.kdf(nacl.secret.SecretBox.KEY_SIZE, _normalise(passphrase), salt,
                        opslimit=opslimit, memlimit=memlimit)
    return nacl.secret.SecretBox(key)


def seal(key: PrivateKey, passphrase: str, *, opslimit: int = OPSLIMIT, memlimit: int = MEMLIMIT) -> dict[str, Any]:
    """The keystore document for ``key``; lower limits are for tests only."""
    salt = nacl.utils.random(_argon2id.SALTBYTES)
    nonce = nacl.utils.random(nacl.secret.SecretBox.NONCE_SIZE)
    box = _box(passphrase, salt, opslimit, memlimit)
    ciphertext = box.encrypt(key.seed, nonce).ciphertext
    return {
        "version": KEYSTORE_VERSION,
        "address": key.address,
        "kdf": {"name": KDF_NAME, "opslimit": opslimit, "memlimit": memlimit, "salt": salt.hex()},
        "cipher": {"name": CIPHER_NAME, "nonce": nonce.hex(), "ciphertext": ciphertext.hex()},
    }


def unseal(doc: Any, passphrase: str) -> PrivateKey:
    """Open a keystore document; WrongPassphraseError or KeystoreError on failure."""
    address, kdf, cipher = _check_document(doc)
    try:
        salt = from_hex(kdf["salt"], "kdf.salt", _argon2id.SALTBYTES)
        nonce = from_hex(cipher["nonce"], "cipher.nonce", nacl.secret.SecretBox.NONCE_SIZE)
        ciphertext = from_hex(cipher["ciphertext"], "cipher.ciphertext", 32 + nacl.secret.SecretBox.MACBYTES)
    except ValidationError as exc:
        raise KeystoreError(f"keystore is malformed: {exc}") from None
    box = _box(passphrase, salt, kdf["opslimit"], kdf["memlimit"])
    try:
        seed = box.decrypt(ciphertext, nonce)
    except nacl.exceptions.CryptoError:
        raise WrongPassphraseError(
            f"wrong passphrase for {address} (or the keystore file was altered)"
        ) from None
    key = PrivateKey(seed)
    if key.address != address:
        raise KeystoreError(f"keystore says {address} but holds the key of {key.address}: the file was altered")
    return key


def _check_document(doc: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    if not isinstance(doc, dict):
        raise KeystoreError("keystore is not a JSON object")
    if doc.get("version") != KEYSTORE_VERSION:
        raise KeystoreError(f"keystore version {doc.get('version')!r} is not supported (expected {KEYSTORE_VERSION})")
    address, kdf, cipher = doc.get("address"), doc.get("kdf"), doc.get("cipher")
    if not isinstance(address, str) or not isinstance(kdf, dict) or not isinstance(cipher, dict):
        raise KeystoreError("keystore needs address, kdf and cipher")
    if kdf.get("name") != KDF_NAME or cipher.get("name") != CIPHER_NAME:
        raise KeystoreError(f"keystore must use {KDF_NAME} and {CIPHER_NAME}")
    ops, mem = kdf.get("opslimit"), kdf.get("memlimit")
    if not (isinstance(ops, int) and _argon2id.OPSLIMIT_MIN <= ops <= MAX_OPSLIMIT):
        raise KeystoreError(f"keystore kdf.opslimit {ops!r} is out of range")
    if not (isinstance(mem, int) and _argon2id.MEMLIMIT_MIN <= mem <= MAX_MEMLIMIT):
        raise KeystoreError(f"keystore kdf.memlimit {mem!r} is out of range")
    return address, kdf, cipher


def save_keystore(path: Path, key: PrivateKey, passphrase: str, *, overwrite: bool = False, **limits: int) -> None:
    """Write ``key`` sealed under ``passphrase`` to ``path`` with mode 0600."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise KeystoreError(f"{path} already exists; refusing to overwrite a key file")
    doc = seal(key, passphrase, **limits)
    write_secret_file(path, (json.dumps(doc, indent=2) + "\n").encode())


def read_keystore(path: Path) -> dict[str, Any]:
    """The keystore document at ``path`` (no passphrase needed)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise KeystoreError(f"keystore {path} does not exist (create one with `marketnode wallet new`)") from None
    if len(raw) > MAX_FILE_BYTES:
        raise KeystoreError(f"keystore {path} is too large to be a keystore")
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise KeystoreError(f"keystore {path} is not JSON: {exc}") from None
    _check_document(doc)
    checked: dict[str, Any] = doc  # _check_document refused anything but an object
    return checked


def load_keystore(path: Path, passphrase: str) -> PrivateKey:
    return unseal(read_keystore(path), passphrase)


def keystore_address(path: Path) -> str:
    """The address a keystore holds, read without the passphrase."""
    address: str = read_keystore(path)["address"]
    return address


def passphrase_from_env() -> str | None:
    """MARKETNODE_PASSPHRASE when set (for scripts and tests); None means: prompt."""
    return os.environ.get(PASSPHRASE_ENV) or None
