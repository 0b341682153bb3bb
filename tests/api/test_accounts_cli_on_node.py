"""Key rotation, a 2-of-2 account and a guardian recovery through the CLI against a real in-process node.

Admission (mempool, from the head's key set) and execution both run: a tx
signed by a rotated-out key is refused by the node before any fee, and the
rotated account keeps its address and balances.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from api_helpers import ApiClient, running_node, write_home
from click.testing import CliRunner

from marketnode.cli.main import main
from marketnode.core.keys import PrivateKey

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[ApiClient, Path]]:
    home = tmp_path_factory.mktemp("accounts-cli")
    cfg, keys = write_home(home / "home", faucet=False)
    for name, key in keys.items():
        key.save(home / f"{name}.key")
    for name in ("alice-new", "bob-phone", "heidi-new"):
        PrivateKey.generate().save(home / f"{name}.key")
    async with running_node(cfg, keys) as (_, api):
        yield api, home


async def cli(world: Any, *args: str, key: str | None = None) -> Any:
    api, home = world
    extra = ["--rpc", api.url] + (["--key-file", str(home / f"{key}.key")] if key else [])
    return await asyncio.to_thread(CliRunner().invoke, main, [*args, *extra])


def address(world: Any, name: str) -> str:
    return PrivateKey.load(world[1] / f"{name}.key").address


async def authority(world: Any, name: str) -> dict[str, Any]:
    return await world[0].call("account_getAuthority", address=world[0].address(name))


async def test_rotation_keeps_the_account_and_refuses_the_old_key(world: Any) -> None:
    api, home = world
    before = await api.call("account_get", address=api.address("alice"))
    result = await cli(world, "account", "rotate", "--new-key-file", str(home / "alice-new.key"), key="alice")
    assert result.exit_code == 0, result.output
    assert (await authority(world, "alice"))["keys"][0]["address"] == address(world, "alice-new")
    old = await cli(world, "transfer", api.address("bob"), "5", "MKT", key="alice")
    assert old.exit_code == 1 and "bad_signers" in old.output, old.output
    new = await cli(world, "transfer", api.address("bob"), "5", "MKT", "--account", api.address("alice"),
                    key="alice-new")
    assert new.exit_code == 0, new.output
    after = await api.call("account_get", address=api.address("alice"))
    assert after["balances"]["MKT"] == before["balances"]["MKT"] - 5  # the dev chain's min_fee is 0
    shown = await cli(world, "account", "keys", api.address("alice"))
    assert address(world, "alice-new") in shown.output and "version 1" in shown.output, shown.output


async def test_a_two_of_two_account_refuses_a_single_key_tx(world: Any) -> None:
    api, home = world
    bob, phone = api.address("bob"), address(world, "bob-phone")
    made = await cli(world, "account", "set-keys", "--member", bob, "--member", phone, "--threshold", "2",
                     "--new-key-file", str(home / "bob-phone.key"), key="bob")
    assert made.exit_code == 0, made.output
    single = await cli(world, "transfer", api.address("carol"), "1", "MKT", key="bob")
    assert single.exit_code == 1 and "bad_signers" in single.output and "needs 2" in single.output, single.output
    both = await cli(world, "transfer", api.address("carol"), "1", "MKT", "--cosign", str(home / "bob-phone.key"),
                     "--json", key="bob")
    assert both.exit_code == 0, both.output
    status = await api.call("tx_get", hash=json.loads(both.output)["hash"])
    assert sorted(k for k, _ in status["tx"]["sigs"]) == sorted([api.pub("bob").hex(),
                                                                  PrivateKey.load(home / "bob-phone.key").public_key.hex()])


async def test_guardians_recover_a_lost_key_after_the_delay(world: Any) -> None:
    api, _home = world
    heidi, new = api.address("heidi"), address(world, "heidi-new")
    made = await cli(world, "account", "guardians", "--guardian", api.address("erin"), "--guardian",
                     api.address("frank"), "--threshold", "2", "--delay", "1s", key="heidi")
    assert made.exit_code == 0, made.output
    started = await cli(world, "account", "recover", "start", heidi, new, "--json", key="erin")
    assert started.exit_code == 0, started.output
    recovery = next(e["attrs"]["recovery"] for e in json.loads(started.output)["events"]
                    if e["kind"] == "recovery_started")
    early = await cli(world, "account", "recover", "finish", heidi, str(recovery), key="grace")
    assert early.exit_code == 1 and "too_early" in early.output, early.output
    approved = await cli(world, "account", "recover", "approve", heidi, str(recovery), new, key="frank")
    assert approved.exit_code == 0, approved.output
    deadline = time.monotonic() + 20
    while True:  # the 1 s veto delay runs in block time: retry until a block is past it
        done = await cli(world, "account", "recover", "finish", heidi, str(recovery), key="grace")
        if done.exit_code == 0 or time.monotonic() > deadline:
            break
        assert "too_early" in done.output, done.output
    assert done.exit_code == 0, done.output
    sent = await cli(world, "transfer", api.address("dave"), "1", "MKT", "--account", heidi, key="heidi-new")
    assert sent.exit_code == 0, sent.output
    lost = await cli(world, "transfer", api.address("dave"), "1", "MKT", key="heidi")
    assert lost.exit_code == 1 and "bad_signers" in lost.output, lost.output


async def test_the_owner_vetoes_a_recovery_it_did_not_ask_for(world: Any) -> None:
    api, _home = world
    frank = api.address("frank")
    made = await cli(world, "account", "guardians", "--guardian", api.address("erin"), "--threshold", "1",
                     "--delay", "1h", key="frank")
    assert made.exit_code == 0, made.output
    phone = address(world, "bob-phone")
    started = await cli(world, "account", "recover", "start", frank, phone, key="erin")
    assert started.exit_code == 0, started.output
    recovery = int(started.output.split("recovery ")[1].split()[0])
    assert f"marketnode account recover approve {frank} {recovery} {phone}" in started.output  # a command to copy
    shown = await cli(world, "account", "keys", frank)
    assert f"#{recovery} waiting" in shown.output, shown.output
    vetoed = await cli(world, "account", "recover", "veto", str(recovery), key="frank")
    assert vetoed.exit_code == 0, vetoed.output
    assert (await authority(world, "frank"))["recovery"] is None
    late = await cli(world, "account", "recover", "finish", frank, str(recovery), key="erin")
    assert late.exit_code == 1 and "not_found" in late.output, late.output


async def test_a_second_device_cosigns_offline_and_the_tx_commits(world: Any) -> None:
    """bob's 2-of-2 account: his device signs, the phone adds its signature with `account cosign`, no node."""
    from marketnode.core.types import Tx
    from marketnode.wallet.builders import build_tx

    api, home = world
    status = await api.call("account_get", address=api.address("bob"))
    device = PrivateKey.load(home / "bob.key")
    chain_id = (await api.call("node_status"))["chain_id"]
    half = build_tx(device, chain_id, status["nonce"],
                    "transfer", {"to": api.pub("carol"), "asset": "MKT", "amount": 1}, 0)
    done = await asyncio.to_thread(CliRunner().invoke, main, ["account", "cosign", half.encode().hex(), "--key-file",
                                                              str(home / "bob-phone.key")])
    assert done.exit_code == 0, done.output
    full = Tx.decode(bytes.fromhex(done.output.strip()))
    assert len(full.sigs) == 2 and full.verify()
    sent = await api.call("tx_send", tx=full.encode().hex(), wait="commit", timeout_s=20)
    assert sent["status"] == "committed", sent


async def test_the_demo_accounts_act_runs_on_a_node(world: Any) -> None:
    """`marketnode demo` Act 5c: rotation, a refused single-key tx of a 2-of-2 account, a recovery."""
    from marketnode.cli.demo_accounts import accounts
    from marketnode.cli.demo_story import CAST, Story
    from marketnode.wallet.account import Wallet

    api, home = world
    cast = {name: Wallet(PrivateKey.load(home / f"{name}.key"), api.url) for name in CAST}
    story = await asyncio.to_thread(Story, cast, lambda step: None)  # it asks the node: off the node's loop
    await asyncio.to_thread(accounts, story)
    ids = story.outcome.ids
    assert ids["rotated_old_key_refused"] == ids["two_of_two_single_key_refused"] == "bad_signers"
    two = await api.call("account_getAuthority", address=ids["two_of_two_account"])
    assert two["threshold"] == 2 and len(two["keys"]) == 2
    recovered = await api.call("account_getAuthority", address=ids["recovered_account"])
    assert recovered["version"] == 2 and recovered["recovery"] is None and recovered["guardians"] is not None
