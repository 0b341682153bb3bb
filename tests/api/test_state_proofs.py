"""Issue 16: state_getProof, proof: true and tx_get's receipt proof, checked by wallet/light.py from the genesis alone."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from api_helpers import ApiClient, Market, build_market, running_node, write_home

from marketnode.core.encoding import decode
from marketnode.core.keys import pubkey_from_address
from marketnode.market import keys
from marketnode.market.genesis import Genesis
from marketnode.node.service import Node
from marketnode.wallet.light import LightClient, LightClientError, genesis_hash

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Any, ApiClient, Market, dict]]:
    cfg, wallet_keys = write_home(tmp_path_factory.mktemp("proofs") / "home", faucet=False)
    async with running_node(cfg, wallet_keys) as (node, api):
        m = await build_market(api)
        await api.send("alice", "order_accept", {"order": m.open_order})
        await api.send("alice", "order_ship", {"order": m.open_order, "tracking_hash": b"UPS-7"})
        failed = await api.send("carol", "transfer", {"to": api.pub("bob"), "asset": "MKT", "amount": 10**18}, ok=False)
        await api.send("bob", "transfer", {"to": api.pub("carol"), "asset": "MKT", "amount": 1})  # a successor block
        yield node, api, m, failed


async def light_client(api: ApiClient, node: Node) -> LightClient:
    document = (await api.call("chain_getGenesis"))["genesis"]
    pinned = Genesis.from_json(node.cfg.genesis_path.read_text()).hash  # what an operator hands out of band
    return LightClient.from_genesis(document, pinned)


async def test_the_genesis_hash_rule_matches_the_node_and_a_wrong_pin_is_refused(world: Any) -> None:
    node, api, _, _ = world
    served = await api.call("chain_getGenesis")
    assert genesis_hash(served["genesis"]).hex() == served["hash"] == node.genesis.hash.hex()
    with pytest.raises(LightClientError, match="pinned"):
        LightClient.from_genesis(served["genesis"], "00" * 32)


async def test_funded_account_shipped_order_certificate_and_absent_key_verify(world: Any) -> None:
    node, api, m, _ = world
    client = await light_client(api, node)
    alice = api.pub("alice")
    wanted = [keys.balance(alice, "MKT"), keys.order(m.open_order), keys.certificate(m.cert), keys.order(10**6)]
    proof = await api.call("state_getProof", keys=[k.hex() for k in wanted])
    verified = client.verify_state(proof, wanted)
    head = (await api.call("node_status"))["height"]
    assert verified.height == head - 1
    assert decode(verified.values[wanted[0]]) > 0
    assert decode(verified.values[wanted[1]])["status"] == "shipped"
    assert decode(verified.values[wanted[2]])["owner"] == alice
    assert verified.values[wanted[3]] is None
    older = client.verify_state(await api.call("state_getProof", keys=[wanted[0].hex()], height=head - 3), wanted[:1])
    assert older.height == head - 3


def flips(obj: Any) -> Iterator[Any]:
    """Every copy of ``obj`` with one byte of one hex string flipped, or one integer moved by one."""
    def paths(value: Any, at: tuple) -> Iterator[tuple]:
        if isinstance(value, dict):
            for k, v in value.items():
                yield from paths(v, (*at, k))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                yield from paths(v, (*at, i))
        elif isinstance(value, str | int) and not isinstance(value, bool):
            yield at

    for at in paths(obj, ()):
        parent = obj
        for step in at[:-1]:
            parent = parent[step]
        original = parent[at[-1]]
        variants = [original + 1] if isinstance(original, int) else [
            original[:i] + format(int(original[i:i + 2], 16) ^ 0x01, "02x") + original[i + 2:]
            for i in range(0, len(original), 2)] if _is_hex(original) else [original + "x"]
        for variant in variants:
            changed = copy.deepcopy(obj)
            target = changed
            for step in at[:-1]:
                target = target[step]
            target[at[-1]] = variant
            yield changed


def _is_hex(text: str) -> bool:
    try:
        bytes.fromhex(text)
        return len(text) % 2 == 0
    except ValueError:
        return False


async def test_flipping_any_byte_of_value_proof_header_or_certificate_fails(world: Any) -> None:
    node, api, m, _ = world
    client = await light_client(api, node)
    for key in (keys.order(m.open_order), keys.order(10**6)):  # a value and an absence
        proof = await api.call("state_getProof", keys=[key.hex()])
        client.verify_state(proof, [key])
        tried = 0
        for changed in flips(proof):
            tried += 1
            fresh = LightClient(client.chain_id, client.validators)
            with pytest.raises(LightClientError):
                fresh.verify_state(changed, [key])
        assert tried > 300
    absent = await api.call("state_getProof", keys=[keys.order(10**6).hex()])
    absent["proofs"][0]["value"] = "00"  # claim a value where the key is absent
    with pytest.raises(LightClientError):
        client.verify_state(absent, [keys.order(10**6)])


async def test_proof_true_answers_carry_proofs_of_what_they_read(world: Any) -> None:
    node, api, m, _ = world
    client = await light_client(api, node)
    account = await api.call("account_get", address=api.address("alice"), proof=True)
    values = client.verify_state(account["proof"]).values
    alice = pubkey_from_address(account["address"])
    assert keys.nonce(alice) in values and keys.balance(alice, "MKT") in values
    for method, params, key in (("order_get", {"order": m.open_order}, keys.order(m.open_order)),
                                ("listing_get", {"listing": m.lamp}, keys.listing(m.lamp)),
                                ("cert_get", {"certificate": m.cert}, keys.certificate(m.cert))):
        answer = await api.call(method, proof=True, **params)
        assert client.verify_state(answer["proof"], [key]).values[key] is not None
        assert "proof" not in await api.call(method, **params)


async def test_tx_get_of_a_failed_tx_proves_failed_with_its_code(world: Any) -> None:
    node, api, _, failed = world
    client = await light_client(api, node)
    status = await api.call("tx_get", hash=failed["hash"])
    outcome = client.verify_tx(status)
    assert (outcome["ok"], outcome["code"]) == (False, "insufficient_funds")
    lying = json.loads(json.dumps(status))
    lying["status"], lying["receipt"]["code"] = "committed", "ok"
    with pytest.raises(LightClientError, match="proven receipt"):
        client.verify_tx(lying)
    receipt = status["receipt_proof"]["receipt"]
    for i in range(0, len(receipt), 2):
        tampered = json.loads(json.dumps(status))
        tampered["receipt_proof"]["receipt"] = receipt[:i] + format(int(receipt[i:i + 2], 16) ^ 1, "02x") + receipt[i + 2:]
        with pytest.raises(LightClientError):
            LightClient(client.chain_id, client.validators).verify_tx(tampered)


async def test_the_newest_block_has_no_receipt_proof_until_a_successor_exists(world: Any) -> None:
    _, api, _, _ = world
    sent = await api.send("dave", "transfer", {"to": api.pub("bob"), "asset": "MKT", "amount": 1})
    assert (await api.call("tx_get", hash=sent["hash"]))["receipt_proof"] is None


async def test_cross_check_refuses_a_node_that_answers_another_height(world: Any) -> None:
    node, api, _, _ = world
    client = await light_client(api, node)
    key = keys.balance(api.pub("alice"), "MKT")
    head = (await api.call("node_status"))["height"]
    first = await api.call("state_getProof", keys=[key.hex()])
    other = await api.call("state_getProof", keys=[key.hex()], height=head - 5)

    class Canned:
        def __init__(self, answer: dict) -> None:
            self.answer = answer

        def call(self, method: str, /, **params: Any) -> Any:
            return self.answer

    assert client.cross_check(Canned(first), Canned(first), [key]).height == first["height"]
    with pytest.raises(LightClientError, match="second node"):
        client.cross_check(Canned(first), Canned(other), [key])


async def test_bad_requests_get_clear_errors(world: Any) -> None:
    _, api, _, _ = world
    head = (await api.call("node_status"))["height"]
    assert (await api.error("state_getProof", keys=["00"], height=head))["code"] == -32602
    assert (await api.error("state_getProof", keys=["zz"]))["code"] == -32602
    assert (await api.error("state_getProof", keys=["00"] * 65))["code"] == -32602
    assert (await api.error("state_getProof", keys=["00" * 1025]))["code"] == -32602


async def test_account_show_verify_prints_the_height_and_verified(world: Any) -> None:
    import asyncio

    from click.testing import CliRunner

    from marketnode.cli.main import main

    node, api, _, _ = world
    pinned = node.genesis.hash.hex()
    args = ["account", "show", api.address("alice"), "--verify", "--genesis-hash", pinned, "--rpc", api.url]
    result = await asyncio.to_thread(CliRunner().invoke, main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    head = (await api.call("node_status"))["height"]
    assert f"height {head - 1}: verified" in result.output
    wrong = await asyncio.to_thread(CliRunner().invoke, main, [*args[:-4], "--genesis-hash", "11" * 32, "--rpc",
                                                               api.url])
    assert wrong.exit_code != 0 and "NOT verified" in wrong.output
    crossed = await asyncio.to_thread(CliRunner().invoke, main, [*args, "--cross-check", api.url, "--json"])
    assert crossed.exit_code == 0, crossed.output
    assert json.loads(crossed.output)["verified"]["height"] == head - 1


async def test_refusals_name_the_same_fault_the_same_way_and_a_gapped_tx_is_told_the_nonce_it_needs(world: Any) -> None:
    from marketnode.core.types import Tx

    _, api, _, _ = world
    key = api.keys["erin"]
    account = await api.call("account_get", address=api.address("erin"))
    body = {"to": api.pub("bob"), "asset": "MKT", "amount": 1}
    other_chain = Tx("another-chain", key.public_key, account["nonce"], "transfer", body, 0).sign(key)
    refused = await api.error("tx_send", tx=other_chain.encode().hex())
    assert (refused["code"], refused["data"]["code"]) == (-32000, "wrong_chain")
    assert (await api.call("tx_estimate", tx=other_chain.encode().hex()))["code"] == "wrong_chain"
    good = Tx(api.chain_id, key.public_key, account["nonce"], "transfer", body, 0).sign(key)
    forged = Tx(api.chain_id, key.public_key, account["nonce"], "transfer", body, 0, bytes(64))
    assert forged.hash != good.hash
    refused = await api.error("tx_send", tx=forged.encode().hex())
    assert (refused["code"], refused["data"]["code"]) == (-32003, "signature")
    assert (await api.call("tx_estimate", tx=forged.encode().hex()))["code"] == "signature"
    ahead = Tx(api.chain_id, key.public_key, account["nonce"] + 3, "transfer", body, 0).sign(key)
    # Never left pending without a word (issue 12): a lightly loaded node takes it and names the nonce it
    # waits for; a loaded one refuses it with -32005 nonce_gap and the same nonce (tests/api/test_tx_intake.py).
    pending = await api.call("tx_send", tx=ahead.encode().hex())
    assert (pending["status"], pending["waiting_for_nonce"]) == ("pending", account["nonce"]), pending
    assert (await api.call("tx_get", hash="00" * 32))["status"] == "unknown"


async def test_the_explorer_checks_a_failed_txs_outcome_in_javascript(world: Any) -> None:
    import asyncio
    import shutil
    import subprocess

    from marketnode.node.web import STATIC_DIR

    if shutil.which("node") is None:
        pytest.skip("Node.js is not installed")
    _, api, _, failed = world
    status = await api.call("tx_get", hash=failed["hash"])
    keys_hex = [v["public_key"] for v in await api.call("chain_getValidators")]
    lying = json.loads(json.dumps(status))
    lying["status"], lying["receipt"]["code"] = "committed", "ok"
    flipped = json.loads(json.dumps(status))
    siblings = flipped["receipt_proof"]["state"]["proofs"][0]["proof"]["siblings"]
    siblings[0] = ("0" if siblings[0][0] != "0" else "1") + siblings[0][1:]
    script = """
const { verifyReceiptProof } = await import(process.argv[1] + "/proof.js");
const [answers, keys] = JSON.parse(process.argv[2]);
const out = [];
for (const a of answers) { const r = await verifyReceiptProof(a, keys); out.push([r.verified, r.receipt?.code ?? null]); }
console.log(JSON.stringify(out));
"""
    done = await asyncio.to_thread(subprocess.run, ["node", "--input-type=module", "-e", script, str(STATIC_DIR),
                                                    json.dumps([[status, lying, flipped], keys_hex])],
                                   capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [[True, "insufficient_funds"], [False, "insufficient_funds"],
                                       [False, "insufficient_funds"]]


async def test_a_pruned_height_is_not_found_and_says_how_many_heights_are_kept(world: Any) -> None:
    node, api, _, _ = world  # last in this module: it shrinks the node's window
    node.store.versions_kept = 2
    for _ in range(3):
        await api.send("bob", "transfer", {"to": api.pub("carol"), "asset": "MKT", "amount": 1})
    error = await api.error("state_getProof", keys=["00"], height=1)
    assert error["code"] == -32001 and "storage.state_versions" in error["message"]
    head = (await api.call("node_status"))["height"]
    assert (await api.call("state_getProof", keys=["00"], height=head - 1))["height"] == head - 1
