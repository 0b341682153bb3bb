"""Shared helpers for the p2p tests: hosts on ephemeral loopback ports and a raw peer (waits: tests/waiting.py)."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field, replace
from typing import Any

from waiting import wait_for_async

from marketnode.core.keys import PrivateKey
from marketnode.p2p.config import P2PConfig
from marketnode.p2p.host import P2PHost

CHAIN = "test-chain"


def free_ports(count: int) -> list[int]:
    """Distinct ports that were free a moment ago, for hosts that must name themselves or each other as seeds."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe_socket in sockets:
            probe_socket.bind(("127.0.0.1", 0))
        return [int(probe_socket.getsockname()[1]) for probe_socket in sockets]
    finally:
        for probe_socket in sockets:
            probe_socket.close()


def fast_config(**overrides: Any) -> P2PConfig:
    """A config tuned for tests: ephemeral port, quick reconnects, short timeouts."""
    base = P2PConfig(
        chain_id=CHAIN,
        listen_port=0,
        reconnect_min_ms=20,
        reconnect_max_ms=200,
        handshake_timeout_s=2.0,
        pex_interval_s=0.2,
        ban_seconds=30.0,
    )
    return replace(base, **overrides)


@dataclass
class Inbox:
    """Records what a host delivered, in order."""

    messages: list[tuple[bytes, str, bytes]] = field(default_factory=list)
    verdict: bool | None = None

    def __call__(self, peer: bytes, topic: str, payload: bytes) -> bool | None:
        self.messages.append((peer, topic, payload))
        return self.verdict

    def payloads(self, topic: str | None = None) -> list[bytes]:
        return [p for _, t, p in self.messages if topic is None or t == topic]


@dataclass
class Node:
    host: P2PHost
    inbox: Inbox
    key: PrivateKey

    @property
    def pubkey(self) -> bytes:
        return self.key.public_key

    def connected_to(self, other: Node) -> bool:
        return any(p.pubkey == other.pubkey for p in self.host.peers())


class Network:
    """Starts hosts and stops every one of them at the end of a test."""

    def __init__(self) -> None:
        self.nodes: list[Node] = []

    async def start(self, key: PrivateKey | None = None, on_request: Any = None, **config: Any) -> Node:
        key = key or PrivateKey.generate()
        inbox = Inbox()
        host = P2PHost(fast_config(**config), key, inbox, on_request=on_request)
        await host.start()
        node = Node(host, inbox, key)
        self.nodes.append(node)
        return node

    async def pair(self, **b_config: Any) -> tuple[Node, Node]:
        """b listens (with ``b_config``), a dials it; returns (a, b) once both see the link."""
        b = await self.start(**b_config)
        a = await self.start(seeds=(seed_of(b),))
        await wait_for_async(lambda: a.connected_to(b) and b.connected_to(a), what="a and b connected")
        return a, b

    async def stop_all(self) -> None:
        await asyncio.gather(*(n.host.stop() for n in self.nodes))


def seed_of(node: Node, with_key: bool = False) -> str:
    address = node.host.listen_address
    return f"{node.pubkey.hex()}@{address}" if with_key else address
