"""The upload authorisation: an account's signature over a content hash and a time.

A node stores an upload only with one of these, so quotas are per account and
nobody fills a node anonymously. Byte layout and test vector: docs/PROTOCOL.md §10.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

from marketnode.core.encoding import encode
from marketnode.core.hashing import HASH_SIZE, signing_message
from marketnode.core.keys import PUBKEY_SIZE, SIGNATURE_SIZE, PrivateKey, verify

UPLOAD_TAG = "content-upload"


def content_hash(data: bytes) -> bytes:
    """A blob's address: plain sha256 of its bytes (a browser can check it with SubtleCrypto)."""
    return hashlib.sha256(data).digest()


@dataclass(frozen=True, slots=True)
class UploadAuth:
    """``uploader`` vouches, at ``time_ms`` (its wall clock), for storing the blob ``hash``."""

    hash: bytes
    uploader: bytes
    time_ms: int
    sig: bytes = b""

    def __post_init__(self) -> None:
        if len(self.hash) != HASH_SIZE or len(self.uploader) != PUBKEY_SIZE:
            raise ValueError("an upload authorisation names a 32-byte hash and a 32-byte account key")
        if not 0 <= self.time_ms < 2**63:
            raise ValueError("time_ms is outside 0..2**63-1")

    def unsigned_obj(self) -> dict[str, object]:
        return {"hash": self.hash, "time_ms": self.time_ms, "uploader": self.uploader}

    def signing_bytes(self, chain_id: str) -> bytes:
        return signing_message(UPLOAD_TAG, chain_id, encode(self.unsigned_obj()))

    def sign(self, key: PrivateKey, chain_id: str) -> UploadAuth:
        return replace(self, sig=key.sign(self.signing_bytes(chain_id)))

    def verify(self, chain_id: str) -> bool:
        return len(self.sig) == SIGNATURE_SIZE and verify(self.uploader, self.signing_bytes(chain_id), self.sig)


def authorise_upload(key: PrivateKey, chain_id: str, data: bytes, time_ms: int) -> UploadAuth:
    """The signed authorisation a wallet sends beside ``data``."""
    return UploadAuth(content_hash(data), key.public_key, time_ms).sign(key, chain_id)
