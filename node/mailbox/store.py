"""The mailbox store: encrypted envelopes by id, an inbox per reader, read flags and an expiry index.

It keeps envelopes exactly as they arrived (ciphertext; the node has no key to
open them) on any ``KV`` backend, and knows nothing of who may send what: the
rules live in node/mailbox/rules.py. Keys (one byte of kind, then fixed-width parts):

- ``m`` id(32)                 → canonical {"raw": envelope, "received_ms", "seq"}
- ``i`` reader(32) seq(8 BE)   → id        a reader's inbox, in arrival order
- ``r`` reader(32) id(32)      → ""        read flag
- ``e`` sent_ms(8 BE) id(32)   → ""        expiry order
- ``a`` seq(8 BE)              → id        arrival order (what a peer pulls after being away)
- ``k`` number(8 BE)           → marker    the latest signed read markers applied, as received (offered too)
- ``p`` peer(32)               → seq(8 BE) the last arrival seq of that peer's mailbox this node has pulled
- ``s``                        → seq(8 BE) the last arrival number

Counters the limits need (messages and bytes per reader, messages per
sender→reader pair, messages per sender and minute of ``sent_ms``) are held in
memory and rebuilt from the ``m`` records when the store opens.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from marketnode.core.encoding import decode_trusted, encode
from marketnode.core.message import Envelope
from marketnode.node.storage.kv import KV, WriteBatch

MINUTE_MS = 60_000
_MSG, _INBOX, _READ, _EXPIRY, _SEQ, _ARRIVAL, _MARKER, _PEER = b"m", b"i", b"r", b"e", b"s", b"a", b"k", b"p"


U64_MAX = 2**64 - 1


def _u64(n: int) -> bytes:
    return n.to_bytes(8, "big")


def _first_after(seq: int) -> bytes | None:
    """The key suffix of the first seq above ``seq``; None when none can exist (``seq`` is the largest u64 or more)."""
    return None if seq >= U64_MAX else _u64(seq + 1)


@dataclass(frozen=True)
class StoredMessage:
    """One envelope as this node holds it; ``seq`` numbers arrivals here (not across nodes)."""

    envelope: Envelope
    raw: bytes
    seq: int
    received_ms: int

    @property
    def id(self) -> bytes:
        return self.envelope.id


class MailboxStore:
    """Envelopes on a KV, with the counters the mailbox limits read."""

    def __init__(self, kv: KV) -> None:
        self.kv = kv
        self.count: Counter[bytes] = Counter()  # messages per reader
        self.unread_count: Counter[bytes] = Counter()  # received messages a reader holds and has not marked read
        self.envelopes = 0  # envelopes held (each once, however many readers)
        self.size: Counter[bytes] = Counter()  # envelope bytes per reader
        self.pairs: Counter[tuple[bytes, bytes]] = Counter()  # messages per (sender, recipient)
        self.minutes: Counter[tuple[bytes, int]] = Counter()  # messages per (sender, sent minute)
        raw_seq = kv.get(_SEQ)
        self.seq = int.from_bytes(raw_seq, "big") if raw_seq else 0
        for _, value in kv.iterate(_MSG):
            message = self._load(value)
            self._count_message(message.envelope, +1)
            for reader in self.holders(message):
                self._count_reader(message, reader, +1, self.is_read(reader, message.id))

    # ---- reads ---------------------------------------------------------------

    def _load(self, value: bytes) -> StoredMessage:
        record = decode_trusted(value)
        return StoredMessage(Envelope.decode(record["raw"]), record["raw"], record["seq"], record["received_ms"])

    def get(self, message_id: bytes) -> StoredMessage | None:
        value = self.kv.get(_MSG + message_id)
        return None if value is None else self._load(value)

    def has(self, message_id: bytes) -> bool:
        return self.kv.get(_MSG + message_id) is not None

    def inbox(self, reader: bytes, after_seq: int = 0) -> Iterator[StoredMessage]:
        """A reader's messages (received and sent) with seq > ``after_seq``, oldest first."""
        prefix, start = _INBOX + reader, _first_after(after_seq)
        if start is None:
            return
        for _, message_id in self.kv.iterate(prefix, prefix + start):
            found = self.get(message_id)
            if found is not None:
                yield found

    def is_read(self, reader: bytes, message_id: bytes) -> bool:
        return self.kv.get(_READ + reader + message_id) is not None

    def unread(self, reader: bytes) -> int:
        """Messages others sent ``reader`` that it holds and has not marked read (kept as a count)."""
        return self.unread_count[reader]

    def arrivals_after(self, after_seq: int, limit: int, max_bytes: int) -> list[StoredMessage]:
        """Up to ``limit`` messages (about ``max_bytes`` at most) that arrived after ``after_seq``, in order."""
        out: list[StoredMessage] = []
        size = 0
        start = _first_after(after_seq)
        if start is None:
            return out
        for _, message_id in self.kv.iterate(_ARRIVAL, _ARRIVAL + start):
            message = self.get(message_id)
            if message is None:
                continue
            if out and (len(out) >= limit or size + len(message.raw) > max_bytes):
                break
            out.append(message)
            size += len(message.raw)
        return out

    def peer_cursor(self, peer: bytes) -> int | None:
        raw = self.kv.get(_PEER + peer)
        return None if raw is None else int.from_bytes(raw, "big")

    def set_peer_cursor(self, peer: bytes, seq: int) -> None:
        batch = WriteBatch()
        batch.put(_PEER + peer, _u64(seq))
        self.kv.write(batch, sync=False)

    def holders(self, message: StoredMessage) -> list[bytes]:
        """The readers whose mailbox still holds ``message`` (a full mailbox may have dropped it)."""
        return [r for r in message.envelope.readers if self._holds(r, message)]

    def _holds(self, reader: bytes, message: StoredMessage) -> bool:
        return self.kv.get(_INBOX + reader + _u64(message.seq)) is not None

    def oldest_of(self, reader: bytes) -> StoredMessage | None:
        return next(self.inbox(reader), None)

    def expired(self, before_ms: int) -> list[bytes]:
        """Ids of messages sent before ``before_ms``."""
        out = []
        for key, _ in self.kv.iterate(_EXPIRY):
            if int.from_bytes(key[1:9], "big") >= before_ms:
                break
            out.append(key[9:])
        return out

    # ---- writes --------------------------------------------------------------

    def add(self, envelope: Envelope, raw: bytes, received_ms: int) -> StoredMessage:
        self.seq += 1
        stored = StoredMessage(envelope, raw, self.seq, received_ms)
        batch = WriteBatch()
        batch.put(_MSG + envelope.id, encode({"raw": raw, "received_ms": received_ms, "seq": self.seq}))
        for reader in envelope.readers:
            batch.put(_INBOX + reader + _u64(self.seq), envelope.id)
        batch.put(_EXPIRY + _u64(envelope.sent_ms) + envelope.id, b"")
        batch.put(_ARRIVAL + _u64(self.seq), envelope.id)
        batch.put(_SEQ, _u64(self.seq))
        self.kv.write(batch, sync=False)  # not consensus data: a crash may lose the last arrivals, peers re-offer
        self._count_message(envelope, +1)
        for reader in envelope.readers:
            self._count_reader(stored, reader, +1, False)
        return stored

    def mark_read(self, reader: bytes, message_ids: list[bytes], marker: bytes | None = None,
                  keep_markers: int = 0) -> int:
        """Flag ``message_ids`` read for ``reader``; keep ``marker`` (its signed bytes) among the latest
        ``keep_markers``, so a peer that was away can be offered it."""
        batch = WriteBatch()
        unread_gone = 0
        for message_id in message_ids:
            if self.is_read(reader, message_id):
                continue
            found = self.get(message_id)
            if found is not None and reader in found.envelope.to and self._holds(reader, found):
                unread_gone += 1
            batch.put(_READ + reader + message_id, b"")
        if not batch.ops:
            return 0
        count = len(batch.ops)
        if marker is not None and keep_markers:
            last = next(self.kv.iterate(_MARKER, reverse=True), None)
            number = int.from_bytes(last[0][1:], "big") + 1 if last else 1
            batch.put(_MARKER + _u64(number), marker)
            if number > keep_markers:
                batch.delete(_MARKER + _u64(number - keep_markers))
        self.kv.write(batch, sync=False)
        self._bump(self.unread_count, reader, -unread_gone)
        return count

    def recent_markers(self, max_bytes: int) -> list[bytes]:
        """The latest kept read markers, about ``max_bytes`` at most, oldest first."""
        out: list[bytes] = []
        size = 0
        for _, value in self.kv.iterate(_MARKER, reverse=True):
            if size + len(value) > max_bytes:
                break
            out.append(value)
            size += len(value)
        return out[::-1]

    def delete(self, message_id: bytes) -> bool:
        """Remove a message for every reader (expiry)."""
        found = self.get(message_id)
        if found is None:
            return False
        self._remove(found, self.holders(found), everywhere=True)
        return True

    def drop_reader(self, message_id: bytes, reader: bytes) -> bool:
        """Remove a message from one reader's mailbox (it is full); the envelope goes once no reader holds it."""
        found = self.get(message_id)
        if found is None:
            return False
        holders = self.holders(found)
        if reader not in holders:
            return False
        self._remove(found, [reader], everywhere=holders == [reader])
        return True

    def _remove(self, message: StoredMessage, readers: list[bytes], everywhere: bool) -> None:
        was_read = {reader: self.is_read(reader, message.id) for reader in readers}
        batch = WriteBatch()
        for reader in readers:
            batch.delete(_INBOX + reader + _u64(message.seq))
            batch.delete(_READ + reader + message.id)
        if everywhere:
            batch.delete(_MSG + message.id)
            batch.delete(_EXPIRY + _u64(message.envelope.sent_ms) + message.id)
            batch.delete(_ARRIVAL + _u64(message.seq))
        self.kv.write(batch, sync=False)
        for reader in readers:
            self._count_reader(message, reader, -1, was_read[reader])
        if everywhere:
            self._count_message(message.envelope, -1)

    @staticmethod
    def _bump(counter: Counter[Any], key: Any, by: int) -> None:
        counter[key] += by
        if counter[key] <= 0:
            del counter[key]

    def _count_reader(self, message: StoredMessage, reader: bytes, sign: int, read: bool) -> None:
        """What one reader's mailbox holds: messages, bytes, unread ones, and messages per sender → recipient."""
        self._bump(self.count, reader, sign)
        self._bump(self.size, reader, sign * len(message.raw))
        if reader in message.envelope.to:
            self._bump(self.pairs, (message.envelope.sender, reader), sign)
            if not read:
                self._bump(self.unread_count, reader, sign)

    def _count_message(self, env: Envelope, sign: int) -> None:
        self.envelopes += sign
        self._bump(self.minutes, (env.sender, env.sent_ms // MINUTE_MS), sign)

    def close(self) -> None:
        self.kv.close()
