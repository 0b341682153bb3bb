"""Issue 14's message acceptance: a buyer's message read by the seller through another node, never in plaintext
on any node's disk, caught up by a node that was down, and a flood of junk refused while the chain goes on."""

from __future__ import annotations

import json
import secrets
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
from harness import RpcFailure, Testnet, wait_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "web"))
from demo_data import Market

from marketnode.core.keys import address_from_pubkey
from marketnode.core.message import Envelope, ReadMarker, seal_message
from marketnode.wallet.messages import open_item

pytestmark = pytest.mark.integration

OFFER = 2


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    testnet = Testnet(tmp_path_factory.mktemp("mailnet"), validators=4, timeout_ms=1000)
    for entry in testnet.entries.values():  # push only the latest 2 on connect: catch-up beyond them is pulled
        path = entry.home / "config.toml"
        path.write_text(path.read_text().replace("offer_on_connect = 500", f"offer_on_connect = {OFFER}"))
    testnet.start()
    yield testnet
    testnet.close()


@pytest.fixture(scope="module")
def order(net):
    m = Market(net)
    m.register("alice", "bob", "carol")
    m.one("carol", "arbiter_register", fee_fixed=0, fee_bps=100, description="mail test")
    shop = m.event_attr(m.one("alice", "shop_create", name="Mail Shop", description="", region="DE",
                              accepted_assets=["USDX"], arbiters=[m.pubkey("carol")]), "shop_created", "shop")
    listing = m.listing(shop, "Letterpress card", 5_00)
    return m.place("bob", listing)


def seal(net: Testnet, sender: str, to: list[str], order_id: int, text: str) -> Envelope:
    return seal_message(net.keys[sender], net.chain_id, [net.keys[n].public_key for n in to], ("order", order_id),
                        text, time.time_ns() // 1_000_000)


def inbox(net: Testnet, node: str, who: str) -> list[dict]:
    return net.call(node, "message_inbox", address=address_from_pubkey(net.keys[who].public_key), limit=100)["items"]


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def test_buyer_message_is_read_by_the_seller_through_another_node_and_is_nowhere_in_plaintext(net, order):
    text = f"Please leave it with the neighbour at no. 12 — {secrets.token_hex(8)}"
    envelope = seal(net, "bob", ["alice"], order, text)
    sent = net.call("validator-0", "message_send", envelope=envelope.encode().hex())
    assert sent["new"]
    item = wait_for(lambda: next((i for i in inbox(net, "validator-3", "alice") if i["id"] == sent["id"]), None),
                    20, "the message on validator-3")
    opened = open_item(net.keys["alice"], item, net.chain_id)
    assert opened.text == text and opened.sender == address_from_pubkey(net.keys["bob"].public_key)
    for name in net.validators:
        wait_for(lambda n=name: any(i["id"] == sent["id"] for i in inbox(net, n, "alice")), 20, f"message on {name}")
    # Every byte every node wrote: data directories, logs, configs.
    homes = [net.entries[name].home for name in net.validators]
    files = [f for home in homes for f in files_under(home)]
    needle = text.encode()
    assert not [f for f in files if needle in f.read_bytes()], "plaintext found on a node's disk"
    # The grep can see what was stored: the ciphertext itself is in the mailbox files of every node.
    for home in homes:
        assert any(envelope.ciphertext in f.read_bytes() for f in files_under(home)), f"no ciphertext under {home}"


def test_a_node_that_was_down_gets_every_message_it_missed(net, order):
    net.kill("validator-2")
    sent = {net.call("validator-1", "message_send", envelope=seal(net, "alice", ["bob"], order, f"update {n}")
                     .encode().hex())["id"] for n in range(OFFER + 3)}  # more than a first contact pulls
    read = sorted(sent)[0]
    marker = ReadMarker(net.chain_id, net.keys["bob"].public_key, (bytes.fromhex(read),), 0).sign(net.keys["bob"])
    assert net.call("validator-1", "message_markRead", marker=marker.encode().hex())["marked"] == 1
    net.start("validator-2")
    wait_for(lambda: sent <= {i["id"] for i in inbox(net, "validator-2", "bob")}, 30,
             "every missed message on the restarted node")
    bob = address_from_pubkey(net.keys["bob"].public_key)
    wait_for(lambda: net.call("validator-2", "message_inbox", address=bob)["unread"]
             == net.call("validator-1", "message_inbox", address=bob)["unread"], 30, "the read marker it missed")


def test_forged_and_unauthorised_senders_are_refused_with_reasons(net, order):
    genuine = seal(net, "bob", ["alice"], order, "real")
    forged = replace(genuine, sig=net.keys["carol"].sign(genuine.signing_bytes()))
    with pytest.raises(RpcFailure) as info:
        net.call("validator-1", "message_send", envelope=forged.encode().hex())
    assert info.value.error["data"]["code"] == "signature"
    arbiter = seal(net, "carol", ["alice"], order, "not yet in a dispute")
    with pytest.raises(RpcFailure) as info:
        net.call("validator-1", "message_send", envelope=arbiter.encode().hex())
    assert info.value.error["data"]["code"] == "unauthorised"


def batch(net: Testnet, node: str, calls: list[tuple[str, dict]]) -> list[dict]:
    body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)])
    request = urllib.request.Request(net.url(node), data=body.encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def test_a_flood_is_refused_and_the_node_keeps_serving_and_committing(net, order):
    good = seal(net, "bob", ["alice"], order, "flood control").encode()
    junk = [good[:n] + bytes([good[n] ^ 0x5A]) + good[n + 1:] for n in range(0, len(good), max(1, len(good) // 400))]
    started = time.monotonic()
    answers = []
    for start in range(0, len(junk), 200):
        answers += batch(net, "validator-1", [("message_send", {"envelope": raw.hex()}) for raw in junk[start:start + 200]])
    elapsed = time.monotonic() - started
    codes = {a["error"]["data"]["code"] for a in answers if "error" in a}
    assert all("error" in a for a in answers), [a for a in answers if "error" not in a][:2]
    assert codes <= {"malformed", "signature", "invalid"}, codes
    # Same sender, many valid messages: the per-minute rate refuses them past its edge with a clear code.
    minute_ms = (time.time_ns() // 1_000_000) // 60_000 * 60_000
    flood = [seal_message(net.keys["bob"], net.chain_id, [net.keys["alice"].public_key], ("order", order), f"{n}",
                          minute_ms + n).encode().hex() for n in range(30)]
    results = batch(net, "validator-1", [("message_send", {"envelope": raw}) for raw in flood])
    refused = [r["error"]["data"]["code"] for r in results if "error" in r]
    assert refused and set(refused) <= {"rate"}, refused
    assert net.status("validator-1")["height"] >= 1
    tx = net.transfer("alice", "bob", 1, via="validator-1")
    net.send(tx, via="validator-1")
    wait_for(lambda: net.committed("validator-1", tx.hash), 20, "a tx to commit after the flood")
    print(f"{len(junk)} junk envelopes refused in {elapsed:.2f} s")
