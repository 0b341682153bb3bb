"""Key files the browser wallet can read: the same seed, sealed with what WebCrypto has.

The CLI keystore (wallet/keystore.py) uses argon2id and XSalsa20-Poly1305,
which a browser does not offer; the browser keeps its key with PBKDF2 and
AES-GCM, which Python's standard library does not offer. This exchange format
uses only PBKDF2-HMAC-SHA256 and HMAC-SHA256, which both have: the
passphrase is stretched into an encryption key and a MAC key; the 32-byte
seed is XORed with ``HMAC(enc_key, iv)`` (a pseudo-random pad, used once per
random iv) and the result authenticated with ``HMAC(mac_key, ...)``
(encrypt-then-MAC). ``node/web/static/keyfile.js`` is the browser's side.

File format, version 1 (JSON, written 0600)::

    {"format": "marketnode-keyfile", "version": 1, "address": "mn1...",
     "kdf": {"name": "PBKDF2-HMAC-SHA256", "iterations": 310000, "salt": hex16},
     "cipher": {"name": "HMAC-SHA256-pad", "iv": hex16}, "ciphertext": hex32, "mac": hex32}

The MAC covers ``"marketnode-keyfile:v1:" + address + ":" + iv + ciphertext``, so neither the
address shown nor the bytes can be changed unnoticed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import unicodedata
from pathlib import Path
from typing import Any

from marketnode.core.errors import ConfigError
from marketnode.core.keys import PrivateKey, write_secret_file

FORMAT = "marketnode-keyfile"
VERSION = 1
ITERATIONS = 310_000  # what the browser wallet uses for its own storage
MIN_ITERATIONS = 100_000
MAX_ITERATIONS = 10_000_000  # a crafted file must not make opening it take hours
MAX_FILE_BYTES = 4096


class KeyFileError(ConfigError):
    """A key file that is malformed, altered, or opened with the wrong passphrase."""


def _keys(passphrase: str, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    if not isinstance(passphrase, str) or not passphrase:
        raise KeyFileError("a passphrase must be a non-empty string")
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    derived = hashlib.pbkdf2_hmac("sha256", secret, salt, iterations, dklen=64)
    return derived[:32], derived[32:]


def _mac(mac_key: bytes, address: str, iv: bytes, ciphertext: bytes) -> bytes:
    message = f"{FORMAT}:v{VERSION}:{address}:".encode() + iv + ciphertext
    return hmac.new(mac_key, message, hashlib.sha256).digest()


def seal_keyfile(key: PrivateKey, passphrase: str, *, iterations: int = ITERATIONS, salt: bytes | None = None,
                 iv: bytes | None = None) -> dict[str, Any]:
    """The key file document for ``key`` (``salt``/``iv`` only for test vectors)."""
    salt = os.urandom(16) if salt is None else salt
    iv = os.urandom(16) if iv is None else iv
    enc_key, mac_key = _keys(passphrase, salt, iterations)
    pad = hmac.new(enc_key, iv, hashlib.sha256).digest()
    ciphertext = bytes(a ^ b for a, b in zip(key.seed, pad, strict=True))
    return {"format": FORMAT, "version": VERSION, "address": key.address,
            "kdf": {"name": "PBKDF2-HMAC-SHA256", "iterations": iterations, "salt": salt.hex()},
            "cipher": {"name": "HMAC-SHA256-pad", "iv": iv.hex()}, "ciphertext": ciphertext.hex(),
            "mac": _mac(mac_key, key.address, iv, ciphertext).hex()}


def open_keyfile(doc: Any, passphrase: str) -> PrivateKey:
    """The key in a key file document; KeyFileError when it is malformed, altered or the passphrase is wrong."""
    try:
        if doc["format"] != FORMAT or doc["version"] != VERSION:
            raise KeyFileError(f"not a {FORMAT} version {VERSION} file")
        iterations = int(doc["kdf"]["iterations"])
        salt, iv = bytes.fromhex(doc["kdf"]["salt"]), bytes.fromhex(doc["cipher"]["iv"])
        ciphertext, mac = bytes.fromhex(doc["ciphertext"]), bytes.fromhex(doc["mac"])
        address = str(doc["address"])
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise KeyFileError(f"a malformed key file: {exc!r}") from None
    if not MIN_ITERATIONS <= iterations <= MAX_ITERATIONS:
        raise KeyFileError(f"key file asks for {iterations} PBKDF2 iterations (allowed {MIN_ITERATIONS}.."
                           f"{MAX_ITERATIONS})")
    if len(salt) != 16 or len(iv) != 16 or len(ciphertext) != 32 or len(mac) != 32:
        raise KeyFileError("a malformed key file: wrong field lengths")
    enc_key, mac_key = _keys(passphrase, salt, iterations)
    if not hmac.compare_digest(mac, _mac(mac_key, address, iv, ciphertext)):
        raise KeyFileError("wrong passphrase (or the key file was altered)")
    pad = hmac.new(enc_key, iv, hashlib.sha256).digest()
    key = PrivateKey(bytes(a ^ b for a, b in zip(ciphertext, pad, strict=True)))
    if key.address != address:
        raise KeyFileError("the key file's address does not match its key")
    return key


def write_keyfile(path: Path, key: PrivateKey, passphrase: str, overwrite: bool = False) -> None:
    if path.exists() and not overwrite:
        raise KeyFileError(f"{path} exists; choose another file")
    write_secret_file(path, (json.dumps(seal_keyfile(key, passphrase), indent=2) + "\n").encode())


def read_keyfile(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} does not exist") from None
    except OSError as exc:
        raise KeyFileError(f"cannot read key file {path}: {exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise KeyFileError(f"{path} is {len(raw)} bytes; a key file is under {MAX_FILE_BYTES}")
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise KeyFileError(f"{path} is not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise KeyFileError(f"{path} is not a key file: a JSON object")
    return doc
