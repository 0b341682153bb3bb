"""The mailbox on a running node: its store beside the chain, gossip in and out, live notifications, expiry.

Envelopes travel on the p2p relay topic ``mail`` and read markers on
``mailread`` (docs/P2P.md): a node forwards one only after storing it, so a
peer is never penalised for another's bad envelope. A new peer is offered the
latest envelopes, so a node that was down catches up on what it missed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from typing import Any

from marketnode.core.encoding import decode as decode_value
from marketnode.core.encoding import encode as encode_value
from marketnode.core.errors import DecodeError, MarketnodeError, StorageError
from marketnode.core.keys import address_from_pubkey
from marketnode.node.boundary import ClockMs, ServiceHost
from marketnode.node.mailbox.rules import Accepted, Mailbox, MailboxRefused
from marketnode.node.mailbox.store import MailboxStore, StoredMessage
from marketnode.node.rpc.subscriptions import SubscriptionHub
from marketnode.node.storage.level import LevelKV
from marketnode.node.storage.memory import MemoryKV

log = logging.getLogger("marketnode.mailbox")

MAIL_TOPIC, READ_TOPIC, SYNC_TOPIC = "mail", "mailread", "mailsync"
MAIL_TOPICS = (MAIL_TOPIC, READ_TOPIC)
SYNC_BATCH = 256  # envelopes per catch-up answer
SYNC_BYTES = 1024 * 1024  # and about this many bytes
SYNC_ROUNDS = 64  # answers pulled from one peer per connection
SYNC_MARKER_BYTES = 256 * 1024  # read markers in the last answer of a pull
SYNC_TIMEOUT_S = 5.0
PRUNE_S = 60.0
PEER_FAULTS = ("malformed", "signature", "invalid", "too_large")  # what an honest peer never forwards


class MailboxService:
    def __init__(self, node: ServiceHost, clock_ms: ClockMs, hub: SubscriptionHub) -> None:
        self.node = node
        self.hub = hub  # live notifications to wallets subscribed to "messages"
        cfg = node.cfg.mailbox
        self.limits = cfg
        self.store = open_store(node.cfg.data_path / "mailbox")
        self.mailbox = Mailbox(self.limits, node.chain_id, self.store, node.store.state_reader, clock_ms,
                               time.monotonic)
        self.mailbox.listeners.append(self._notify)
        self.mailbox.read_listeners.append(self._notify_read)
        self._syncs: dict[bytes, asyncio.Task[int]] = {}

    # ---- wallets -------------------------------------------------------------

    def submit(self, raw: bytes) -> Accepted:
        """From a wallet: store, then gossip to every peer."""
        accepted = self.mailbox.accept(raw)
        if accepted.new:
            self.node.p2p.broadcast(MAIL_TOPIC, raw)
        return accepted

    def mark_read(self, raw: bytes) -> list[bytes]:
        fresh = self.mailbox.mark_read(raw)
        if fresh:
            self.node.p2p.broadcast(READ_TOPIC, raw)
        return fresh

    # ---- peers ---------------------------------------------------------------

    def on_gossip(self, peer: bytes, topic: str, payload: bytes) -> bool:
        """True when the envelope or marker was new here (the p2p host then relays it)."""
        try:
            if topic == MAIL_TOPIC:
                return self.mailbox.accept(payload).new
            return bool(self.mailbox.mark_read(payload))
        except MailboxRefused as exc:
            if exc.reason in PEER_FAULTS:
                self.node.p2p.penalize(peer, 5, f"gossiped a bad {topic}: {exc}")
            else:
                log.debug("peer %s %s refused: %s", peer.hex()[:12], topic, exc)
            return False
        except StorageError:
            log.exception("mailbox store failed on a gossiped %s", topic)
            return False

    def offer_to(self, peer: bytes) -> None:
        """On connect: pull what arrived at the peer since we last pulled from it, then its latest read
        markers (the peer pulls from us alike)."""
        if peer not in self._syncs:
            task = asyncio.get_running_loop().create_task(self.pull_from(peer))
            self._syncs[peer] = task
            task.add_done_callback(lambda _task: self._syncs.pop(peer, None))

    async def pull_from(self, peer: bytes) -> int:
        """Ask ``peer`` for the envelopes that arrived there after our cursor for it; return how many were new.

        The cursor is the peer's own arrival number, kept here per peer; a first contact starts at the
        peer's latest ``offer_on_connect``. A peer whose numbers went back (its store was reset) is read again
        from its latest. Bad bytes in an answer cost the peer points and end the pull."""
        cursor = self.store.peer_cursor(peer)
        new = 0
        for _ in range(SYNC_ROUNDS):
            try:
                answer = decode_value(await self.node.p2p.request(peer, SYNC_TOPIC, encode_value({"after": cursor}),
                                                                  SYNC_TIMEOUT_S), SYNC_BYTES + SYNC_MARKER_BYTES + 64 * 1024)
                items, head, markers = _sync_answer(answer)
            except (MarketnodeError, TimeoutError) as exc:
                if isinstance(exc, DecodeError):
                    self.node.p2p.penalize(peer, 10, f"bad mailsync answer: {exc}")
                log.debug("mail pull from %s stopped: %s", peer.hex()[:12], exc)
                return new
            for index, (seq, raw) in enumerate(items):
                if index and index % 64 == 0:
                    await asyncio.sleep(0)
                try:
                    new += self.mailbox.accept(raw, catch_up=True).new
                except MailboxRefused as exc:
                    if exc.reason in PEER_FAULTS:
                        self.node.p2p.penalize(peer, 5, f"sent a bad envelope in mailsync: {exc}")
                        return new
                cursor = seq
            for marker in markers:  # the last answer: after the envelopes they name
                try:
                    self.mailbox.mark_read(marker)
                except MailboxRefused as exc:
                    self.node.p2p.penalize(peer, 5, f"sent a bad read marker in mailsync: {exc}")
                    return new
            if not items:  # caught up (or the peer's numbers went back and it holds nothing newer)
                self.store.set_peer_cursor(peer, head if cursor is None or cursor > head else cursor)
                return new
            cursor = items[-1][0]  # every envelope of the answer was taken (a bad one ended the pull above)
            self.store.set_peer_cursor(peer, cursor)
            if cursor >= head:
                return new
        return new

    def serve_sync(self, payload: bytes) -> bytes:
        """Answer a peer's mailsync: envelopes after its cursor (or our latest, for a new or lost cursor)."""
        request = decode_value(payload, 256)
        after = request.get("after") if isinstance(request, dict) else None
        head = self.store.seq
        if not isinstance(after, int) or isinstance(after, bool) or after < 0 or after > head:
            after = max(0, head - self.limits.offer_on_connect)
        items = self.store.arrivals_after(after, SYNC_BATCH, SYNC_BYTES)
        last = not items or items[-1].seq >= head
        markers = self.store.recent_markers(SYNC_MARKER_BYTES) if last else []
        return encode_value({"envelopes": [[m.seq, m.raw] for m in items], "head": head, "markers": markers})

    # ---- upkeep --------------------------------------------------------------

    async def run(self) -> None:
        while True:
            await asyncio.sleep(PRUNE_S)
            try:
                gone = self.mailbox.prune()
            except StorageError:
                log.exception("mailbox expiry failed")
                continue
            if gone:
                log.info("mailbox: %d messages past retention dropped", gone)

    def close(self) -> None:
        for task in list(self._syncs.values()):
            task.cancel()
        self.store.close()

    # ---- notifications -------------------------------------------------------

    def _notify(self, message: StoredMessage) -> None:
        hub = self.hub
        if hub.count():
            hub.publish("messages", {"event": "message", **self.mailbox.item_json(message, None)},
                        match=list(message.envelope.readers))

    def _notify_read(self, reader: bytes, ids: list[bytes]) -> None:
        hub = self.hub
        if hub.count():
            hub.publish("messages", {"event": "read", "reader": address_from_pubkey(reader), "ids": [i.hex() for i in ids]}, match=reader)


def _sync_answer(answer: Any) -> tuple[list[tuple[int, bytes]], int, list[bytes]]:
    if not (isinstance(answer, dict) and isinstance(answer.get("envelopes"), list) and isinstance(answer.get("head"), int)
            and isinstance(answer.get("markers"), list) and all(isinstance(m, bytes) for m in answer["markers"])):
        raise DecodeError("a mailsync answer is {envelopes: [[seq, envelope]], head, markers: [read marker]}")
    items = []
    previous = -1
    for item in answer["envelopes"][:SYNC_BATCH]:
        if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], int) and isinstance(item[1], bytes)):
            raise DecodeError("a mailsync entry is [seq, envelope bytes]")
        if item[0] <= previous or item[0] > answer["head"]:
            raise DecodeError("mailsync entries are in rising seq order, up to head")
        previous = item[0]
        items.append((item[0], item[1]))
    return items, answer["head"], answer["markers"]


def open_store(path: Path) -> MailboxStore:
    """The mailbox store at ``path``; a damaged one is set aside and a fresh one opened, and if even that fails,
    one in memory: messages are not consensus data, and a mailbox must never keep a node from starting."""
    try:
        return MailboxStore(LevelKV(path))
    except (StorageError, DecodeError, KeyError, TypeError, ValueError) as exc:
        aside = path.with_name(f"{path.name}.damaged-{int(time.time())}")
        log.error("mailbox store %s cannot be used (%s); moved to %s, starting an empty one (peers re-offer "
                  "recent messages)", path, exc, aside)
    try:
        if path.exists():
            os.replace(path, aside)
        return MailboxStore(LevelKV(path))
    except (OSError, StorageError) as exc:
        log.error("cannot create a mailbox store at %s (%s); keeping messages in memory until restart", path, exc)
        return MailboxStore(MemoryKV())


def attach_mailbox(node: ServiceHost, clock_ms: ClockMs, hub: SubscriptionHub) -> MailboxService:
    return MailboxService(node, clock_ms, hub)
