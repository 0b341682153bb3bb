"""Domain-separated sha256: no two kinds of object can ever share a hash.

``digest(tag, data) = sha256(b"marketnode:" + tag + b":" + data)``; the tags
in use are listed in TAGS and in docs/PROTOCOL.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

HASH_SIZE = 32

TAGS = frozenset(
    {
        "tx", "header", "merkle-leaf", "merkle-node", "merkle-empty", "address",
        "state", "receipt", "evidence", "certificate", "genesis", "handshake", "message",
        "smt-key", "smt-value", "smt-leaf", "smt-node",
    }
)


def digest(tag: str, data: bytes) -> bytes:
    """sha256 of ``data`` under the domain ``tag``."""
    if tag not in TAGS:
        raise ValueError(f"unknown hash tag {tag!r}")
    return hashlib.sha256(b"marketnode:" + tag.encode() + b":" + data).digest()


def hasher(tag: str) -> Callable[[bytes], bytes]:
    """``digest`` with ``tag`` bound once: the prefix is built and checked here, not on every call.

    For hot loops (the state tree hashes ~20 nodes per changed key), where
    the per-call tag check and encoding were a third of the hashing time.
    """
    if tag not in TAGS:
        raise ValueError(f"unknown hash tag {tag!r}")
    prefix = b"marketnode:" + tag.encode() + b":"
    sha256 = hashlib.sha256

    def hash_(data: bytes) -> bytes:
        return sha256(prefix + data).digest()

    return hash_


def signing_message(tag: str, chain_id: str, body: bytes) -> bytes:
    """The exact bytes an ed25519 signature covers.

    ``b"marketnode-sig:" + tag + b":" + chain_id + b":" + body`` where ``body``
    is canonical bytes; tag and chain id keep a signature from being replayed
    on another kind of message or another chain.
    """
    return b"marketnode-sig:" + tag.encode() + b":" + chain_id.encode() + b":" + body
