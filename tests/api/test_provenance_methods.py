"""record_get, record_history, cert_get and cert_verify over real HTTP to a running node."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from api_helpers import ApiClient, Market, build_market, h, running_node, write_home

pytestmark = pytest.mark.asyncio(loop_scope="module")

NOT_FOUND, INVALID_PARAMS = -32001, -32602


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Any, ApiClient, Market]]:
    cfg, keys = write_home(tmp_path_factory.mktemp("provenance") / "home", faucet=False)
    async with running_node(cfg, keys) as (node, api):
        yield node, api, await build_market(api)


async def test_record_get_shows_roles_proposals_and_certificates(world: Any) -> None:
    _, api, m = world
    record = await api.call("record_get", record=m.record)
    assert record["id"] == m.record and record["type"] == "artwork" and record["attributes"] == {"maker": "Ott"}
    assert record["producer"] == api.address("frank") and record["owner"] == api.address("alice")
    assert record["custodian"] == api.address("frank") and record["final"] is False
    assert record["proposals"] == [{"receiver": api.address("bob"), "role": "reporter", "issuer": api.address("alice"),
                                    "terms": None, "time_ms": record["proposals"][0]["time_ms"]}]
    assert record["certificates"] == [m.cert]
    assert (await api.error("record_get", record="no-such-thing"))["code"] == NOT_FOUND
    assert (await api.error("record_get", record="x" * 65))["code"] == INVALID_PARAMS


async def test_record_history_is_the_full_trace_in_order(world: Any) -> None:
    _, api, m = world
    trace = await api.call("record_history", record=m.record)
    assert [e["event"] for e in trace["items"]] == ["created", "reported", "owner"]
    assert [e["seq"] for e in trace["items"]] == [0, 1, 2] and trace["next_cursor"] is None
    assert trace["items"][1]["property"] == "location" and trace["items"][1]["value"] == "Berlin"
    assert trace["items"][2]["account"] == api.address("alice") and trace["items"][2]["by"] == api.address("alice")
    first = await api.call("record_history", record=m.record, limit=2)
    rest = await api.call("record_history", record=m.record, limit=2, cursor=first["next_cursor"])
    assert first["items"] + rest["items"] == trace["items"] and rest["next_cursor"] is None
    assert (await api.error("record_history", record="nope"))["code"] == NOT_FOUND
    assert (await api.error("record_history", record=m.record, cursor="-1"))["code"] == INVALID_PARAMS


async def test_cert_get_shows_issuer_owner_chain_and_link(world: Any) -> None:
    _, api, m = world
    cert = await api.call("cert_get", certificate=m.cert)
    assert cert["issuer"] == api.address("frank") and cert["issuer_accredited"] is True
    assert cert["owner"] == api.address("alice") and cert["record"] == m.record
    assert cert["fingerprint"] == m.fingerprint.hex() and cert["valid"] is True and cert["revoked"] is False
    assert [(c["from"], c["to"]) for c in cert["ownership_chain"]] == [(None, api.address("alice"))]
    assert (await api.error("cert_get", certificate=777))["code"] == NOT_FOUND


async def test_cert_verify_by_id_or_fingerprint_follows_transfers_and_revocation(world: Any) -> None:
    _, api, m = world
    await api.send("alice", "cert_transfer", {"certificate": m.cert, "to": api.pub("bob")})
    by_fp = await api.call("cert_verify", fingerprint=m.fingerprint.hex())
    assert by_fp["valid"] is True and [c["id"] for c in by_fp["certificates"]] == [m.cert]
    chain = by_fp["certificates"][0]["ownership_chain"]
    assert [c["to"] for c in chain] == [api.address("alice"), api.address("bob")]
    await api.send("frank", "cert_revoke", {"certificate": m.cert, "reason": "forgery found"})
    by_id = await api.call("cert_verify", certificate=m.cert)
    assert by_id["valid"] is False and by_id["fingerprint"] == m.fingerprint.hex()
    assert by_id["certificates"][0]["revoked"] is True
    assert by_id["certificates"][0]["revoke_reason"] == "forgery found"
    unknown = await api.call("cert_verify", fingerprint=h("never certified").hex())
    assert unknown == {"valid": False, "fingerprint": h("never certified").hex(), "certificates": []}
    assert (await api.error("cert_verify", certificate=555))["code"] == NOT_FOUND
    assert (await api.error("cert_verify"))["code"] == INVALID_PARAMS
    both = await api.error("cert_verify", certificate=m.cert, fingerprint=m.fingerprint.hex())
    assert both["code"] == INVALID_PARAMS
    assert (await api.error("cert_verify", fingerprint="abc"))["code"] == INVALID_PARAMS


async def test_a_certificate_from_an_unaccredited_issuer_does_not_verify(world: Any) -> None:
    _, api, _ = world
    # only certifiers may issue, so accreditation is checked on the issuer's role now: the one certifier is valid
    result = await api.send("bob", "cert_issue", {"fingerprint": h("bob's own"), "owner": None, "record": None},
                            ok=False)
    assert result["receipt"]["code"] == "not_authorized"
    assert (await api.call("cert_verify", fingerprint=h("bob's own").hex()))["valid"] is False
