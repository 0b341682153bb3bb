"""Every method in rpc_discover has a result schema that names its fields, and live answers match it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from api_helpers import ApiClient, Market, build_market, running_node, write_home

from marketnode.node.api import build_registry

pytestmark = pytest.mark.asyncio(loop_scope="module")
TYPES = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list, "null": type(None)}


def mismatches(value: Any, schema: dict[str, Any], at: str = "$") -> list[str]:
    """Where ``value`` breaks ``schema``: wrong type, a required field missing, or a field the schema does not name."""
    if "oneOf" in schema:
        tried = [mismatches(value, option, at) for option in schema["oneOf"]]
        return [] if any(not t for t in tried) else min(tried, key=len)
    kinds = schema.get("type")
    if kinds is not None:
        kinds = kinds if isinstance(kinds, list) else [kinds]
        if not any(isinstance(value, TYPES[k]) and not (k == "integer" and isinstance(value, bool)) for k in kinds):
            return [f"{at}: {type(value).__name__} is not {kinds}"]
    out: list[str] = []
    if isinstance(value, dict) and "properties" in schema:
        props = schema["properties"]
        out += [f"{at}.{k}: missing" for k in schema.get("required", ()) if k not in value]
        out += [f"{at}.{k}: not in the schema" for k in value if k not in props]
        for k, v in value.items():
            if k in props:
                out += mismatches(v, props[k], f"{at}.{k}")
    if isinstance(value, dict) and "additionalProperties" in schema:
        for k, v in value.items():
            out += mismatches(v, schema["additionalProperties"], f"{at}.{k}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value[:20]):
            out += mismatches(v, schema["items"], f"{at}[{i}]")
    return out


async def test_every_method_has_a_schema_that_names_its_fields() -> None:
    registry = build_registry()
    vague = []
    for method in registry:
        schema = method.result.schema
        target = schema.get("items", {}) if schema.get("type") == "array" else schema
        if target.get("type") == "object" and not target.get("properties"):
            vague.append(method.name)
        if not schema:
            vague.append(method.name)
    assert not vague, f"result schemas without fields: {vague}"
    assert len(list(registry)) >= 35


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Any, ApiClient, Market, dict]]:
    cfg, keys = write_home(tmp_path_factory.mktemp("schemas") / "home", faucet=True)
    async with running_node(cfg, keys) as (node, api):
        m = await build_market(api)
        sent = await api.send("bob", "transfer", {"to": api.pub("carol"), "asset": "MKT", "amount": 1})
        await api.send("bob", "transfer", {"to": api.pub("carol"), "asset": "MKT", "amount": 1})
        yield node, api, m, sent


async def test_live_answers_match_their_schemas(world: Any) -> None:
    _, api, m, sent = world
    schemas = {method.name: method.result.schema for method in build_registry()}
    calls = [
        ("account_get", {"address": api.address("alice"), "proof": True}), ("account_get", {"address": api.address("dave")}),
        ("arbiter_list", {}), ("asset_list", {}), ("cert_get", {"certificate": m.cert, "proof": True}),
        ("cert_verify", {"certificate": m.cert}), ("chain_getBlock", {"height": 2}),
        ("chain_getBlock", {"height": 3, "full": False}), ("chain_getEvidence", {}), ("chain_getGenesis", {}),
        ("chain_getValidators", {}), ("listing_get", {"listing": m.lamp, "proof": True}),
        ("listing_get", {"listing": m.chair}), ("listing_recommend", {"address": api.address("bob")}),
        ("listing_search", {"q": "lamp"}), ("node_health", {}), ("node_peers", {}), ("node_status", {}),
        ("order_get", {"order": m.completed_order, "proof": True}), ("order_get", {"order": m.disputed_order}),
        ("order_get", {"order": m.open_order}), ("order_list", {"buyer": api.address("bob")}),
        ("record_get", {"record": m.record}), ("record_history", {"record": m.record}),
        ("review_list", {"listing": m.lamp}), ("shop_get", {"shop": m.shop}), ("shop_list", {}),
        ("state_getProof", {"keys": ["00"]}), ("tx_get", {"hash": sent["hash"]}),
        ("tx_get", {"hash": "00" * 32}), ("rpc_discover", {}),
        ("tx_estimate", {"tx": api.sign("carol", "transfer", {"to": api.pub("bob"), "asset": "MKT",
                                                              "amount": 1}).encode().hex()}),
        ("dev_faucet", {"address": api.address("heidi"), "wait": "commit"}),
        ("tx_sendBatch", {"txs": [api.sign("erin", "transfer", {"to": api.pub("bob"), "asset": "MKT",
                                                                "amount": 1}).encode().hex(), "00"]}),
    ]
    problems = []
    for method, params in calls:
        result = await api.call(method, **params)
        problems += [f"{method}: {p}" for p in mismatches(result, schemas[method])]
    problems += [f"tx_send: {p}" for p in mismatches(sent, schemas["tx_send"])]
    assert not problems, "\n".join(problems)
