"""Issue 16 item 3: every node serves, for a height with a successor, the certificate that successor commits to."""

from __future__ import annotations

import pytest
from harness import Testnet, wait_for

from core.jsonable import certificate_from_json

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
