"""A query index that fails in any way never stops a node: it commits on, says so in node_health, recovers.

Faults are real damage to the index file under a running node (a table
renamed away, dropped, the file replaced by a directory), not mocks.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from api_helpers import ApiClient, h, running_node, write_home

from marketnode.node.queries.indexer import FILE_NAME
from marketnode.node.rpc.errors import INDEX_UNAVAILABLE


async def small_market(api: ApiClient) -> int:
    """alice sells a kettle; returns bob's order of it."""
    for name in ("alice", "bob"):
        await api.send(name, "register", {"name": name.title(), "commitment": h(name)})
    shop = {"name": "S", "description": "", "region": "DE", "accepted_assets": ["MKT"], "arbiters": []}
    await api.send("alice", "shop_create", shop)
    listing = {"shop": 1, "type": "physical", "title": "Kettle", "description": "", "category": "kitchen",
               "tags": [], "price": 10, "asset": "MKT", "stock": 5, "regions": [], "images": []}
    await api.send("alice", "listing_create", listing)
    return 1


def damage(data_dir: Any, statement: str) -> None:
    """Change the index file behind the node's back, as another process (or a failing disk) would."""
    conn = sqlite3.connect(data_dir / FILE_NAME, isolation_level=None)
    try:
        conn.execute(statement)
    finally:
        conn.close()


async def transfer(api: ApiClient) -> None:
    await api.send("alice", "transfer", {"to": api.pub("bob"), "asset": "MKT", "amount": 1})


async def commit_until_healthy(api: ApiClient, blocks: int) -> dict[str, Any]:
    """Commit blocks (one transfer each) until node_health is ok; fail after ``blocks``."""
    for _ in range(blocks):
        health = await api.call("node_health")
        if health["ok"]:
            return health
        await transfer(api)
    raise AssertionError(f"the index did not recover within {blocks} blocks: {health}")


async def test_a_failing_index_never_stops_commits_reports_itself_and_recovers(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    data = cfg.data_path
    async with running_node(cfg, keys) as (node, api):
        listing = await small_market(api)
        assert (await api.call("node_health"))["ok"]  # a read: the index (which follows commits later) is at the head
        damage(data, "ALTER TABLE orders RENAME TO orders_away")
        placed = await api.send("bob", "order_place", {"listing": listing, "quantity": 1, "max_total": 10,
                                                        "address_seller": b""})
        stuck_at = placed["height"] - 1
        for _ in range(3):  # the chain goes on
            await transfer(api)
        head = node.store.head().height
        assert head == placed["height"] + 3
        health = await api.call("node_health")
        assert not health["ok"] and health["height"] == head
        index = health["query_index"]
        assert not index["ok"] and index["height"] == stuck_at, health
        assert f"stopped at height {stuck_at}" in index["reason"] and "orders" in index["reason"]
        assert index["reason"] in health["reasons"]
        for method, params in (("order_list", {"buyer": api.address("bob")}), ("listing_search", {}),
                               ("listing_get", {"listing": listing})):
            error = await api.error(method, **params)
            assert error["code"] == INDEX_UNAVAILABLE and error["data"] == {"indexed_height": stuck_at}, error
        assert (await api.call("account_get", address=api.address("bob")))["balances"]["MKT"] > 0

        damage(data, "ALTER TABLE orders_away RENAME TO orders")  # the damage goes away: a retry catches up
        health = await commit_until_healthy(api, blocks=8)
        assert health["query_index"] == {"ok": True, "height": node.store.head().height, "reason": None,
                                         "retry_at": None}
        orders = (await api.call("order_list", buyer=api.address("bob")))["items"]
        assert [(o["id"], o["status"], o["total"]) for o in orders] == [(1, "placed", 10)]

        damage(data, "DROP TABLE orders")  # for good this time
        await api.send("alice", "order_accept", {"order": 1})
        await transfer(api)
        assert not (await api.call("node_health"))["ok"]
        nonces = dict(api.nonces)

    async with running_node(cfg, keys) as (node, api):  # a restart rebuilds the index it cannot catch up
        api.nonces.update(nonces)
        health = await api.call("node_health")
        assert health["ok"], health
        orders = (await api.call("order_list", buyer=api.address("bob")))["items"]
        assert [(o["id"], o["status"]) for o in orders] == [(1, "accepted")]
        await transfer(api)
        assert (await api.call("node_health"))["query_index"]["height"] == node.store.head().height


async def test_a_write_lock_held_by_another_process_is_a_fault_the_index_recovers_from(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    async with running_node(cfg, keys) as (node, api):
        await small_market(api)
        shell = sqlite3.connect(cfg.data_path / FILE_NAME, isolation_level=None)
        try:
            shell.execute("BEGIN IMMEDIATE")  # an operator's sqlite3 shell in the middle of a write
            await transfer(api)
            await transfer(api)
            index = (await api.call("node_health"))["query_index"]
            assert not index["ok"] and "locked" in index["reason"], index
        finally:
            shell.close()
        await commit_until_healthy(api, blocks=8)
        assert (await api.call("node_health"))["query_index"]["height"] == node.store.head().height


async def test_a_node_whose_index_cannot_be_created_still_starts_and_commits(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    async with running_node(cfg, keys) as (_, api):
        await small_market(api)
        nonces = dict(api.nonces)
    data = cfg.data_path
    for suffix in ("", "-wal", "-shm"):
        (data / (FILE_NAME + suffix)).unlink(missing_ok=True)
    (data / FILE_NAME).mkdir()  # no file can be opened or created there
    async with running_node(cfg, keys) as (_, api):
        api.nonces.update(nonces)
        await transfer(api)
        health = await asyncio.wait_for(api.call("node_health"), 5)
        assert not health["ok"] and not health["query_index"]["ok"], health
        assert "cannot create" in health["query_index"]["reason"]
        assert (await api.error("listing_search"))["code"] == INDEX_UNAVAILABLE
