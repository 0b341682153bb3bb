"""dev_faucet against running nodes: real on-chain transfers, rate limits, and off unless configured."""

from __future__ import annotations

import asyncio

from api_helpers import running_node, write_home
from waiting import wait_for_async

from marketnode.core.keys import PrivateKey, address_from_pubkey
from marketnode.node.api.faucet import FAUCET_AMOUNT


def fresh_address() -> str:
    return address_from_pubkey(PrivateKey.generate().public_key)


async def test_faucet_moves_funds_on_chain_and_rate_limits_per_address(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "home", faucet=True)
    async with running_node(cfg, keys) as (_, api):
        to = fresh_address()
        paid = await api.call("dev_faucet", address=to, wait="commit")
        assert paid["status"] == "committed" and paid["amount"] == FAUCET_AMOUNT and paid["to"] == to
        account = await api.call("account_get", address=to)
        assert account["balances"] == {"MKT": FAUCET_AMOUNT}
        again = await api.error("dev_faucet", address=to)
        assert again["code"] == -32005 and again["data"]["retry_after_s"] > 0
        stable = await api.call("dev_faucet", address=fresh_address(), asset="USDX", amount=123, wait="commit")
        assert stable["status"] == "committed" and stable["asset"] == "USDX"
        faucet = await api.call("account_get", address=paid["from"])
        assert faucet["nonce"] == 2


async def test_faucet_serves_many_addresses_at_once_with_consecutive_nonces(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "home", faucet=True)
    async with running_node(cfg, keys) as (_, api):
        targets = [fresh_address() for _ in range(5)]
        sent = await asyncio.gather(*(api.call("dev_faucet", address=t, amount=10) for t in targets))
        assert all(tx["durable"] is True for tx in sent), sent  # journaled before the answer, like tx_send

        async def settled(tx_hash: str) -> dict | None:
            status = await api.call("tx_get", hash=tx_hash)
            return None if status["status"] == "pending" else status

        for tx in sent:
            status = await wait_for_async(lambda h=tx["hash"]: settled(h), 4, f"faucet tx {tx['hash']} to leave pending")
            assert status["status"] == "committed", status
        for target in targets:
            assert (await api.call("account_get", address=target))["balances"] == {"MKT": 10}


async def test_faucet_refuses_what_the_transfer_would_fail_on(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "home", faucet=True)
    async with running_node(cfg, keys) as (_, api):
        unknown = await api.error("dev_faucet", address=fresh_address(), asset="NOPE")
        assert unknown["code"] == -32003 and unknown["data"]["code"] == "not_found"
        too_much = await api.error("dev_faucet", address=fresh_address(), amount=10**12)
        assert too_much["code"] == -32602
        assert (await api.error("dev_faucet", address="mn1bad"))["code"] == -32602


async def test_faucet_is_off_by_default_and_needs_its_key(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "off", faucet=False)
    async with running_node(cfg, keys) as (_, api):
        error = await api.error("dev_faucet", address=fresh_address())
        assert error["code"] == -32601 and error["data"]["reason"] == "disabled"
    cfg, keys = write_home(tmp_path / "nokey", faucet=True, faucet_key=False)
    async with running_node(cfg, keys) as (_, api):
        error = await api.error("dev_faucet", address=fresh_address())
        assert error["code"] == -32601 and error["data"]["reason"] == "no_key"


def test_faucet_caps_all_addresses_together_per_minute() -> None:
    from marketnode.core.errors import RpcError
    from marketnode.node.api.faucet import FAUCET_MAX_PER_MINUTE, Faucet

    faucet = Faucet(PrivateKey.generate())
    for i in range(FAUCET_MAX_PER_MINUTE):
        address, client = i.to_bytes(32, "big"), f"10.0.0.{i}"
        faucet.check_rate(address, 100.0, client)
        faucet.served(address, 100.0, client)
    try:
        faucet.check_rate(b"\xff" * 32, 130.0, "10.0.1.1")
    except RpcError as exc:
        assert exc.code == -32005 and exc.data["retry_after_s"] == 31
    else:
        raise AssertionError("the faucet served past its global cap")
    faucet.check_rate(b"\xff" * 32, 160.0, "10.0.1.1")  # a minute later the window has moved on


def test_faucet_caps_each_client_address_per_minute_at_the_edge() -> None:
    from marketnode.core.errors import RpcError
    from marketnode.node.api.faucet import FAUCET_MAX_PER_CLIENT_PER_MINUTE, Faucet

    faucet = Faucet(PrivateKey.generate())
    for i in range(FAUCET_MAX_PER_CLIENT_PER_MINUTE):  # fresh addresses, all from one client
        address = i.to_bytes(32, "big")
        faucet.check_rate(address, 100.0, "192.0.2.9")
        faucet.served(address, 100.0, "192.0.2.9")
    try:
        faucet.check_rate(b"\xff" * 32, 110.0, "192.0.2.9")
    except RpcError as exc:
        assert exc.code == -32005 and exc.data["retry_after_s"] == 51 and "this client" in exc.message
    else:
        raise AssertionError("one client emptied the faucet with fresh addresses")
    faucet.check_rate(b"\xff" * 32, 110.0, "192.0.2.10")  # another client is still served
    faucet.check_rate(b"\xff" * 32, 160.0, "192.0.2.9")  # and this one again a minute later


async def test_faucet_grants_each_asset_once_per_interval_not_one_asset_per_address(tmp_path) -> None:
    cfg, keys = write_home(tmp_path / "home", faucet=True)
    async with running_node(cfg, keys) as (_, api):
        to = fresh_address()
        native = await api.call("dev_faucet", address=to, wait="commit")
        stable = await api.call("dev_faucet", address=to, asset="USDX", amount=123, wait="commit")
        assert native["status"] == stable["status"] == "committed"
        again = await api.error("dev_faucet", address=to, asset="USDX")
        assert again["code"] == -32005 and "USDX recently" in again["message"]
