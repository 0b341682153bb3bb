"""Where each p2p topic goes: consensus to the driver, txs to gossip, content, mail, sync and snapshots.

The p2p host carries opaque topics (p2p/ knows nothing of what they mean);
these three handlers are the one table that says which component answers
each, and what a peer that sends an unknown topic costs.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from marketnode.consensus.messages import decode_message
from marketnode.core.errors import DecodeError
from marketnode.node.chain.driver import CONSENSUS_TOPIC, ConsensusDriver, Received
from marketnode.node.chain.sync import Syncer, serve_blocks, serve_status
from marketnode.node.content.service import ContentService
from marketnode.node.mailbox.service import MAIL_TOPICS, SYNC_TOPIC, MailboxService
from marketnode.node.mempool.gossip import TOPIC as TX_TOPIC
from marketnode.node.mempool.gossip import WANT_TOPIC, TxGossip
from marketnode.node.snapshot.offers import TOPICS as SNAPSHOT_TOPICS
from marketnode.node.snapshot.offers import SnapshotOffers
from marketnode.node.storage.chainstore import ChainStore
from marketnode.p2p.host import P2PHost


class RoutedNode(Protocol):
    """The components a peer's message or request can reach."""

    @property
    def p2p(self) -> P2PHost: ...
    @property
    def store(self) -> ChainStore: ...
    @property
    def driver(self) -> ConsensusDriver: ...
    @property
    def gossip(self) -> TxGossip: ...
    @property
    def syncer(self) -> Syncer: ...
    @property
    def snapshots(self) -> SnapshotOffers: ...
    @property
    def content(self) -> ContentService: ...
    @property
    def mailbox(self) -> MailboxService: ...


async def on_message(node: RoutedNode, peer: bytes, topic: str, payload: bytes) -> bool:
    if topic == CONSENSUS_TOPIC:
        try:
            msg = decode_message(payload)
        except DecodeError as exc:
            node.p2p.penalize(peer, 10, f"undecodable consensus message: {exc}")
            return False
        node.driver.post(Received(peer, msg))
        return True
    if topic == TX_TOPIC:
        return await node.gossip.on_batch(peer, payload)
    if topic in node.content.TOPICS:
        try:
            return node.content.on_message(peer, topic, payload)
        except DecodeError as exc:
            node.p2p.penalize(peer, 5, f"bad {topic} message: {exc}")
            return False
    if topic in MAIL_TOPICS:
        return node.mailbox.on_gossip(peer, topic, payload)
    node.p2p.penalize(peer, 5, f"unknown topic {topic!r}")
    return False


async def on_request(node: RoutedNode, peer: bytes, topic: str, payload: bytes) -> bytes:
    if topic == "status":
        return serve_status(node.store)
    if topic == "blocks":
        return serve_blocks(node.store, payload)
    if topic in SNAPSHOT_TOPICS:
        height = node.store.head().height  # type: ignore[union-attr]
        if topic != "snapshot_chunk":  # a manifest is one walk of the state: not on the event loop
            await asyncio.to_thread(node.snapshots.prepare, height)
        return node.snapshots.serve(topic, payload, height)
    if topic == WANT_TOPIC:
        return node.gossip.serve_want(payload)
    if topic in node.content.TOPICS:
        return node.content.serve(payload)
    if topic == SYNC_TOPIC:
        return node.mailbox.serve_sync(payload)
    raise DecodeError(f"unknown request topic {topic!r}")


async def on_peer_event(node: RoutedNode, peer: bytes, connected: bool) -> None:
    if connected:
        node.syncer.request_now()
        node.content.fetcher.peer_joined()
        node.gossip.offer_to(peer)
        node.mailbox.offer_to(peer)
