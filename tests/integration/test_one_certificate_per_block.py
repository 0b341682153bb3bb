"""Issue 16 item 3: every node serves, for a height with a successor, the certificate that successor commits to."""

from __future__ import annotations

import pytest
from harness import Testnet, wait_for

from marketnode.core.jsonable import certificate_from_json

pytestmark = pytest.mark.integration

BLOCKS = 52


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    testnet = Testnet(tmp_path_factory.mktemp("certs"), validators=4, timeout_ms=1000)
    testnet.start(*testnet.validators)
    yield testnet
    testnet.close()


def test_every_height_has_one_certificate_on_every_node_once_the_next_block_exists(net):
    start = net.height("validator-0")
    for i in range(BLOCKS + 1):  # one tx per block: each is sent after the previous one committed
        via = net.validators[i % 4]
        reply = net.send(net.transfer("alice" if i % 2 else "bob", "carol", 1, via=via), via=via, wait="commit")
        assert reply["status"] == "committed", reply
    top = start + BLOCKS + 1
    for name in net.validators:
        wait_for(lambda n=name: net.height(n) >= top, 30, f"{name} at height {top}")
    assert top - 1 >= 50
    for height in range(1, top):
        served = [net.call(name, "chain_getBlock", height=height, full=False) for name in net.validators]
        certs = [b["certificate"] for b in served]
        assert all(c == certs[0] for c in certs), f"height {height}: nodes serve different certificates"
        successor = net.call("validator-0", "chain_getBlock", height=height + 1, full=False)
        assert successor["last_cert"] == certs[0]
        assert certificate_from_json(certs[0]).hash.hex() == successor["header"]["last_cert_hash"]


def test_a_light_client_from_the_genesis_file_verifies_proofs_from_two_nodes(net):
    import json

    from marketnode.core.encoding import decode
    from marketnode.core.types import Tx
    from marketnode.market import keys
    from marketnode.wallet.client import RpcClient
    from marketnode.wallet.light import LightClient, genesis_hash

    document = json.loads((net.entries["validator-0"].home / "genesis.json").read_text())
    client = LightClient.from_genesis(document, genesis_hash(document))  # the hash an operator publishes
    alice = net.keys["alice"].public_key
    balance, absent = keys.balance(alice, "MKT"), keys.order(10**9)
    first, second = RpcClient(net.url("validator-0")), RpcClient(net.url("validator-2"))
    verified = client.cross_check(first, second, [balance, absent])
    assert decode(verified.values[balance]) > 0 and verified.values[absent] is None
    key = net.keys["carol"]
    nonce = net.next_nonce(key, "validator-1")
    broke = Tx(net.chain_id, key.public_key, nonce, "transfer",
               {"amount": 10**18, "asset": "MKT", "to": alice}, 0).sign(key)
    assert net.send(broke, "validator-1", wait="commit")["status"] == "failed"
    after = net.send(net.transfer("bob", "carol", 1, via="validator-1"), "validator-1", wait="commit")  # successor
    wait_for(lambda: net.height("validator-3") >= after["height"], 30, "validator-3 at the successor block")
    outcome = client.verify_tx(net.call("validator-3", "tx_get", hash=broke.hash.hex()))
    assert (outcome["ok"], outcome["code"]) == (False, "insufficient_funds")
