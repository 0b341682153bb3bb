"""Issue 5's acceptance tests: a real 4-validator + observers testnet in separate processes."""

from __future__ import annotations

import asyncio
import os
import socket

import aiohttp
import pytest
from harness import Testnet, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    testnet = Testnet(tmp_path_factory.mktemp("net"), validators=4, observers=2, timeout_ms=1000)
    testnet.start(*testnet.validators, "observer-0")
    yield testnet
    testnet.close()


def running(net: Testnet) -> list[str]:
    return [n for n in net.names if n in net.procs]


def send_transfers(net: Testnet, count: int, via: list[str]) -> list:
    txs = []
    for i in range(count):
        tx = net.transfer("alice" if i % 2 else "bob", "carol", 1, via=via[0])
        txs.append(tx)
    for i in range(0, count, 100):
        chunk = txs[i:i + 100]
        results = net.send_batch(chunk, via[(i // 100) % len(via)])
        assert all("error" not in r for r in results), [r for r in results if "error" in r][:2]
    return txs


def test_txs_sent_to_any_node_commit_on_all_five_with_equal_hashes_and_roots(net):
    nodes = running(net)
    txs = []
    for name in nodes:  # one tx through each node, the observer included
        tx = net.transfer("alice", "bob", 3, via=name)
        net.send(tx, via=name)
        txs.append(tx)
    txs += send_transfers(net, 200, nodes)
    for name in nodes:
        wait_for(lambda n=name: all(net.committed(n, tx.hash) for tx in txs[-5:] + txs[:5]), 30, f"txs on {name}")
    height = min(net.height(n) for n in nodes)
    assert height >= 1
    net.assert_agree(nodes, height)


def test_a_killed_validator_is_not_needed_and_catches_up_after_restart(net):
    victim = "validator-3"
    net.kill(victim)
    live = [n for n in running(net) if n != victim]
    before = net.height("validator-0")
    txs = send_transfers(net, 50, ["validator-0", "validator-1"])
    wait_for(lambda: all(net.committed("validator-0", tx.hash) for tx in txs), 30, "commits with one validator down")
    assert net.height("validator-0") > before
    net.start(victim)
    target = net.height("validator-0")
    wait_for(lambda: net.height(victim) >= target, 30, "restarted validator to catch up")
    net.assert_agree([*live, victim], target)


def test_killing_the_primary_causes_a_view_change_and_commits_continue(net):
    primary_key = net.status("validator-0")["primary"]
    primary = next(n for n in net.validators if net.status(n)["node_id"] == primary_key)
    net.kill(primary)
    survivors = [n for n in net.validators if n != primary]
    first = net.height(survivors[0]) + 1
    txs = send_transfers(net, 20, survivors)
    wait_for(lambda: all(net.committed(survivors[0], tx.hash) for tx in txs), 45, "commits after the primary died")
    new_blocks = [net.call(survivors[0], "chain_getBlock", height=h, full=False)["header"]
                  for h in range(first, net.height(survivors[0]) + 1)]
    assert new_blocks and all(b["proposer"] != primary_key for b in new_blocks)
    assert new_blocks[0]["view"] > 0, "the first block after the primary died needs a view change"
    net.start(primary)
    target = net.height(survivors[0])
    wait_for(lambda: net.height(primary) >= target, 30, "old primary to catch up")
    net.assert_agree(net.validators, target)


def test_an_observer_started_after_1000_txs_syncs_to_the_head(net):
    txs = send_transfers(net, 1000, net.validators)
    wait_for(lambda: all(net.committed("validator-0", tx.hash) for tx in txs[-10:]), 60, "1000 txs to commit")
    target = net.height("validator-0")
    net.start("observer-1")
    wait_for(lambda: net.height("observer-1") >= target, 60, "late observer to sync")
    net.assert_agree(["validator-0", "observer-1"], target)
    assert net.committed("observer-1", txs[0].hash)


def test_garbage_on_the_p2p_port_does_not_crash_a_node_or_stop_consensus(net):
    port = net.p2p_port("validator-1")
    for payload in (os.urandom(4096), b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"\x00" * 100_000):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            try:
                s.sendall(payload)
                s.recv(100)
            except OSError:
                pass

    async def websocket_garbage() -> None:
        async with aiohttp.ClientSession() as session:
            for frame in (os.urandom(64), b"\x81" * 3, os.urandom(2 * 1024 * 1024)):
                try:
                    async with session.ws_connect(f"ws://127.0.0.1:{port}/p2p", timeout=aiohttp.ClientWSTimeout(ws_close=5)) as ws:
                        await ws.send_bytes(frame)
                        await ws.receive(timeout=5)
                except (TimeoutError, aiohttp.ClientError):
                    pass

    asyncio.run(websocket_garbage())
    assert "validator-1" in net.procs and net.procs["validator-1"].poll() is None
    txs = send_transfers(net, 20, ["validator-1"])
    wait_for(lambda: all(net.committed("validator-1", tx.hash) for tx in txs), 30, "commits after garbage")


def test_all_nodes_stopped_cleanly_and_restarted_keep_the_same_head_and_state(net):
    nodes = running(net)
    wait_for(lambda: len({net.status(n)["head_hash"] for n in nodes}) == 1, 30, "nodes to settle on one head")
    before = {n: (net.status(n)["height"], net.status(n)["head_hash"], net.status(n)["state_root"]) for n in nodes}
    for name in nodes:
        assert net.stop(name) == 0, net.log(name)[-2000:]
    for name in nodes:
        assert "stopped cleanly" in net.log(name)
    net.start(*nodes)
    after = {n: (net.status(n)["height"], net.status(n)["head_hash"], net.status(n)["state_root"]) for n in nodes}
    assert after == before
    tx = net.transfer("dave", "erin", 1, via="validator-0")
    assert net.send(tx, "validator-0", wait="commit")["status"] == "committed"


def test_node_peers_lists_each_connected_peer_with_integer_counters(net):
    wait_for(lambda: len(net.call("validator-0", "node_peers")) >= 4, 30, "validator-0 to see its peers")
    peers = net.call("validator-0", "node_peers")
    for peer in peers:
        assert peer["address_mn"].startswith("mn1")
        for key in ("connected_since_ms", "score", "msgs_in", "msgs_out", "bytes_in", "bytes_out"):
            assert isinstance(peer[key], int) and not isinstance(peer[key], bool), key
