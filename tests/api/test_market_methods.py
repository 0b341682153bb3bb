"""account_*, asset_list, arbiter_list, shop_*, listing_*, order_*, review_list over real HTTP to a running node."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from api_helpers import ApiClient, Market, build_market, running_node, write_home

pytestmark = pytest.mark.asyncio(loop_scope="module")

NOT_FOUND, INVALID_PARAMS = -32001, -32602


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Any, ApiClient, Market]]:
    cfg, keys = write_home(tmp_path_factory.mktemp("market") / "home", faucet=False)
    async with running_node(cfg, keys) as (node, api):
        market = await build_market(api)
        yield node, api, market


async def test_account_get_shows_balances_roles_kyc_arbiter_and_seller_rating(world: Any) -> None:
    _, api, _ = world
    alice = await api.call("account_get", address=api.address("alice"))
    assert alice["registered"] and alice["profile"]["name"] == "Alice"
    assert alice["kyc"]["level"] == 2 and alice["kyc"]["attester"] == api.address("erin")
    assert alice["seller_rating"]["count"] == 1 and alice["seller_rating"]["avg_x100"]["overall"] == 500
    assert alice["arbiter"] is None and alice["nonce"] == api.nonces[api.pub("alice")]
    dave = await api.call("account_get", address=api.address("dave"))
    assert dave["arbiter"]["fee_fixed"] == 10 and dave["arbiter"]["active"] is True
    assert dave["balances"]["MKT"] > 0
    erin = await api.call("account_get", address=api.address("erin"))
    assert erin["roles"] == ["kyc_attester"] and erin["kyc"]["level"] == 0


async def test_account_get_rejects_a_malformed_address(world: Any) -> None:
    _, api, _ = world
    error = await api.error("account_get", address="mn1notanaddress")
    assert error["code"] == INVALID_PARAMS and error["data"]["param"] == "address"


async def test_asset_list_pages_through_assets(world: Any) -> None:
    _, api, _ = world
    first = await api.call("asset_list", limit=1)
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = await api.call("asset_list", limit=1, cursor=first["next_cursor"])
    ids = {first["items"][0]["asset"], second["items"][0]["asset"]}
    assert ids == {"MKT", "USDX"} and second["next_cursor"] is None
    usdx = next(a for a in (first["items"] + second["items"]) if a["asset"] == "USDX")
    assert usdx["decimals"] == 2 and usdx["issuer"] == api.address("heidi") and usdx["supply"] > 0


async def test_arbiter_list_shows_fees_and_hides_inactive_ones(world: Any) -> None:
    _, api, _ = world
    active = await api.call("arbiter_list")
    assert [a["address"] for a in active["items"]] == [api.address("dave")]
    assert active["items"][0]["fee_bps"] == 100 and active["items"][0]["description"] == "EN/DE, antiques"
    everyone = await api.call("arbiter_list", include_inactive=True, limit=1)
    assert len(everyone["items"]) == 1 and everyone["next_cursor"]
    rest = await api.call("arbiter_list", include_inactive=True, limit=1, cursor=everyone["next_cursor"])
    assert {everyone["items"][0]["address"], rest["items"][0]["address"]} == {api.address("dave"),
                                                                               api.address("grace")}
    error = await api.error("arbiter_list", cursor="junk")
    assert error["code"] == INVALID_PARAMS


async def test_shop_get_and_shop_list_filters(world: Any) -> None:
    _, api, m = world
    shop = await api.call("shop_get", shop=m.shop)
    assert shop["owner"] == api.address("alice") and shop["arbiters"] == [api.address("dave")]
    assert shop["listing_count"] == 4 and shop["accepted_assets"] == ["MKT", "USDX"]
    assert (await api.error("shop_get", shop=999))["code"] == NOT_FOUND
    assert (await api.error("shop_get", shop=0))["code"] == INVALID_PARAMS
    assert (await api.error("shop_get"))["code"] == INVALID_PARAMS
    every = await api.call("shop_list")
    assert [s["id"] for s in every["items"]] == [m.shop2, m.shop]
    by_owner = await api.call("shop_list", owner=api.address("carol"))
    assert [s["id"] for s in by_owner["items"]] == [m.shop2]
    by_region = await api.call("shop_list", region="DE")
    assert [s["name"] for s in by_region["items"]] == ["Alice Antiques"]
    page = await api.call("shop_list", limit=1)
    assert page["next_cursor"] == str(m.shop2)
    rest = await api.call("shop_list", limit=1, cursor=page["next_cursor"])
    assert [s["id"] for s in rest["items"]] == [m.shop] and rest["next_cursor"] is None


async def test_listing_get_links_seller_shop_rating_and_provenance(world: Any) -> None:
    _, api, m = world
    lamp = await api.call("listing_get", listing=m.lamp)
    assert lamp["title"] == "Vintage brass lamp" and lamp["stock"] == 3 and lamp["sales"] == 3
    assert lamp["seller"] == api.address("alice") and lamp["seller_profile"]["name"] == "Alice"
    assert lamp["shop_info"]["name"] == "Alice Antiques" and lamp["available"] is True
    assert lamp["rating"]["count"] == 1 and lamp["rating"]["avg_x100"]["delivery"] == 300
    provenance = lamp["provenance"]
    assert provenance["record"]["id"] == m.record and provenance["record"]["owner"] == api.address("alice")
    assert provenance["certificate"]["valid"] is True and provenance["certificate"]["id"] == m.cert
    candle = await api.call("listing_get", listing=m.candle)
    assert candle["available"] is False and candle["provenance"] == {"record": None, "certificate": None}
    assert (await api.error("listing_get", listing=12345))["code"] == NOT_FOUND


async def ids(api: ApiClient, **params: Any) -> list[int]:
    return [item["id"] for item in (await api.call("listing_search", **params))["items"]]


async def test_listing_search_free_text_over_title_description_and_tags(world: Any) -> None:
    _, api, m = world
    assert set(await ids(api, q="brass")) == {m.lamp, m.candle}
    assert await ids(api, q="vint") == [m.lamp]  # prefix match
    assert await ids(api, q="seats eight") == [m.table]  # updated description
    assert await ids(api, q="oak") == [m.table]  # tag and title
    assert await ids(api, q="nothing-like-this") == []
    assert await ids(api, q='brass" *(:^') == await ids(api, q="brass")  # FTS5 syntax is not passed through


async def test_listing_search_filters(world: Any) -> None:
    _, api, m = world
    assert set(await ids(api, category="lighting")) == {m.lamp, m.candle}
    assert set(await ids(api, category="lighting", in_stock=True)) == {m.lamp}
    assert await ids(api, shop=m.shop2) == [m.chair]
    assert set(await ids(api, seller=api.address("carol"))) == {m.chair}
    assert await ids(api, type="digital") == [m.print_]
    assert await ids(api, asset="USDX") == [m.print_]
    assert set(await ids(api, min_price=500, max_price=1000)) == {m.lamp, m.chair}
    assert await ids(api, q="brass", max_price=200) == [m.candle]
    error = await api.error("listing_search", min_price=10, max_price=5)
    assert error["code"] == INVALID_PARAMS
    assert (await api.error("listing_search", type="spaceship"))["code"] == INVALID_PARAMS
    assert (await api.error("listing_search", sort="cheapest"))["code"] == INVALID_PARAMS
    assert (await api.error("listing_search", min_price=-1))["code"] == INVALID_PARAMS


async def test_listing_search_sorts_and_pages(world: Any) -> None:
    _, api, m = world
    assert await ids(api) == [m.chair, m.candle, m.print_, m.table, m.lamp]  # newest
    assert await ids(api, sort="price_asc") == [m.print_, m.candle, m.lamp, m.chair, m.table]
    assert await ids(api, sort="price_desc") == [m.table, m.chair, m.lamp, m.candle, m.print_]
    assert (await ids(api, sort="rating"))[0] == m.lamp
    for sort in ("newest", "price_asc", "price_desc", "rating"):
        seen, cursor = [], None
        while True:
            page = await api.call("listing_search", sort=sort, limit=2, cursor=cursor)
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == await ids(api, sort=sort), sort
    page = await api.call("listing_search", q="brass", limit=1)
    rest = await api.call("listing_search", q="brass", limit=1, cursor=page["next_cursor"])
    assert {page["items"][0]["id"], rest["items"][0]["id"]} == {m.lamp, m.candle}
    assert (await api.error("listing_search", cursor="1:2:3"))["code"] == INVALID_PARAMS
    assert (await api.error("listing_search", sort="price_asc", cursor="12"))["code"] == INVALID_PARAMS


async def test_listing_search_text_with_filters_and_every_sort(world: Any) -> None:
    _, api, m = world
    assert await ids(api, q="brass", sort="price_asc") == [m.candle, m.lamp]
    assert await ids(api, q="brass", sort="price_desc") == [m.lamp, m.candle]
    assert await ids(api, q="brass", sort="rating") == [m.lamp, m.candle]  # only the lamp is rated
    assert await ids(api, q="brass", sort="newest") == [m.candle, m.lamp]
    assert await ids(api, q="brass", in_stock=True) == [m.lamp]
    assert await ids(api, q="dining", category="furniture", sort="price_asc") == [m.table]
    assert await ids(api, q="well kept", category="furniture", sort="price_asc") == [m.chair]  # table's text changed
    assert await ids(api, q="well kept", shop=m.shop2) == [m.chair]
    assert await ids(api, q="well kept", seller=api.address("alice"), type="digital") == [m.print_]
    assert await ids(api, q="well kept", asset="USDX") == [m.print_]
    assert await ids(api, q="well kept", min_price=150, max_price=800, sort="price_desc") == [m.chair, m.lamp,
                                                                                              m.candle]
    for sort in ("price_asc", "price_desc", "rating", "newest"):
        seen, cursor = [], None
        while True:
            page = await api.call("listing_search", q="well kept", sort=sort, limit=2, cursor=cursor)
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == await ids(api, q="well kept", sort=sort), sort
        assert sorted(seen) == sorted([m.lamp, m.print_, m.candle, m.chair])


async def test_listing_search_items_shape(world: Any) -> None:
    _, api, _ = world
    item = (await api.call("listing_search", q="lamp"))["items"][0]
    assert item["seller"] == api.address("alice") and item["tags"] == ["vintage", "brass"]
    assert item["rating"] == {"count": 1, "overall_avg_x100": 500} and item["sales"] == 3


async def test_listing_recommend_also_bought_then_popular(world: Any) -> None:
    _, api, m = world
    for_bob = (await api.call("listing_recommend", address=api.address("bob")))["items"]
    assert for_bob[0]["id"] == m.chair and for_bob[0]["reason"] == "also_bought"
    assert m.lamp not in [i["id"] for i in for_bob] and m.table not in [i["id"] for i in for_bob]
    assert {i["reason"] for i in for_bob[1:]} <= {"popular_in_category", "popular"}
    stranger = (await api.call("listing_recommend", address=api.address("heidi"), limit=2))["items"]
    assert [i["reason"] for i in stranger] == ["popular", "popular"] and stranger[0]["id"] == m.lamp
    own = (await api.call("listing_recommend", address=api.address("alice")))["items"]
    assert all(i["seller"] != api.address("alice") for i in own)


async def test_order_get_has_the_escrow_timeline_and_deadlines(world: Any) -> None:
    _, api, m = world
    done = await api.call("order_get", order=m.completed_order)
    assert done["status"] == "completed" and done["buyer"] == api.address("bob")
    assert [e["status"] for e in done["timeline"]] == ["placed", "accepted", "shipped", "completed"]
    heights = [e["height"] for e in done["timeline"]]
    assert heights == sorted(heights) and all(e["tx"] and e["time_ms"] for e in done["timeline"])
    assert done["timeline"][1]["by"] == api.address("alice")
    assert done["deadlines"]["current_ms"] is None and done["review"]["ratings"]["overall"] == 5
    disputed = await api.call("order_get", order=m.disputed_order)
    assert [e["status"] for e in disputed["timeline"]] == ["placed", "accepted", "disputed", "resolved"]
    assert disputed["buyer_amount"] == 300 and disputed["arbiter"] == api.address("dave")
    open_ = await api.call("order_get", order=m.open_order)
    deadlines = open_["deadlines"]
    assert {(a["action"], a["by"]) for a in deadlines["actions"]} == {
        ("order_accept", "seller"), ("order_decline", "seller"), ("order_cancel", "buyer")}
    assert deadlines["claimable_by"] == "buyer"
    assert deadlines["on_claim"] == "refunded" and deadlines["current_ms"] == open_["deadline_ms"]
    assert deadlines["current_ms"] - open_["timeline"][0]["time_ms"] == deadlines["windows_ms"]["accept"]
    assert (await api.error("order_get", order=99))["code"] == NOT_FOUND


async def test_order_list_by_buyer_or_seller_with_status(world: Any) -> None:
    _, api, m = world
    bob = await api.call("order_list", buyer=api.address("bob"))
    assert [o["id"] for o in bob["items"]] == [m.open_order, m.completed_order]
    assert bob["items"][0]["seller"] == api.address("alice") and bob["items"][0]["status"] == "placed"
    sold = await api.call("order_list", seller=api.address("alice"), status="completed")
    assert [o["id"] for o in sold["items"]] == [m.completed_order]
    page = await api.call("order_list", seller=api.address("alice"), limit=2)
    rest = await api.call("order_list", seller=api.address("alice"), limit=2, cursor=page["next_cursor"])
    assert [o["id"] for o in page["items"]] == [m.open_order, m.open_order - 2]
    assert [o["id"] for o in rest["items"]] == [m.disputed_order, m.completed_order]
    assert rest["next_cursor"] is None
    assert (await api.error("order_list"))["code"] == INVALID_PARAMS
    both = await api.error("order_list", buyer=api.address("bob"), seller=api.address("alice"))
    assert both["code"] == INVALID_PARAMS
    assert (await api.error("order_list", buyer=api.address("bob"), status="lost"))["code"] == INVALID_PARAMS


async def test_review_list_by_listing_or_seller(world: Any) -> None:
    _, api, m = world
    by_listing = (await api.call("review_list", listing=m.lamp))["items"]
    assert len(by_listing) == 1 and by_listing[0]["order"] == m.completed_order
    assert by_listing[0]["reviewer"] == api.address("bob") and by_listing[0]["reply_hash"]
    by_seller = (await api.call("review_list", seller=api.address("alice")))["items"]
    assert by_seller == by_listing
    assert (await api.call("review_list", listing=m.table))["items"] == []
    assert (await api.error("review_list"))["code"] == INVALID_PARAMS


async def test_delisting_and_closing_a_shop_remove_listings_from_search(world: Any) -> None:
    _, api, m = world
    await api.send("alice", "listing_delist", {"listing": m.candle})
    assert m.candle not in await ids(api, category="lighting")
    assert (await api.call("listing_get", listing=m.candle))["active"] is False
    await api.send("carol", "shop_close", {"shop": m.shop2})
    assert m.chair not in await ids(api)
    assert [s["id"] for s in (await api.call("shop_list"))["items"]] == [m.shop]
    closed = await api.call("shop_list", include_closed=True)
    assert [s["open"] for s in closed["items"]] == [False, True]


async def test_methods_work_in_a_json_rpc_batch(world: Any) -> None:
    _, api, m = world
    replies = await api.raw([
        {"jsonrpc": "2.0", "id": 1, "method": "shop_get", "params": {"shop": m.shop}},
        {"jsonrpc": "2.0", "id": 2, "method": "order_get", "params": {"order": 404}},
        {"jsonrpc": "2.0", "method": "listing_search", "params": {"q": "lamp"}},
    ])
    by_id = {r["id"]: r for r in replies}
    assert set(by_id) == {1, 2} and by_id[1]["result"]["id"] == m.shop and by_id[2]["error"]["code"] == NOT_FOUND
