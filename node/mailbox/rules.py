"""The mailbox: which envelopes a node stores and forwards, under which limits.

``Mailbox.accept`` is the one door for an envelope, from a wallet (RPC) or a
peer (gossip): size, shape and signature (core/message.py), time, who may
write to whom about what (``authorise``, read from the committed chain), the
sender's rate per minute of ``sent_ms``, the per-pair share of a mailbox, and a
node-wide admission rate. It never opens a message: it has no key for one.
Limits: node/config.py ``MailboxSection``, docs/OPERATIONS.md "Mailboxes".
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from marketnode.core.errors import DecodeError, MarketnodeError, ValidationError
from marketnode.core.keys import address_from_pubkey
from marketnode.core.message import Envelope, ReadMarker
from marketnode.market import keys, store
from marketnode.market.accounts import account_record
from marketnode.node.config import MailboxSection as MailboxLimits
from marketnode.node.mailbox.store import MINUTE_MS, MailboxStore, StoredMessage

log = logging.getLogger("marketnode.mailbox")

ARBITER_STATUSES = ("disputed", "resolved")


class StateReads(Protocol):
    """The committed state as the rules read it (market/ reads through ``get`` only)."""

    def get(self, key: bytes) -> bytes | None: ...


class MailboxRefused(ValidationError):
    """An envelope or read marker the node will not store; ``reason`` is a stable word for RPC and logs."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Accepted:
    message: StoredMessage
    new: bool


def authorise(state: Any, env: Envelope) -> None:
    """Who may write to whom: the parties of an order (its arbiter once disputed), or about a listing,
    anyone to its seller and the seller to anyone. Every sender is a registered account."""
    if account_record(state, env.sender) is None:
        raise MailboxRefused("unauthorised", "the sender has not registered an account")
    kind, number = env.about
    if kind == "order":
        order = store.load(state, keys.order(number))
        if order is None:
            raise MailboxRefused("unauthorised", f"no order {number}")
        parties = {order["buyer"], order["seller"]}
        if order["status"] in ARBITER_STATUSES or order.get("dispute_by") is not None:
            parties.add(order["arbiter"])
        if env.sender not in parties or not set(env.to) <= parties:
            raise MailboxRefused("unauthorised", f"only the buyer, the seller and (in a dispute) the arbiter of "
                                 f"order {number} write to each other about it")
        return
    listing = store.load(state, keys.listing(number))
    if listing is None:
        raise MailboxRefused("unauthorised", f"no listing {number}")
    seller = listing["seller"]
    if env.sender != seller and list(env.to) != [seller]:
        raise MailboxRefused("unauthorised", f"a question about listing {number} goes to its seller only")


class _Bucket:
    """A token bucket on a caller's clock (seconds)."""

    def __init__(self, rate_per_s: float, burst: float) -> None:
        self.rate, self.burst, self.tokens = rate_per_s, burst, burst
        self.at: float | None = None

    def take(self, now_s: float) -> bool:
        if self.at is not None:
            self.tokens = min(self.burst, self.tokens + (now_s - self.at) * self.rate)
        self.at = now_s
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Mailbox:
    """Accepts, stores, expires and lists envelopes; tells ``listeners`` of each new one."""

    def __init__(self, limits: MailboxLimits, chain_id: str, mailbox_store: MailboxStore,
                 state: Callable[[], StateReads], clock_ms: Callable[[], int], mono_s: Callable[[], float]) -> None:
        self.limits = limits
        self.chain_id = chain_id
        self.store = mailbox_store
        self.state = state
        self.clock_ms = clock_ms
        self.mono_s = mono_s
        self.listeners: list[Callable[[StoredMessage], None]] = []
        self.read_listeners: list[Callable[[bytes, list[bytes]], None]] = []
        self._admission = _Bucket(limits.accept_per_s, limits.accept_per_s)
        self.refused: dict[str, int] = {}

    # ---- the door --------------------------------------------------------------

    def accept(self, raw: bytes, catch_up: bool = False) -> Accepted:
        """Store ``raw`` if every rule holds; raise MailboxRefused (with a reason) otherwise.

        A live envelope (from a wallet, or gossiped as it spreads) was sent just now: its ``sent_ms`` is
        within ``max_clock_skew_ms`` of this node's clock, and it counts towards the node-wide admission
        rate. ``catch_up=True`` is for envelopes this node pulled from a peer after being away: any age within
        retention, and no admission rate (they come in bounded rounds this node asked for, and must not be
        lost to the rate that guards against floods pushed at it).
        """
        try:
            return self._accept(raw, catch_up)
        except MailboxRefused as exc:
            self.refused[exc.reason] = self.refused.get(exc.reason, 0) + 1
            raise

    def _accept(self, raw: bytes, catch_up: bool) -> Accepted:
        lim = self.limits
        if not isinstance(raw, bytes) or len(raw) > lim.max_envelope_bytes:
            raise MailboxRefused("too_large", f"an envelope is at most {lim.max_envelope_bytes} bytes on this node, "
                                 f"got {len(raw)}")
        try:
            env = Envelope.decode(raw, lim.max_envelope_bytes)
            env.check(self.chain_id)
        except DecodeError as exc:
            raise MailboxRefused("malformed", f"not a message envelope: {exc}") from None
        except ValidationError as exc:
            reason = "signature" if "signature" in str(exc) else "invalid"
            raise MailboxRefused(reason, f"envelope refused: {exc}") from None
        existing = self.store.get(env.id)
        if existing is not None:
            return Accepted(existing, False)
        now = self.clock_ms()
        self._check_time(env, now, catch_up)
        authorise(self.state(), env)
        self._check_rates(env)
        if not catch_up and not self._admission.take(self.mono_s()):
            raise MailboxRefused("busy", f"this node admits at most {lim.accept_per_s} messages a second; retry soon")
        for reader in env.readers:
            self._make_room(reader, len(raw))
        stored = self.store.add(env, raw, now)
        for listener in self.listeners:
            try:
                listener(stored)
            except Exception:
                log.exception("a mailbox listener failed")
        return Accepted(stored, True)

    def _check_time(self, env: Envelope, now: int, catch_up: bool) -> None:
        lim = self.limits
        if env.sent_ms > now + lim.max_clock_skew_ms:
            raise MailboxRefused("clock", f"sent_ms {env.sent_ms} is more than {lim.max_clock_skew_ms} ms ahead of "
                                 "this node's clock")
        if env.sent_ms < now - lim.retention_s * 1000:
            raise MailboxRefused("expired", f"the message is older than this node keeps messages "
                                 f"({lim.retention_s} s)")
        if not catch_up and env.sent_ms < now - lim.max_clock_skew_ms:
            raise MailboxRefused("clock", f"a new message's sent_ms is within {lim.max_clock_skew_ms} ms of now; "
                                 "is the sender's clock right?")

    def _check_rates(self, env: Envelope) -> None:
        """Counted on sent_ms, not on arrival: every node reaches the same verdict whenever the message arrives."""
        lim = self.limits
        minute = env.sent_ms // MINUTE_MS
        if self.store.minutes[(env.sender, minute)] >= lim.sender_per_minute:
            raise MailboxRefused("rate", f"a sender sends at most {lim.sender_per_minute} messages a minute; "
                                 "wait and send again")
        for recipient in env.to:
            if self.store.pairs[(env.sender, recipient)] >= lim.max_per_pair:
                raise MailboxRefused("pair_full", f"{lim.max_per_pair} messages from this sender already wait in "
                                     "a recipient's mailbox")

    def _make_room(self, reader: bytes, size: int) -> None:
        """A full mailbox drops its oldest message, for this reader only (docs/OPERATIONS.md): new mail is never
        refused for it, and the other readers keep their copy."""
        lim = self.limits
        if size > lim.max_bytes_per_mailbox:
            raise MailboxRefused("too_large", "the envelope is larger than a whole mailbox on this node")
        while (self.store.count[reader] >= lim.max_messages_per_mailbox
               or self.store.size[reader] + size > lim.max_bytes_per_mailbox):
            oldest = self.store.oldest_of(reader)
            if oldest is None:
                return
            self.store.drop_reader(oldest.id, reader)

    # ---- read markers ------------------------------------------------------------

    def mark_read(self, raw: bytes) -> list[bytes]:
        """Apply a signed read marker; return the ids newly marked (the reader must be a reader of each)."""
        try:
            marker = ReadMarker.decode(raw)
            marker.check(self.chain_id)
        except MarketnodeError as exc:
            raise MailboxRefused("invalid", f"read marker refused: {exc}") from None
        fresh = []
        for message_id in marker.ids:
            found = self.store.get(message_id)
            if found is None or marker.reader not in found.envelope.readers:
                continue
            if not self.store.is_read(marker.reader, message_id):
                fresh.append(message_id)
        self.store.mark_read(marker.reader, fresh, raw, self.limits.offer_on_connect)
        if fresh:
            for listener in self.read_listeners:
                listener(marker.reader, fresh)
        return fresh

    # ---- upkeep ------------------------------------------------------------------

    def prune(self) -> int:
        """Drop messages past retention; return how many."""
        gone = 0
        for message_id in self.store.expired(self.clock_ms() - self.limits.retention_s * 1000):
            gone += self.store.delete(message_id)
        return gone

    def item_json(self, message: StoredMessage, reader: bytes | None) -> dict[str, Any]:
        env = message.envelope
        return {
            "id": env.id.hex(), "seq": message.seq, "sender": address_from_pubkey(env.sender),
            "to": [address_from_pubkey(a) for a in env.to], "about": {"kind": env.about[0], "id": env.about[1]},
            "sent_ms": env.sent_ms, "received_ms": message.received_ms, "size": len(message.raw),
            "direction": None if reader is None else ("out" if env.sender == reader else "in"),
            "read": None if reader is None else (env.sender == reader or self.store.is_read(reader, env.id)),
            "envelope": message.raw.hex(),
        }
