"""The query index is derived: after a crash, a lost file or a corrupt one, the node answers the same."""

from __future__ import annotations

import shutil
import sqlite3
from typing import Any

from api_helpers import ApiClient, Market, build_market, h, running_node, write_home

from marketnode.node.queries.indexer import FILE_NAME


async def snapshot(api: ApiClient, m: Market) -> dict[str, Any]:
    """Answers that depend on every table of the index."""
    out: dict[str, Any] = {}
    for sort in ("newest", "price_asc", "price_desc", "rating"):
        out[sort] = await api.call("listing_search", sort=sort)
    out["text"] = await api.call("listing_search", q="brass lamp")
    out["shops"] = await api.call("shop_list", include_closed=True)
    for name in ("alice", "bob", "grace"):
        out[f"rec-{name}"] = await api.call("listing_recommend", address=api.address(name))
        out[f"buyer-{name}"] = await api.call("order_list", buyer=api.address(name))
    out["seller"] = await api.call("order_list", seller=api.address("alice"))
    out["orders"] = [await api.call("order_get", order=i) for i in range(1, m.open_order + 1)]
    out["reviews"] = await api.call("review_list", seller=api.address("alice"))
    out["record"] = await api.call("record_get", record=m.record)
    out["lamp"] = await api.call("listing_get", listing=m.lamp)
    return out


def remove_index(data_dir: Any) -> None:
    for suffix in ("", "-wal", "-shm"):
        (data_dir / (FILE_NAME + suffix)).unlink(missing_ok=True)


async def test_index_catches_up_after_falling_behind_and_rebuilds_when_lost_or_corrupt(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    data = cfg.data_path
    async with running_node(cfg, keys) as (_, api):
        market = await build_market(api)
        nonces = dict(api.nonces)
    shutil.copy(data / FILE_NAME, tmp_path / "behind.sqlite")  # the index as of a crash, many blocks ago

    async with running_node(cfg, keys) as (node, api):
        api.nonces.update(nonces)
        body = {"order": market.open_order}
        await api.send("alice", "order_accept", body)
        await api.send("alice", "order_ship", body)
        await api.send("bob", "order_confirm", body)
        ratings = {"overall": 2, "quality": 2, "accuracy": 2, "delivery": 2, "service": 2}
        await api.send("bob", "review", {**body, "ratings": ratings, "text_hash": h("meh")})
        await api.send("alice", "listing_update", {"listing": market.lamp, "title": "Antique brass lamp"})
        live = await snapshot(api, market)
        live_height = node.query_index.height

    behind = sqlite3.connect(tmp_path / "behind.sqlite")
    assert int(behind.execute("SELECT value FROM meta WHERE key = 'height'").fetchone()[0]) == live_height - 5
    behind.close()
    remove_index(data)
    shutil.copy(tmp_path / "behind.sqlite", data / FILE_NAME)
    async with running_node(cfg, keys) as (node, api):
        assert node.query_index.height == live_height
        assert await snapshot(api, market) == live

    remove_index(data)
    async with running_node(cfg, keys) as (node, api):
        assert node.query_index.height == live_height
        assert await snapshot(api, market) == live

    remove_index(data)
    (data / FILE_NAME).write_bytes(b"this is not a database" * 100)
    async with running_node(cfg, keys) as (node, api):
        assert await snapshot(api, market) == live


async def test_a_listing_created_and_bought_in_one_block_counts_the_sale(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    async with running_node(cfg, keys) as (_, api):
        listing = await kettle_shop(api, stock=2, create=False)
        create = api.sign("alice", "listing_create", listing)
        buy = api.sign("bob", "order_place", {"listing": 1, "quantity": 1, "max_total": 10, "address_seller": b""})
        results = await api.call("tx_sendBatch", txs=[create.encode().hex(), buy.encode().hex()])
        assert [r["status"] for r in results] == ["pending", "pending"]
        done = await api.call("tx_send", tx=api.sign("bob", "transfer", {"to": api.pub("alice"), "asset": "MKT",
                                                                          "amount": 1}).encode().hex(),
                              wait="commit")
        assert done["status"] == "committed"
        created, bought = [await api.call("tx_get", hash=tx.hash.hex()) for tx in (create, buy)]
        assert created["status"] == bought["status"] == "committed" and created["height"] == bought["height"]
        item = (await api.call("listing_search", q="kettle"))["items"][0]
        assert item["sales"] == 1 and item["stock"] == 1


async def test_sales_count_units_not_orders(tmp_path) -> None:
    """Issue 15.9: an order for three kettles sells three, so "N sold" is what a shopper reads it as."""
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    async with running_node(cfg, keys) as (_, api):
        await kettle_shop(api, stock=9, create=True)
        await api.send("bob", "order_place", {"listing": 1, "quantity": 3, "max_total": 30, "address_seller": b""})
        await api.send("bob", "order_place", {"listing": 1, "quantity": 1, "max_total": 10, "address_seller": b""})
        item = (await api.call("listing_search", q="kettle"))["items"][0]
        assert item["sales"] == 4 and (await api.call("listing_get", listing=1))["sales"] == 4


async def kettle_shop(api: ApiClient, stock: int, create: bool) -> dict[str, Any]:
    """alice's shop 1 and its kettle listing's body (created on chain when ``create``), bob registered to buy."""
    for name in ("alice", "bob"):
        await api.send(name, "register", {"name": name, "commitment": h(name)})
    shop = {"name": "S", "description": "", "region": "DE", "accepted_assets": ["MKT"], "arbiters": []}
    await api.send("alice", "shop_create", shop)
    listing = {"shop": 1, "type": "physical", "title": "Kettle", "description": "", "category": "kitchen",
               "tags": [], "price": 10, "asset": "MKT", "stock": stock, "regions": [], "images": []}
    if create:
        await api.send("alice", "listing_create", listing)
    return listing
