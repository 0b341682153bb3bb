"""node_health is not ok while strangers fill the peer table and no validator is linked (issue 13 item 2).

Before, a node whose every slot was held by strangers reported `ok`: "peers"
counted any key. The handler is the real registered method; the node it
reads is a stand-in with exactly the fields node_health uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marketnode.node.api import node_methods
from marketnode.node.rpc.registry import Registry
from marketnode.p2p.peer import PeerInfo


def peer(n: int, reserved: bool) -> PeerInfo:
    return PeerInfo(bytes([n]) * 32, None, "inbound", 0.0, 0.0, 0, 0, 0, 0, 0, reserved=reserved)


@dataclass
class FakeP2P:
    links: list[PeerInfo]

    def peers(self) -> list[PeerInfo]:
        return self.links


@dataclass
class FakeIndex:
    def health(self) -> dict[str, Any]:
        return {"ok": True, "height": 5, "reason": "", "retry_at": None}


class FakeFollower:
    def fresh(self) -> None:
        """An index already at the head: nothing to catch up."""


@dataclass
class FakeKV:
    fault: str | None = None  # a healthy disk


@dataclass
class FakeStore:
    kv: FakeKV = field(default_factory=FakeKV)


@dataclass
class FakeNode:
    p2p: FakeP2P
    store: FakeStore = field(default_factory=FakeStore)
    validators: list[bytes] = field(default_factory=lambda: [b"\x01" * 32, b"\x02" * 32, b"\x03" * 32])
    query_index: FakeIndex = field(default_factory=FakeIndex)
    query_follower: FakeFollower = field(default_factory=FakeFollower)

    def status(self) -> dict[str, Any]:
        return {"syncing": False, "sync_target": 0, "peers": len(self.p2p.peers()), "height": 5}


async def health(links: list[PeerInfo]) -> dict[str, Any]:
    registry = Registry()
    node_methods.register(registry)
    method = registry.get("node_health")
    assert method is not None

    class Ctx:
        node = FakeNode(FakeP2P(links))

    return await method.handler(Ctx())


async def test_strangers_only_is_not_healthy():
    result = await health([peer(9, False), peer(10, False)])
    assert not result["ok"] and result["reasons"] == ["no validator among its 2 peers"]


async def test_one_validator_link_is_enough():
    assert (await health([peer(9, False), peer(2, True)]))["ok"]


async def test_no_peers_says_so_once():
    assert (await health([]))["reasons"] == ["no peers"]
