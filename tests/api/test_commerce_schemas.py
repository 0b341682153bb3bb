"""The commerce answers (variants, shipping, coupons, carts, refund offers, returns, deposits) on a live node
match the result schemas in node/api/results.py field for field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from api_helpers import ApiClient, Market, build_market, running_node, write_home
from test_result_schemas import mismatches

from marketnode.node.api import build_registry

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[ApiClient, Market, dict]]:
    cfg, keys = write_home(tmp_path_factory.mktemp("commerce") / "home", faucet=True)
    async with running_node(cfg, keys) as (_node, api):
        m = await build_market(api)
        tee = {"shop": m.shop, "type": "physical", "title": "Tee", "description": "", "category": "clothing",
               "tags": [], "price": 300, "asset": "MKT", "stock": 6, "regions": ["DE"], "images": [],
               "options": [{"name": "size", "values": ["S", "M"]}],
               "variants": [{"sku": "S", "choice": ["S"], "price_delta": -50, "stock": 3},
                            {"sku": "M", "choice": ["M"], "price_delta": 0, "stock": 3}],
               "shipping": [{"service": "post", "regions": [], "price": 20, "min_days": 1, "max_days": 4}],
               "return_window_ms": 10**9}
        listing = api.event(await api.send("alice", "listing_create", tee), "listing_created")["listing"]
        await api.send("alice", "aftersales_deposit", {"shop": m.shop, "asset": "MKT", "amount": 100})
        await api.send("alice", "coupon_issue", {"shop": m.shop, "coupon": "TEN", "percent_bps": 1000,
                                                 "max_uses": 3, "expires_ms": 2**50})
        body = {"listing": listing, "quantity": 1, "max_total": 10**6, "address_seller": b"",
                "arbiter": api.pub("dave"), "variant": "M", "shipping": "post", "region": "DE", "coupon": "TEN"}

        async def placed(kind: str, order_body: dict[str, Any]) -> int:
            return api.event(await api.send("bob", kind, order_body), "order_placed")["order"]

        returned = await placed("order_place", body)
        offered = await placed("order_place", {**body, "variant": "S", "coupon": None})
        cart = await placed("order_cart", {"items": [{"listing": listing, "quantity": 1, "variant": "S"},
                                                     {"listing": m.table, "quantity": 1, "variant": ""}],
                                           "max_total": 10**6, "address_seller": b"", "shipping": "post",
                                           "region": "DE"})
        for order in (returned, offered):
            await api.send("alice", "order_accept", {"order": order})
            await api.send("alice", "order_ship", {"order": order})
        await api.send("bob", "order_confirm", {"order": returned})
        await api.send("bob", "return_request", {"order": returned, "reason_hash": bytes(32)})
        await api.send("alice", "order_refund_offer", {"order": offered, "buyer_amount": 30})
        yield api, m, {"listing": listing, "returned": returned, "offered": offered, "cart": cart}


async def test_commerce_answers_match_their_schemas(world: Any) -> None:
    api, m, ids = world
    schemas = {method.name: method.result.schema for method in build_registry()}
    calls = [("listing_get", {"listing": ids["listing"]}), ("order_get", {"order": ids["returned"]}),
             ("order_get", {"order": ids["offered"]}), ("order_get", {"order": ids["cart"]}),
             ("shop_get", {"shop": m.shop}), ("coupon_get", {"shop": m.shop, "coupon": "TEN"}),
             ("order_list", {"buyer": api.address("bob"), "status": "shipped"})]
    problems = []
    answers = {}
    for method, params in calls:
        answers[(method, tuple(params.values()))] = result = await api.call(method, **params)
        problems += [f"{method}: {p}" for p in mismatches(result, schemas[method])]
    assert not problems, "\n".join(problems)
    returned = answers[("order_get", (ids["returned"],))]
    assert returned["return"]["status"] == "requested" and returned["return"]["deadlines"]["claimable_by"] == "buyer"
    assert returned["coupon"] == {"code": "TEN", "discount": 30}
    assert answers[("order_get", (ids["offered"],))]["refund_offer"]["by"] == api.address("alice")
    assert len(answers[("order_get", (ids["cart"],))]["items"]) == 2
    assert returned["return"]["refund"] == 300 - 30 and returned["return"]["held"] == 100  # all the deposit had
    assert answers[("shop_get", (m.shop,))]["aftersales"]["MKT"] == {"free": 0, "owed": 0}
    assert answers[("coupon_get", (m.shop, "TEN"))]["used"] == 1


async def test_coupon_get_of_an_unknown_code_is_not_found(world: Any) -> None:
    api, m, _ = world
    with pytest.raises(Exception, match="coupon"):
        await api.call("coupon_get", shop=m.shop, coupon="NOPE")
