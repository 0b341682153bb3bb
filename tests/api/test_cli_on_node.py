"""The marketnode CLI against a real in-process node: what a first user types, and what the chain then holds.

Each CLI run happens in a worker thread (the CLI's RPC client blocks) while the node runs on the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from api_helpers import ApiClient, Market, build_market, running_node, write_home
from click.testing import CliRunner

from marketnode.cli.main import main

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Any, ApiClient, Market, Path]]:
    home = tmp_path_factory.mktemp("cli-on-node")
    cfg, keys = write_home(home / "home", faucet=False)
    for name, key in keys.items():
        key.save(home / f"{name}.key")
    async with running_node(cfg, keys) as (node, api):
        market = await build_market(api)
        yield node, api, market, home


async def cli(world: Any, *args: str, as_name: str | None = None, input: str | None = None) -> Any:
    _, api, _, home = world
    extra = ["--rpc", api.url] + (["--key-file", str(home / f"{as_name}.key")] if as_name else [])
    return await asyncio.to_thread(CliRunner().invoke, main, [*args, *extra], input=input)


async def nonce(api: ApiClient, name: str) -> int:
    return (await api.call("account_get", address=api.address(name)))["nonce"]


async def test_an_order_above_the_stock_is_refused_before_sending_and_the_nonce_stays(world: Any) -> None:
    _, api, m, _ = world
    before = await nonce(api, "bob")
    result = await cli(world, "order", "place", str(m.table), "--quantity", "99", "--address", "1 Main St, Berlin",
                       "--arbiter", api.address("dave"), as_name="bob")
    assert result.exit_code == 1, result.output
    assert "order_place would fail: out_of_stock" in result.output and "nothing was sent" in result.output
    assert await nonce(api, "bob") == before


async def test_a_second_confirm_is_refused_before_sending(world: Any) -> None:
    _, api, m, _ = world
    before = await nonce(api, "bob")
    result = await cli(world, "order", "confirm", str(m.completed_order), as_name="bob")
    assert result.exit_code == 1 and "order_confirm would fail" in result.output, result.output
    assert await nonce(api, "bob") == before


async def test_no_check_sends_it_anyway_and_the_fee_is_paid(world: Any) -> None:
    _, api, m, _ = world
    before = await nonce(api, "bob")
    result = await cli(world, "order", "confirm", str(m.completed_order), "--no-check", as_name="bob")
    assert result.exit_code == 1 and "the fee was paid" in result.output, result.output
    assert await nonce(api, "bob") == before + 1


async def test_the_sdk_checks_in_one_call(world: Any) -> None:
    from marketnode.core.keys import PrivateKey
    from marketnode.wallet.account import TxRefusedError, Wallet

    _, api, m, home = world
    before = await nonce(api, "bob")
    wallet = Wallet(PrivateKey.load(home / "bob.key"), api.url)
    body = {"order": m.completed_order}
    with pytest.raises(TxRefusedError) as refused:
        await asyncio.to_thread(wallet.send, "order_confirm", body, check=True)
    assert refused.value.code == "bad_transition" and await nonce(api, "bob") == before


async def test_order_show_prints_the_next_step_its_deadline_and_who_may_act(world: Any) -> None:
    _, _, m, _ = world
    placed = await cli(world, "order", "show", str(m.open_order))
    assert placed.exit_code == 0, placed.output
    out = placed.output
    assert "waiting for: -" not in out and "then:" not in out and "refund:" not in out
    assert f"seller: accept (before the deadline): marketnode order accept {m.open_order}" in out
    assert f"buyer: cancel (any time): marketnode order cancel {m.open_order}" in out
    assert f"buyer may claim: marketnode order claim {m.open_order} (the buyer is refunded in full)" in out
    assert "deadline:" in out and "(in " in out and "Oak dining table (shop" in out and "Alice Antiques" in out
    done = await cli(world, "order", "show", str(m.completed_order))
    assert "none: the order is completed" in done.output and "deadline: -" in done.output
    resolved = await cli(world, "order", "show", str(m.disputed_order))
    assert "refund:" in resolved.output and "300 MKT" in resolved.output and "none: the order is resolved" in resolved.output
