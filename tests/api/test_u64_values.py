"""Every value the rules accept is stored, indexed, sorted and shown exactly, and a broken index never stops a node.

Prices and totals are u64 (up to 2^64-1) while SQLite integers are signed
64-bit: these tests put listings and an order at and across the 2^63
boundary through a real node, search, page, restart and rebuild it, and
break the index file under a running node.
"""

from __future__ import annotations

from typing import Any

from api_helpers import ApiClient, h, running_node, write_home

from core.encoding import INT_MAX
from node.queries.indexer import FILE_NAME

BIG = "BIG"
# the boundary prices, and ordinary ones below them
PRICES = (5, 2**53 + 1, 2**63 - 1, 2**63, 2**63 + 1, INT_MAX)


async def boundary_market(api: ApiClient) -> dict[int, int]:
    """A shop selling one listing at each of PRICES (in an asset with a supply of 2^64-1); {price: listing id}."""
    for name in ("alice", "bob"):
        await api.send(name, "register", {"name": name.title(), "commitment": h(name)})
    await api.send("heidi", "asset_issue", {"asset": BIG, "name": "Big unit", "decimals": 0})
    await api.send("heidi", "asset_mint", {"asset": BIG, "to": api.pub("bob"), "amount": INT_MAX})
    shop = {"name": "Boundaries", "description": "", "region": "DE", "accepted_assets": [BIG], "arbiters": []}
    shop_id = api.event(await api.send("alice", "shop_create", shop), "shop_created")["shop"]
    listings = {}
    for price in PRICES:
        body = {"shop": shop_id, "type": "physical", "title": f"Edge item {price}", "description": "edge",
                "category": "edge", "tags": ["edge"], "price": price, "asset": BIG, "stock": 1_000_000_000,
                "regions": [], "images": []}
        listings[price] = api.event(await api.send("alice", "listing_create", body), "listing_created")["listing"]
    return listings


async def all_pages(api: ApiClient, method: str, **params: Any) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        page = await api.call(method, **params, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def search_answers(api: ApiClient) -> dict[str, Any]:
    """Every price sort, filter and page walk of listing_search over the boundary market."""
    out: dict[str, Any] = {}
    for sort in ("price_asc", "price_desc", "newest"):
        out[sort] = [item["price"] for item in await all_pages(api, "listing_search", sort=sort, limit=1)]
        out[f"text-{sort}"] = [item["price"] for item in
                               await all_pages(api, "listing_search", q="edge", sort=sort, limit=2)]
        out[f"cat-{sort}"] = [item["price"] for item in
                              await all_pages(api, "listing_search", category="edge", sort=sort, limit=2)]
    for low, high in ((2**63, None), (None, 2**63 - 1), (2**63 - 1, 2**63), (INT_MAX, INT_MAX), (0, INT_MAX)):
        bounds = {k: v for k, v in (("min_price", low), ("max_price", high)) if v is not None}
        key = f"range-{low}-{high}"
        out[key] = [item["price"] for item in await all_pages(api, "listing_search", sort="price_asc", **bounds)]
        out["text-" + key] = [item["price"] for item in
                              await all_pages(api, "listing_search", q="edge", sort="price_desc", **bounds)]
    return out


def expected_answers() -> dict[str, Any]:
    ascending = sorted(PRICES)
    out: dict[str, Any] = {}
    for prefix in ("", "text-", "cat-"):
        out[prefix + "price_asc"] = ascending
        out[prefix + "price_desc"] = ascending[::-1]
        out[prefix + "newest"] = list(PRICES)[::-1]
    for low, high in ((2**63, None), (None, 2**63 - 1), (2**63 - 1, 2**63), (INT_MAX, INT_MAX), (0, INT_MAX)):
        inside = [p for p in ascending if (low is None or p >= low) and (high is None or p <= high)]
        out[f"range-{low}-{high}"] = inside
        out[f"text-range-{low}-{high}"] = inside[::-1]
    return out


async def test_listings_and_orders_at_every_u64_boundary_are_searched_sorted_and_survive_restarts(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    async with running_node(cfg, keys) as (node, api):
        listings = await boundary_market(api)
        top = listings[INT_MAX]
        order = {"listing": top, "quantity": 1, "max_total": INT_MAX, "address_seller": b""}
        placed = api.event(await api.send("bob", "order_place", order), "order_placed")["order"]
        # and a block after it: the index must keep up with everything committed later
        await api.send("alice", "listing_update", {"listing": listings[5], "title": "Edge item 5 renamed"})

        assert await search_answers(api) == expected_answers()
        assert (await api.call("listing_get", listing=top))["price"] == INT_MAX
        orders = await api.call("order_list", buyer=api.address("bob"))
        assert [(o["id"], o["total"]) for o in orders["items"]] == [(placed, INT_MAX)]
        assert (await api.call("order_get", order=placed))["timeline"][0]["status"] == "placed"
        health = await api.call("node_health")
        assert health["ok"], health
        assert node.query_index.height == node.store.head().height
        live = await search_answers(api), orders
        nonces = dict(api.nonces)

    async with running_node(cfg, keys) as (node, api):  # a restart reopens the index
        assert (await search_answers(api), await api.call("order_list", buyer=api.address("bob"))) == live
        api.nonces.update(nonces)
        await api.send("alice", "listing_delist", {"listing": listings[2**63]})
        after_delist = await search_answers(api)
        assert 2**63 not in after_delist["price_asc"]

    for suffix in ("", "-wal", "-shm"):
        (cfg.data_path / (FILE_NAME + suffix)).unlink(missing_ok=True)
    async with running_node(cfg, keys) as (node, api):  # and a lost index is rebuilt from the chain
        assert await search_answers(api) == after_delist
        assert (await api.call("node_health"))["ok"]


async def test_filters_and_cursors_beyond_sqlite_integers_answer_plainly(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    async with running_node(cfg, keys) as (_, api):
        listings = await boundary_market(api)
        for params in ({"shop": 2**63}, {"shop": INT_MAX}, {"shop": INT_MAX, "q": "edge"},
                       {"min_price": INT_MAX, "max_price": INT_MAX, "shop": 2**63 + 5}):
            assert (await api.call("listing_search", **params))["items"] == []
        assert (await api.call("review_list", listing=INT_MAX))["items"] == []
        top = listings[INT_MAX]
        after_first = await api.call("listing_search", sort="price_asc", cursor=f"{INT_MAX}:1")
        assert [item["id"] for item in after_first["items"]] == [top]
        after_top = await api.call("listing_search", sort="price_asc", cursor=f"{INT_MAX}:{top}")
        assert after_top["items"] == []  # nothing sorts after the highest price
        for cursor in (f"{INT_MAX + 1}:1", f"5:{2**63}", str(2**63)):
            error = await api.error("listing_search", sort="newest" if ":" not in cursor else "price_asc",
                                    cursor=cursor)
            assert error["code"] == -32602, error
        error = await api.error("order_get", order=INT_MAX)
        assert error["code"] == -32001, error
