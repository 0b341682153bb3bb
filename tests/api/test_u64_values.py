"""Every value the rules accept is stored, indexed, sorted and shown exactly, and a broken index never stops a node.

Prices and totals are u64 (up to 2^64-1) while SQLite integers are signed
64-bit: these tests put listings and an order at and across the 2^63
boundary through a real node, search, page, restart and rebuild it, and
break the index file under a running node.
"""

from __future__ import annotations

from typing import Any

from api_helpers import ApiClient, h, running_node, write_home

from marketnode.core.encoding import INT_MAX
from marketnode.market.coupons import MAX_USES
from marketnode.market.fields import ListOf, MapOf, Scalar, Struct, UInt
from marketnode.market.params import MAX_WINDOW_MS, Params
from marketnode.market.schema import KINDS, MAX_STOCK
from marketnode.node.queries.indexer import FILE_NAME
from marketnode.node.rpc.errors import ERROR_MESSAGES, INTERNAL_ERROR

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
        assert (await api.call("node_health"))["query_index"]["height"] == node.store.head().height
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


def integer_fields() -> set[tuple[str, str]]:
    """(kind, field path) of every integer a tx body can hold, straight from market/schema.py."""

    def paths(kind: Any, path: str) -> list[str]:
        if isinstance(kind, (UInt, Scalar)):
            return [path]
        if isinstance(kind, Struct):
            return [p for name, member in kind.members for p in paths(member, f"{path}.{name}")]
        if isinstance(kind, MapOf):
            return paths(kind.value, f"{path}[*]")
        if isinstance(kind, ListOf):
            return paths(kind.item, f"{path}[]")
        return []

    return {(spec.name, p) for spec in KINDS.values() for f in spec.fields for p in paths(f.kind, f.name)}


async def failed_with(api: ApiClient, who: str, kind: str, body: dict[str, Any]) -> str:
    return (await api.send(who, kind, body, ok=False))["receipt"]["code"]


async def test_every_integer_field_at_its_maximum_is_refused_by_a_rule_or_kept_exactly(tmp_path) -> None:
    """Each integer field of every tx kind at its schema maximum, through a real node, then a restart."""
    covered: set[tuple[str, str]] = set()
    cfg, keys = write_home(tmp_path / "home", faucet=False)
    async with running_node(cfg, keys) as (node, api):
        async def refused(who: str, kind: str, body: dict[str, Any], field: str, code: str = "not_found") -> None:
            assert await failed_with(api, who, kind, body) == code, (kind, field)
            covered.add((kind, field))

        def ok(kind: str, *fields: str) -> None:
            covered.update((kind, f) for f in fields)

        for name in ("alice", "bob", "carol"):
            await api.send(name, "register", {"name": name.title(), "commitment": h(name)})
        await api.send("heidi", "asset_issue", {"asset": BIG, "name": "Big", "decimals": 18, "max_supply": INT_MAX})
        ok("asset_issue", "decimals", "max_supply")
        await api.send("heidi", "asset_mint", {"asset": BIG, "to": api.pub("bob"), "amount": INT_MAX})
        await refused("heidi", "asset_mint", {"asset": BIG, "to": api.pub("bob"), "amount": 1}, "amount",
                      "amount_overflow")
        ok("asset_mint", "amount")
        await api.send("bob", "transfer", {"to": api.pub("alice"), "asset": BIG, "amount": INT_MAX})
        await api.send("alice", "transfer", {"to": api.pub("bob"), "asset": BIG, "amount": INT_MAX})
        ok("transfer", "amount")
        await api.send("erin", "kyc_attest", {"account": api.pub("alice"), "level": 3, "expires_ms": INT_MAX})
        ok("kyc_attest", "level", "expires_ms")
        max_bps = Params().max_arbiter_fee_bps
        await refused("carol", "arbiter_register", {"fee_fixed": INT_MAX, "fee_bps": 10_000, "description": ""},
                      "fee_bps", "bad_body")
        await api.send("carol", "arbiter_register", {"fee_fixed": INT_MAX, "fee_bps": max_bps, "description": ""})
        ok("arbiter_register", "fee_fixed")
        await refused("carol", "arbiter_update", {"fee_bps": 10_000}, "fee_bps", "bad_body")
        await api.send("carol", "arbiter_update", {"fee_fixed": INT_MAX})
        ok("arbiter_update", "fee_fixed")

        shop = {"name": "Max", "description": "", "region": "DE", "accepted_assets": [BIG, "MKT"],
                "arbiters": [api.pub("carol")]}
        shop_id = api.event(await api.send("alice", "shop_create", shop), "shop_created")["shop"]
        await refused("alice", "shop_update", {"shop": INT_MAX, "name": "x"}, "shop")
        await refused("alice", "shop_close", {"shop": INT_MAX}, "shop")
        item = {"shop": shop_id, "type": "physical", "title": "Max item", "description": "", "category": "max",
                "tags": [], "price": INT_MAX, "asset": BIG, "stock": MAX_STOCK, "regions": [], "images": []}
        await refused("alice", "listing_create", {**item, "shop": INT_MAX}, "shop")
        await refused("alice", "listing_create", {**item, "certificate": INT_MAX}, "certificate")
        dear = api.event(await api.send("alice", "listing_create", item), "listing_created")["listing"]
        ok("listing_create", "price", "stock")
        cheap = api.event(await api.send("alice", "listing_create", {**item, "price": 1, "asset": "MKT"}),
                          "listing_created")["listing"]
        await refused("alice", "listing_update", {"listing": INT_MAX, "title": "x"}, "listing")
        await refused("alice", "listing_update", {"listing": cheap, "certificate": INT_MAX}, "certificate")
        await api.send("alice", "listing_update", {"listing": cheap, "price": INT_MAX, "stock": MAX_STOCK})
        await api.send("alice", "listing_update", {"listing": cheap, "price": 1})
        ok("listing_update", "price", "stock")
        await refused("alice", "listing_delist", {"listing": INT_MAX}, "listing")

        place = {"quantity": 1, "max_total": INT_MAX, "address_seller": b"", "arbiter": api.pub("carol")}
        await refused("bob", "order_place", {**place, "listing": INT_MAX}, "listing")
        await refused("bob", "order_place", {**place, "listing": dear, "quantity": 2}, "quantity", "amount_overflow")
        disputed = api.event(await api.send("bob", "order_place", {**place, "listing": dear}), "order_placed")["order"]
        bulk = api.event(await api.send("bob", "order_place", {**place, "listing": cheap, "quantity": MAX_STOCK}),
                         "order_placed")["order"]
        ok("order_place", "quantity", "max_total")
        for kind in ("order_accept", "order_decline", "order_cancel", "order_ship", "order_confirm", "order_claim"):
            await refused("alice" if kind in ("order_accept", "order_decline", "order_ship") else "bob", kind,
                          {"order": INT_MAX}, "order")
        await refused("bob", "order_dispute", {"order": INT_MAX, "reason_hash": h("x")}, "order")
        await refused("carol", "order_resolve", {"order": INT_MAX, "buyer_amount": 0}, "order")
        await api.send("alice", "order_accept", {"order": disputed})
        await api.send("bob", "order_dispute", {"order": disputed, "reason_hash": h("late")})
        # the fixed fee (2^64-1) takes the whole escrow: any refund to the buyer is more than is left
        await refused("carol", "order_resolve", {"order": disputed, "buyer_amount": INT_MAX}, "buyer_amount",
                      "bad_split")
        await api.send("carol", "order_resolve", {"order": disputed, "buyer_amount": 0})
        for kind in ("order_accept", "order_ship"):
            await api.send("alice", kind, {"order": bulk})
        await api.send("bob", "order_confirm", {"order": bulk})
        ratings = {name: 5 for name in ("overall", "quality", "accuracy", "delivery", "service")}
        await refused("bob", "review", {"order": INT_MAX, "ratings": ratings, "text_hash": h("x")}, "order")
        await api.send("bob", "review", {"order": bulk, "ratings": ratings, "text_hash": h("great")})
        ok("review", *(f"ratings.{name}" for name in ratings))
        await refused("alice", "review_reply", {"order": INT_MAX, "text_hash": h("x")}, "order")
        await refused("alice", "order_respond", {"order": INT_MAX, "response_hash": h("x")}, "order")

        record = {"record": "max-1", "type": "thing", "attributes": {"weight": INT_MAX}}
        await api.send("frank", "record_create", record)
        ok("record_create", "attributes[*]")
        await api.send("frank", "record_report", {"record": "max-1", "property": "count", "value": INT_MAX})
        ok("record_report", "value")
        await refused("frank", "cert_transfer", {"certificate": INT_MAX, "to": api.pub("bob")}, "certificate")
        await refused("frank", "cert_revoke", {"certificate": INT_MAX}, "certificate")
        # commerce (issue 17): listing terms, deposits, coupons, carts, refunds and returns at their maxima
        delta = 2**53 - 1
        terms = {"options": [{"name": "size", "values": ["S", "M"]}],
                 "variants": [{"sku": "S", "choice": ["S"], "price_delta": delta, "stock": MAX_STOCK},
                              {"sku": "M", "choice": ["M"], "price_delta": -delta, "stock": 0}],
                 "shipping": [{"service": "post", "regions": [], "price": INT_MAX, "min_days": 365, "max_days": 365}],
                 "return_window_ms": MAX_WINDOW_MS}
        wide = {**item, "category": "commerce", "price": 2**53, "asset": "MKT", "stock": MAX_STOCK, **terms}
        term_fields = ("variants[].price_delta", "variants[].stock", "shipping[].price", "shipping[].min_days",
                       "shipping[].max_days", "return_window_ms")
        await refused("alice", "listing_create", {**wide, "price": INT_MAX}, "variants[].price_delta", "bad_terms")
        tee = api.event(await api.send("alice", "listing_create", wide), "listing_created")["listing"]
        ok("listing_create", *term_fields)
        await api.send("alice", "listing_update", {"listing": tee, **terms})
        ok("listing_update", *term_fields)
        plain = api.event(await api.send("alice", "listing_create", {**item, "category": "commerce", "price": 1,
                                                                     "asset": "MKT", "stock": 5}),
                          "listing_created")["listing"]
        line = {"listing": plain, "quantity": 1, "variant": ""}
        cart = {"items": [line], "max_total": INT_MAX, "address_seller": b""}
        await refused("carol", "order_cart", {**cart, "items": [{**line, "listing": INT_MAX}]}, "items[].listing")
        await refused("carol", "order_cart", {**cart, "items": [{"listing": tee, "quantity": MAX_STOCK, "variant": "S"}],
                                              "shipping": "post", "region": "DE"}, "items[].quantity", "amount_overflow")
        settled = api.event(await api.send("carol", "order_cart", cart), "order_placed")["order"]
        ok("order_cart", "max_total")
        await api.send("alice", "order_accept", {"order": settled})
        await refused("carol", "order_refund_offer", {"order": INT_MAX, "buyer_amount": 0}, "order")
        await refused("carol", "order_refund_offer", {"order": settled, "buyer_amount": INT_MAX}, "buyer_amount",
                      "bad_split")
        await api.send("carol", "order_refund_offer", {"order": settled, "buyer_amount": 1})
        await refused("alice", "order_refund_accept", {"order": INT_MAX, "buyer_amount": 1}, "order")
        await refused("alice", "order_refund_accept", {"order": settled, "buyer_amount": INT_MAX}, "buyer_amount",
                      "no_offer")
        await api.send("alice", "order_refund_accept", {"order": settled, "buyer_amount": 1})
        await refused("alice", "coupon_issue", {"shop": INT_MAX, "coupon": "X", "percent_bps": 1, "max_uses": 1,
                                                "expires_ms": 2**53 - 1}, "shop")
        await api.send("alice", "coupon_issue", {"shop": shop_id, "coupon": "ALL", "percent_bps": 10_000,
                                                 "max_uses": MAX_USES, "expires_ms": 2**53 - 1})
        await api.send("alice", "coupon_issue", {"shop": shop_id, "coupon": "MAX", "amount": INT_MAX, "asset": "MKT",
                                                 "max_uses": MAX_USES, "expires_ms": 2**53 - 1})
        ok("coupon_issue", "percent_bps", "amount", "max_uses", "expires_ms")
        await refused("alice", "coupon_revoke", {"shop": INT_MAX, "coupon": "ALL"}, "shop")
        for kind in ("aftersales_deposit", "aftersales_withdraw"):
            await refused("alice", kind, {"shop": INT_MAX, "asset": "MKT", "amount": 1}, "shop")
            await refused("alice", kind, {"shop": shop_id, "asset": "MKT", "amount": INT_MAX}, "amount",
                          "insufficient_funds")
        await refused("carol", "return_request", {"order": INT_MAX, "reason_hash": h("x")}, "order")
        await refused("alice", "return_answer", {"order": INT_MAX, "accept": True}, "order")
        await refused("carol", "return_resolve", {"order": INT_MAX, "accept": True}, "order")
        await refused("carol", "return_ship", {"order": INT_MAX, "tracking_hash": h("x")}, "order")
        for kind in ("return_receive", "return_collect", "return_claim"):
            await refused("carol", kind, {"order": INT_MAX}, "order")
        await refused("carol", "account_set_authority", {"keys": [api.pub("carol")], "threshold": 16}, "threshold",
                      "bad_key_set")
        await api.send("carol", "account_set_authority", {"keys": [api.pub("carol")], "threshold": 1,
                                                          "above": INT_MAX})
        ok("account_set_authority", "above")
        assert (await api.call("account_getAuthority", address=api.address("carol")))["above"] == INT_MAX
        guardians = {"guardians": [api.pub("alice")], "delay_ms": MAX_WINDOW_MS}
        await refused("carol", "account_set_guardians", {**guardians, "threshold": 64}, "threshold", "bad_guardians")
        await api.send("carol", "account_set_guardians", {**guardians, "threshold": 1})
        ok("account_set_guardians", "delay_ms")
        for kind in ("recovery_approve", "recovery_finish"):
            await refused("alice", kind, {"account": api.pub("carol"), "recovery": INT_MAX,
                                          **({"new_key": h("k")} if kind == "recovery_approve" else {})}, "recovery")
        await refused("carol", "recovery_veto", {"recovery": INT_MAX}, "recovery")
        assert covered == integer_fields(), integer_fields() ^ covered

        async def shown() -> dict[str, Any]:
            accounts = {name: await api.call("account_get", address=api.address(name)) for name in ("alice", "bob",
                                                                                                   "carol")}
            return {
                "balances": {name: a["balances"].get(BIG) for name, a in accounts.items()},
                "kyc": accounts["alice"]["kyc"],
                "arbiter": [(a["fee_fixed"], a["fee_bps"]) for a in (await api.call("arbiter_list"))["items"]],
                "assets": [(a["asset"], a["decimals"], a["max_supply"], a["supply"])
                           for a in (await api.call("asset_list"))["items"] if a["asset"] == BIG],
                "search": [(i["id"], i["price"], i["stock"], i["rating"]["count"])
                           for i in (await api.call("listing_search", category="max", sort="price_desc"))["items"]],
                "orders": [(o["id"], o["status"], o["quantity"], o["total"])
                           for o in (await api.call("order_list", buyer=api.address("bob")))["items"]],
                "record": (await api.call("record_get", record="max-1"))["attributes"],
                "terms": {k: v for k, v in (await api.call("listing_get", listing=tee)).items()
                          if k in ("variants", "shipping", "return_window_ms", "stock")},
                "coupon": (await api.call("coupon_get", shop=shop_id, coupon="MAX"))["amount"],
                "settled": (await api.call("order_get", order=settled))["status"],
                "health": (await api.call("node_health"))["ok"],
            }

        before = await shown()
        assert before["balances"]["carol"] == INT_MAX, before  # the arbiter's fee: all of the escrow
        assert before["kyc"]["level"] == 3 and before["kyc"]["expires_ms"] == INT_MAX, before
        assert before["arbiter"] == [(INT_MAX, max_bps)]
        assert before["assets"] == [(BIG, 18, INT_MAX, INT_MAX)]
        assert before["search"] == [(dear, INT_MAX, MAX_STOCK, 0), (cheap, 1, 0, 1)]  # the ruling gave stock back
        assert before["orders"] == [(bulk, "completed", MAX_STOCK, MAX_STOCK), (disputed, "resolved", 1, INT_MAX)]
        assert before["record"] == {"weight": INT_MAX}
        assert before["terms"] == {"stock": MAX_STOCK, "return_window_ms": MAX_WINDOW_MS,
                                   "variants": [{**v} for v in terms["variants"]], "shipping": terms["shipping"]}
        assert before["coupon"] == INT_MAX and before["settled"] == "settled"
        assert before["health"] is True
        assert (await api.call("node_health"))["query_index"]["height"] == node.store.head().height

    async with running_node(cfg, keys) as (_, api):
        assert await shown() == before


def filler(schema: dict[str, Any], api: ApiClient) -> Any:
    """A well-formed value for a required param of this JSON schema (the param under test is set apart)."""
    kind = schema.get("type")
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if schema.get("pattern", "").startswith("^mn1") or "address" in schema.get("description", "").lower():
        return api.address("alice")
    if kind == "string" and schema.get("minLength") == 64:
        return "00" * 32
    return "00"


async def test_every_integer_rpc_param_at_the_u64_edges_gets_a_result_or_a_clear_error(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "home", faucet=True)
    async with running_node(cfg, keys) as (_, api):
        await boundary_market(api)
        methods = (await api.call("rpc_discover"))["methods"]
        tried = 0
        for method in methods:
            params = method.get("params", [])
            base = {p["name"]: filler(p["schema"], api) for p in params if p.get("required")}
            for param in params:
                if param["schema"].get("type") != "integer":
                    continue
                for value in (2**63 - 1, 2**63, INT_MAX):
                    reply = await api.reply(method["name"], **{**base, param["name"]: value})
                    error = reply.get("error")
                    assert error is None or (error["code"] != INTERNAL_ERROR and error["code"] in ERROR_MESSAGES), \
                        (method["name"], param["name"], value, reply)
                    tried += 1
        assert tried >= 3 * 16, tried
