"""A real in-process Node (single validator, temp home, ports chosen by the OS) and clients for it.

``running_node`` starts ``node.service.Node`` on the test's event loop and
stops it through its stop Event; ``ApiClient`` speaks JSON-RPC over real HTTP
and websocket connections, and signs market txs with explicit nonces.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from waiting import wait_for_async

from marketnode.core.keys import PrivateKey, address_from_pubkey
from marketnode.core.types import Tx
from marketnode.node.config import NodeConfig, P2PSection, RpcSection
from marketnode.node.genesis_setup import dev_genesis
from marketnode.node.service import Node

CHAIN_ID = "marketnode-apitest"
BALANCE = 1_000_000_000_000
NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")


def h(text: str) -> bytes:
    """A 32-byte hash of ``text`` (commitments, fingerprints, review text)."""
    return hashlib.sha256(text.encode()).digest()


class RpcFailure(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.error = error
        self.code = error.get("code")


@dataclass
class ApiClient:
    """JSON-RPC over HTTP to one node, plus signing with per-account nonces."""

    url: str
    ws_url: str
    session: aiohttp.ClientSession
    keys: dict[str, PrivateKey]
    chain_id: str = CHAIN_ID
    nonces: dict[bytes, int] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def address(self, name: str) -> str:
        return address_from_pubkey(self.keys[name].public_key)

    def pub(self, name: str) -> bytes:
        return self.keys[name].public_key

    async def raw(self, payload: Any) -> Any:
        async with self.session.post(self.url, data=json.dumps(payload),
                                     headers={"Content-Type": "application/json"}) as response:
            text = await response.text()
            return json.loads(text) if text else None

    async def reply(self, method: str, **params: Any) -> dict[str, Any]:
        return await self.raw({"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params})

    async def call(self, method: str, **params: Any) -> Any:
        reply = await self.reply(method, **params)
        if "error" in reply:
            raise RpcFailure(reply["error"])
        return reply["result"]

    async def error(self, method: str, **params: Any) -> dict[str, Any]:
        reply = await self.reply(method, **params)
        assert "error" in reply, f"{method} succeeded: {reply}"
        return reply["error"]

    def sign(self, name: str, kind: str, body: dict[str, Any], fee: int = 0) -> Tx:
        key = self.keys[name]
        nonce = self.nonces.get(key.public_key, 0)
        self.nonces[key.public_key] = nonce + 1
        return Tx(self.chain_id, key.public_key, nonce, kind, body, fee).sign(key)

    async def send(self, name: str, kind: str, body: dict[str, Any], *, ok: bool = True) -> dict[str, Any]:
        """Sign, submit, wait for the commit; assert the receipt's outcome."""
        tx = self.sign(name, kind, body)
        result = await self.call("tx_send", tx=tx.encode().hex(), wait="commit", timeout_s=20)
        assert result["status"] == ("committed" if ok else "failed"), result
        return result

    @staticmethod
    def event(result: dict[str, Any], kind: str) -> dict[str, Any]:
        for event in result["receipt"]["events"]:
            if event["kind"] == kind:
                return event["attrs"]
        raise AssertionError(f"no {kind} event in {result['receipt']['events']}")


def write_home(home: Path, *, faucet: bool, faucet_key: bool = True) -> tuple[NodeConfig, dict[str, PrivateKey]]:
    """A node home whose genesis funds the demo accounts (and a faucet account) and grants the demo roles."""
    home.mkdir(parents=True, exist_ok=True)
    node_key = PrivateKey.generate()
    node_key.save(home / "node_key")
    keys = {name: PrivateKey.generate() for name in NAMES}
    accounts = {name: key.public_key for name, key in keys.items()}
    faucet_account = PrivateKey.generate()
    if faucet_key:
        faucet_account.save(home / "faucet.key")
    accounts["faucet"] = faucet_account.public_key
    genesis = dev_genesis(CHAIN_ID, [("validator-0", node_key.public_key, "127.0.0.1:1")], accounts, BALANCE)
    (home / "genesis.json").write_text(genesis.to_json())
    cfg = NodeConfig(home=home, moniker="api-test", p2p=P2PSection(listen_port=0),
                     rpc=RpcSection(listen_port=0, enable_faucet=faucet, admin_token="t" * 32, requests_per_s=0))
    return cfg, keys


@contextlib.asynccontextmanager
async def running_node(cfg: NodeConfig, keys: dict[str, PrivateKey]) -> AsyncIterator[tuple[Node, ApiClient]]:
    """Run a Node on this event loop until the block exits; yield it and a client."""
    node = Node.open(cfg)
    stop = asyncio.Event()
    task = asyncio.create_task(node.run(stop))
    try:
        await wait_for_async(lambda: node.rpc is not None or task.done(), 5, "the node's RPC server to start or the node to stop")
        if task.done():
            task.result()
        assert node.rpc is not None, "the node's RPC server did not start"
        async with aiohttp.ClientSession() as session:
            yield node, ApiClient(node.rpc.url, node.rpc.ws_url, session, keys)
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


@dataclass
class Market:
    """Ids of what ``build_market`` created."""

    shop: int = 0
    shop2: int = 0
    lamp: int = 0
    table: int = 0
    print_: int = 0
    candle: int = 0
    chair: int = 0
    completed_order: int = 0
    disputed_order: int = 0
    open_order: int = 0
    record: str = "lamp-001"
    cert: int = 0
    fingerprint: bytes = field(default_factory=lambda: h("lamp-001 reference image"))


async def build_market(api: ApiClient) -> Market:
    """A small marketplace through real signed txs: shops, listings, a provenance trace, a certificate,
    a completed and reviewed order, a disputed and resolved order, an open order, KYC and an arbiter."""
    m = Market()
    for name in ("alice", "bob", "carol", "dave", "grace"):
        await api.send(name, "register", {"name": name.title(), "commitment": h(name)})
    await api.send("erin", "kyc_attest", {"account": api.pub("alice"), "level": 2, "expires_ms": 2**62})
    await api.send("dave", "arbiter_register", {"fee_fixed": 10, "fee_bps": 100, "description": "EN/DE, antiques"})
    await api.send("grace", "arbiter_register", {"fee_fixed": 5, "fee_bps": 50, "description": "retired"})
    await api.send("grace", "arbiter_update", {"active": False})
    shop = {"name": "Alice Antiques", "description": "old things", "region": "DE",
            "accepted_assets": ["MKT", "USDX"], "arbiters": [api.pub("dave")]}
    m.shop = api.event(await api.send("alice", "shop_create", shop), "shop_created")["shop"]
    shop2 = {**shop, "name": "Carol Crafts", "region": "FR", "accepted_assets": ["MKT"], "arbiters": []}
    m.shop2 = api.event(await api.send("carol", "shop_create", shop2), "shop_created")["shop"]

    await api.send("frank", "record_create", {"record": m.record, "type": "artwork", "attributes": {"maker": "Ott"}})
    await api.send("frank", "record_report", {"record": m.record, "property": "location", "value": "Berlin"})
    await api.send("frank", "record_propose", {"record": m.record, "receiver": api.pub("alice"), "role": "owner"})
    await api.send("alice", "record_answer", {"record": m.record, "role": "owner", "response": "accept"})
    await api.send("alice", "record_propose", {"record": m.record, "receiver": api.pub("bob"), "role": "reporter"})
    issued = await api.send("frank", "cert_issue", {"fingerprint": m.fingerprint, "owner": api.pub("alice"),
                                                    "record": m.record})
    m.cert = api.event(issued, "certificate_issued")["certificate"]

    def listing(title: str, category: str, price: int, **extra: Any) -> dict[str, Any]:
        body = {"shop": m.shop, "type": "physical", "title": title, "description": f"{title}, well kept",
                "category": category, "tags": [], "price": price, "asset": "MKT", "stock": 5, "regions": [],
                "images": []}
        body.update(extra)
        return body

    async def create(name: str, body: dict[str, Any]) -> int:
        return api.event(await api.send(name, "listing_create", body), "listing_created")["listing"]

    m.lamp = await create("alice", listing("Vintage brass lamp", "lighting", 500, tags=["vintage", "brass"],
                                           record=m.record, certificate=m.cert))
    m.table = await create("alice", listing("Oak dining table", "furniture", 2000, tags=["oak"]))
    m.print_ = await create("alice", listing("Digital art print", "art", 100, type="digital", asset="USDX"))
    m.candle = await create("alice", listing("Brass candle holder", "lighting", 150, tags=["brass"], stock=0))
    m.chair = await create("carol", {**listing("Rocking chair", "furniture", 800), "shop": m.shop2})
    await api.send("alice", "listing_update", {"listing": m.table, "description": "solid oak, seats eight"})

    async def place(buyer: str, listing_id: int, total: int, arbiter: str | None = "dave") -> int:
        body = {"listing": listing_id, "quantity": 1, "max_total": total, "address_seller": b"",
                "arbiter": api.pub(arbiter) if arbiter else None}
        return api.event(await api.send(buyer, "order_place", body), "order_placed")["order"]

    m.completed_order = await place("bob", m.lamp, 500)
    await api.send("alice", "order_accept", {"order": m.completed_order})
    await api.send("alice", "order_ship", {"order": m.completed_order, "tracking_hash": b"DHL-1"})
    await api.send("bob", "order_confirm", {"order": m.completed_order})
    ratings = {"overall": 5, "quality": 4, "accuracy": 5, "delivery": 3, "service": 5}
    await api.send("bob", "review", {"order": m.completed_order, "ratings": ratings, "text_hash": h("great lamp")})
    await api.send("alice", "review_reply", {"order": m.completed_order, "text_hash": h("thanks")})

    m.disputed_order = await place("carol", m.lamp, 500)
    await api.send("alice", "order_accept", {"order": m.disputed_order})
    await api.send("carol", "order_dispute", {"order": m.disputed_order, "reason_hash": h("never arrived")})
    await api.send("dave", "order_resolve", {"order": m.disputed_order, "buyer_amount": 300})
    await place("grace", m.lamp, 500, arbiter=None)  # grace bought the lamp too, and a chair:
    await place("grace", m.chair, 800, arbiter=None)  # so bob, who bought the lamp, is offered the chair
    m.open_order = await place("bob", m.table, 2000)
    return m
