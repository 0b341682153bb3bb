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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import DecodeError, StorageError
from core.keys import address_from_pubkey
from node.mailbox import Accepted, Mailbox, MailboxRefused
from node.mailbox_store import MailboxStore, StoredMessage
from node.storage.level import LevelKV
from node.storage.memory import MemoryKV

log = logging.getLogger("marketnode.mailbox")

MAIL_TOPIC, READ_TOPIC = "mail", "mailread"
MAIL_TOPICS = (MAIL_TOPIC, READ_TOPIC)
PRUNE_S = 60.0
PEER_FAULTS = ("malformed", "signature", "invalid", "too_large")  # what an honest peer never forwards


class MailboxService:
    def __init__(self, node: Any, clock_ms: Callable[[], int]) -> None:
        self.node = node
        cfg = node.cfg.mailbox
        self.limits = cfg
        self.store = open_store(node.cfg.data_path / "mailbox")
        self.mailbox = Mailbox(self.limits, node.chain_id, self.store, node.store.state_reader, clock_ms,
                               time.monotonic)
        self.mailbox.listeners.append(self._notify)
        self.mailbox.read_listeners.append(self._notify_read)

    # ---- wallets -------------------------------------------------------------

    def submit(self, raw: bytes) -> Accepted:
        """From a wallet: store, then gossip to every peer."""
        accepted = self.mailbox.accept(raw, from_wallet=True)
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
                return self.mailbox.accept(payload, from_wallet=False).new
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
        """The latest envelopes, then the latest read markers (after the envelopes they name)."""
        for message in self.store.recent(self.limits.offer_on_connect):
            self.node.p2p.send(peer, MAIL_TOPIC, message.raw)
        for marker in self.store.recent_markers():
            self.node.p2p.send(peer, READ_TOPIC, marker)

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
        self.store.close()

    # ---- notifications -------------------------------------------------------

    def _notify(self, message: StoredMessage) -> None:
        hub = getattr(self.node, "rpc_hub", None)
        if hub is not None and hub.count():
            hub.publish("messages", {"event": "message", **self.mailbox.item_json(message, None)},
                        match=list(message.envelope.readers))

    def _notify_read(self, reader: bytes, ids: list[bytes]) -> None:
        hub = getattr(self.node, "rpc_hub", None)
        if hub is not None and hub.count():
            hub.publish("messages", {"event": "read", "reader": address_from_pubkey(reader), "ids": [i.hex() for i in ids]}, match=reader)


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


def attach_mailbox(node: Any, clock_ms: Callable[[], int]) -> MailboxService:
    return MailboxService(node, clock_ms)
