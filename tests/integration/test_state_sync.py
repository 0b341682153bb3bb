"""Issue 16 item 6: a fresh observer joins a running testnet from a snapshot, then follows new blocks.

Validators offer the state after every 2nd block. The observer starts with
``--sync snapshot``: it restores the state from their chunks, verified
against a certified state root, keeps no block below the snapshot (RPC says
so clearly), rebuilds its query index from the restored state, and then
executes new blocks to the same state roots as the validators.
"""

from __future__ import annotations

import json
import shutil

import pytest
from harness import RpcFailure, Testnet, wait_for

from marketnode.core.keys import PrivateKey, address_from_pubkey
from marketnode.core.types import Tx
from marketnode.market import keys
from marketnode.tools.bench.workload import register_body, shop_body
from marketnode.wallet.light import LightClient, genesis_hash

pytestmark = pytest.mark.integration

BLOCKS = 6


def test_a_fresh_observer_joins_from_a_snapshot_and_follows_new_blocks(tmp_path):
    net = Testnet(tmp_path, validators=4, observers=1, timeout_ms=1000)
    for entry in net.entries.values():
        path = entry.home / "config.toml"
        path.write_text(path.read_text().replace("snapshot_interval = 10", "snapshot_interval = 2"))
    observer = next(n for n in net.names if n not in net.validators)
    try:
        net.start(*net.validators)
        alice = net.keys["alice"]
        for kind, body in (("register", register_body("alice-sync")), ("shop_create", shop_body("sync shop"))):
            tx = Tx(net.chain_id, alice.public_key, net.next_nonce(alice, "validator-0"), kind, body, 0).sign(alice)
            reply = net.send(tx, "validator-0", wait="commit")
            assert reply["status"] == "committed", reply
        for _ in range(BLOCKS):  # one tx per block
            reply = net.send(net.transfer("bob", "carol", 1, via="validator-1"), via="validator-1", wait="commit")
            assert reply["status"] == "committed", reply
        top = net.height("validator-0")
        assert top >= BLOCKS + 2

        net.start(observer, extra=("--sync", "snapshot"))
        wait_for(lambda: net.height(observer) >= top, 60, f"{observer} at height {top}")
        log = net.log(observer)
        assert "restored the state after block" in log, log[-3000:]
        base = int(log.split("restored the state after block ")[1].split()[0])
        assert 2 <= base < top and base % 2 == 0
        with pytest.raises(RpcFailure, match=f"snapshot of height {base}"):
            net.call(observer, "chain_getBlock", height=1)
        assert net.call(observer, "chain_getBlock", height=base + 1)["height"] == base + 1

        for _ in range(3):  # the observer now follows new blocks as they commit
            reply = net.send(net.transfer("carol", "bob", 1, via="validator-2"), via="validator-2", wait="commit")
            assert reply["status"] == "committed", reply
        after = reply["height"]
        wait_for(lambda: net.height(observer) >= after and net.height("validator-0") >= after, 30,
                 f"{observer} at height {after}")
        for height in range(base + 1, after + 1):
            mine = net.call(observer, "chain_getBlock", height=height, full=False)
            theirs = net.call("validator-0", "chain_getBlock", height=height, full=False)
            assert (mine["hash"], mine["header"]["state_root"]) == (theirs["hash"], theirs["header"]["state_root"])
        wait_for(lambda: net.status(observer)["state_root"] == net.status("validator-0")["state_root"]
                 and net.height(observer) == net.height("validator-0"), 30, "the same head state root")
        owner = address_from_pubkey(alice.public_key)
        assert net.call(observer, "account_get", address=owner) == net.call("validator-0", "account_get", address=owner)
        shops = net.call(observer, "shop_list", owner=owner)["items"]  # the index, rebuilt from the restored state
        assert [s["name"] for s in shops] == ["sync shop"]
        assert shops == net.call("validator-0", "shop_list", owner=owner)["items"]
        assert net.call(observer, "node_health")["query_index"]["ok"]
        with pytest.raises(RpcFailure, match=f"from height {base} on"):
            net.call(observer, "state_getProof", keys=[], height=1)
        document = json.loads((net.entries[observer].home / "genesis.json").read_text())
        light = LightClient.from_genesis(document, genesis_hash(document))
        balance = keys.balance(alice.public_key, "MKT")
        proven = light.verify_state(net.call(observer, "state_getProof", keys=[balance.hex()]), [balance])
        assert proven.height == net.height(observer) - 1 and proven.values[balance] is not None
        assert "Traceback" not in net.log(observer), net.log(observer)[-3000:]

        net.stop(observer)  # a restart resumes from its own head: the start-up check walks from the snapshot on
        net.start(observer)
        reply = net.send(net.transfer("bob", "carol", 1, via="validator-3"), via="validator-3", wait="commit")
        wait_for(lambda: net.height(observer) >= reply["height"], 30, f"{observer} after its restart")
        assert net.call(observer, "chain_getBlock", height=reply["height"])["hash"] == \
            net.call("validator-0", "chain_getBlock", height=reply["height"])["hash"]
        with pytest.raises(RpcFailure, match=f"snapshot of height {base}"):
            net.call(observer, "chain_getBlock", height=1)
    finally:
        net.close()


def test_a_validator_rejoins_from_a_snapshot_and_votes_in_the_quorum(tmp_path):
    """A wiped validator joins by snapshot; with another validator down, no block commits without its vote."""
    net = Testnet(tmp_path, validators=4, timeout_ms=1000)
    for entry in net.entries.values():
        path = entry.home / "config.toml"
        path.write_text(path.read_text().replace("snapshot_interval = 10", "snapshot_interval = 2"))
    try:
        net.start(*net.validators)
        for _ in range(BLOCKS):
            reply = net.send(net.transfer("bob", "carol", 1, via="validator-0"), via="validator-0", wait="commit")
            assert reply["status"] == "committed", reply
        net.stop("validator-3")
        shutil.rmtree(net.entries["validator-3"].config().data_path)
        net.start("validator-3", extra=("--sync", "snapshot"))
        top = net.height("validator-0")
        wait_for(lambda: net.height("validator-3") >= top, 60, f"validator-3 at height {top}")
        assert "restored the state after block" in net.log("validator-3")
        net.stop("validator-2")  # now validators 0, 1 and 3 are the only quorum
        reply = net.send(net.transfer("carol", "bob", 1, via="validator-1"), via="validator-1", wait="commit")
        assert reply["status"] == "committed", reply
        wait_for(lambda: net.height("validator-3") >= reply["height"], 30, "validator-3 at the new block")
        block = net.call("validator-3", "chain_getBlock", height=reply["height"], full=False)
        assert block["hash"] == net.call("validator-0", "chain_getBlock", height=reply["height"], full=False)["hash"]
        signers = {v for v, _ in net.call("validator-0", "chain_getBlock", height=reply["height"])["certificate"]
                   ["signatures"]}
        assert PrivateKey.load(net.entries["validator-3"].config().key_path).public_key.hex() in signers
        assert "Traceback" not in net.log("validator-3")
    finally:
        net.close()
