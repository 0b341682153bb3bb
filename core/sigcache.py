"""A bounded cache of the chain's signatures already found valid, so that each is verified once.

A validator's vote is checked when it arrives, and the same signature comes
back: inside the commit certificate the next proposal carries as its
``last_cert``, inside the prepared certificate of a ViewChange and again in
the NewView that quotes it, inside evidence. An ed25519 check costs tens of
microseconds; a dictionary lookup, well under one.

Only a successful verification is remembered: a bad signature is checked
again each time it is offered (and the peer offering it is penalised by the
caller), so no input can make the cache answer "valid" for something that
is not. The key is a sha256 over the length-framed (public key, message,
signature), so two different triples cannot share an entry.

The bound: at most ``capacity`` entries, least recently used evicted first,
about 150 bytes each (the 32-byte key and the dictionary's overhead); the
default 4096 is about 0.6 MB. One height costs a replica about 3n + 1
entries in the normal case (a proposal, n PREPAREs, n COMMITs) and n more
per view change, and the re-checks that pay off come within that height or
the next, so a few heights' worth is enough: callers with a large validator
set size it from n (consensus does). An eviction only costs one
re-verification, never a wrong answer, and a peer cannot grow it: memory
stays at the bound whatever arrives.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict

from marketnode.core.keys import verify

DEFAULT_CAPACITY = 4096

__all__ = ["DEFAULT_CAPACITY", "SignatureCache", "verify_signature"]


def _key(public_key: bytes, message: bytes, signature: bytes) -> bytes:
    h = hashlib.sha256(b"marketnode:sigcache:")
    for part in (public_key, message, signature):
        h.update(len(part).to_bytes(4, "big"))
        h.update(part)
    return h.digest()


class SignatureCache:
    """Remembers up to ``capacity`` valid (public key, message, signature) triples; single-threaded.

    ``hits`` and ``misses`` count lookups, for tests and metrics.
    """

    __slots__ = ("_valid", "capacity", "hits", "misses")

    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("a signature cache holds at least one entry")
        self.capacity = capacity
        self._valid: OrderedDict[bytes, None] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._valid)

    def verify(self, public_key: bytes, message: bytes, signature: bytes) -> bool:
        """Whether ``signature`` by ``public_key`` over ``message`` is valid, verifying it only if not seen valid."""
        key = _key(public_key, message, signature)
        if key in self._valid:
            self._valid.move_to_end(key)
            self.hits += 1
            return True
        self.misses += 1
        if not verify(public_key, message, signature):
            return False
        self._valid[key] = None
        while len(self._valid) > self.capacity:
            self._valid.popitem(last=False)
        return True


def verify_signature(public_key: bytes, message: bytes, signature: bytes, cache: SignatureCache | None = None) -> bool:
    """The one check of a vote's, view change's or certificate's signature: through ``cache`` when given."""
    if cache is None:
        return verify(public_key, message, signature)
    return cache.verify(public_key, message, signature)
