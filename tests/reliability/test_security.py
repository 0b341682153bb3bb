"""Security review as tests, at the system level; unit-level checks live beside their packages.

Where each property is already tested (docs/RELIABILITY.md lists them):
peer identity and replayed handshakes in tests/p2p/test_handshake_refusals.py
and tests/p2p/test_units.py; replayed or forged sealed frames in
tests/p2p/test_hostile_input.py; non-validator and badly signed votes in
tests/consensus/test_replica_handlers.py; the admin token and RPC size
limits in tests/rpc/test_rpc_http.py; per-client limits, timeouts and reply
budgets in tests/rpc/test_rpc_abuse.py; Content-Type, Origin and Host rules
in tests/rpc/test_rpc_access.py; keystore encryption and 0600 in
tests/wallet/test_wallet_keystore.py. Here: the same properties against real
node processes, and what the unit tests cannot show.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

import pytest
from chaos_net import closing_with_logs
from harness import RpcFailure, Testnet, free_base_port, wait_for
from waiting import wait_for_async

from marketnode.consensus.messages import Commit, CommitNotice, Prepare, PrePrepare, encode_message
from marketnode.core.jsonable import certificate_from_json
from marketnode.core.keys import PrivateKey
from marketnode.core.types import COMMIT, PREPARE, PROPOSE, Block, Certificate, Tx, Vote
from marketnode.node.rpc.errors import UNAUTHORIZED
from marketnode.p2p.config import P2PConfig
from marketnode.p2p.host import P2PHost

pytestmark = pytest.mark.integration


def non_loopback_ipv4() -> str | None:
    """An address of this machine other than loopback (the source of a route to a documentation address)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") or address == "0.0.0.0" else address


def test_a_node_made_by_marketnode_init_listens_for_rpc_on_loopback_only(tmp_path):
    home = tmp_path / "home"
    base = free_base_port(1)
    subprocess.run([sys.executable, "-m", "marketnode.cli.main", "init", "--home", str(home), "--p2p-port", str(base),
                    "--rpc-port", str(base + 1)], check=True, capture_output=True, timeout=60)
    for secret in ("node_key", "config.toml"):  # the config holds the admin token
        assert stat.S_IMODE((home / secret).stat().st_mode) == 0o600, f"{secret} is readable by others"
    with open(home / "node.log", "ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "marketnode.cli.main", "run", "--home", str(home)], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{base + 1}/"

        def call(method: str, headers: dict[str, str] | None = None) -> dict:
            body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": {}}).encode()
            request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
            with urllib.request.urlopen(request, timeout=5) as response:
                return json.loads(response.read())

        wait_for(lambda: call("node_status").get("result"), 30, "the node's RPC on loopback")
        outside = non_loopback_ipv4()
        if outside is not None:
            with pytest.raises(OSError):
                socket.create_connection((outside, base + 1), timeout=3).close()
        # Every admin method (x-admin in the OpenRPC document) refuses a wrong token; the gate itself is
        # tested in tests/rpc/test_rpc_http.py, the methods with the right token in tests/api/test_admin.py.
        admin = [m["name"] for m in call("rpc_discover")["result"]["methods"] if m.get("x-admin")]
        assert {"admin_addPeer", "admin_banPeer", "admin_setLogLevel"} <= set(admin)
        for method in admin:
            reply = call(method, {"Authorization": "Bearer wrong-token"})
            assert reply.get("error", {}).get("code") == UNAUTHORIZED, (method, reply)
    finally:
        proc.terminate()
        proc.wait(30)


# ---- an outsider on the p2p network -------------------------------------------------------


def forged_messages(net: Testnet, outsider: PrivateKey, validator_keys: list[bytes]) -> list[bytes]:
    """Consensus messages an outsider can make for the height in progress, and replays of real ones."""
    head = net.call("validator-0", "chain_getBlock", full=False)
    height = head["height"] + 1
    cert = certificate_from_json(head["certificate"])
    block = Block.build(chain_id=net.chain_id, height=height, view=0, timestamp_ms=head["header"]["timestamp_ms"] + 1,
                        parent_hash=bytes.fromhex(head["hash"]), proposer=outsider.public_key,
                        state_root=bytes(32), txs=(), last_cert=cert)
    fake = block.hash

    def own(phase: int) -> Vote:
        return Vote(net.chain_id, phase, height, 0, fake, outsider.public_key).sign(outsider)

    def claimed(phase: int, validator: bytes) -> Vote:  # signed by the outsider, claiming a validator's key
        return Vote(net.chain_id, phase, height, 0, fake, validator, own(phase).sig)

    forged_cert = Certificate(net.chain_id, height, 0, fake,
                              tuple(sorted((v, own(COMMIT).sig) for v in validator_keys[:3])))
    messages = [PrePrepare(block, own(PROPOSE)), Prepare(own(PREPARE)), Commit(own(COMMIT)), CommitNotice(forged_cert)]
    messages += [Prepare(claimed(PREPARE, v)) for v in validator_keys] + [Commit(claimed(COMMIT, v)) for v in validator_keys]
    replays = [Commit(Vote(net.chain_id, COMMIT, cert.height, cert.view, cert.block_hash, v, sig))
               for v, sig in cert.signatures]
    return [encode_message(m) for m in messages + replays] + [encode_message(CommitNotice(cert))]


async def as_outsider(net: Testnet, outsider: PrivateKey, rounds: int) -> int:
    """Connect to every validator as a non-validator peer and broadcast forged messages while txs flow."""
    validators = net.validators
    keys = [PrivateKey.load(net.entries[n].home / "node_key").public_key for n in validators]
    seeds = tuple(f"{k.hex()}@127.0.0.1:{net.p2p_port(n)}" for k, n in zip(keys, validators))
    host = P2PHost(P2PConfig(chain_id=net.chain_id, listen_port=0, seeds=seeds, pex=False), outsider,
                   lambda peer, topic, payload: True)
    await host.start()
    sent = 0
    try:
        await wait_for_async(lambda: len(host.peers()) >= len(validators), 30, "the outsider to connect to every validator",
                             interval_s=0.05)
        for i in range(rounds):
            tx = net.transfer("alice", "bob", 1, via=validators[i % len(validators)])
            await asyncio.to_thread(net.send, tx, validators[i % len(validators)])
            for payload in await asyncio.to_thread(forged_messages, net, outsider, keys):
                host.broadcast("consensus", payload)
                sent += 1
            await asyncio.to_thread(wait_for, lambda t=tx: net.committed("validator-0", t.hash), 30, "a tx to commit")
    finally:
        await host.stop()
    return sent


def test_an_outsider_cannot_make_consensus_messages_count_or_frame_a_validator(tmp_path):
    net = Testnet(tmp_path / "net", validators=4, timeout_ms=1000)
    with closing_with_logs(net):
        net.start()
        net.send(net.transfer("alice", "bob", 1, via="validator-0"), "validator-0", wait="commit")
        start = net.height("validator-0")
        sent = asyncio.run(as_outsider(net, PrivateKey.generate(), rounds=8))
        assert sent > 100
        top = net.assert_agree(net.validators)
        assert top >= start + 8
        for height in range(start + 1, top + 1):
            header = net.call("validator-0", "chain_getBlock", height=height, full=False)["header"]
            assert header["proposer"] in {net.status(n)["node_id"] for n in net.validators}
        for name in net.validators:
            assert net.call(name, "chain_getEvidence") == [], f"{name} recorded evidence from forged votes"
            assert net.procs[name].poll() is None


def post_raw(url: str, body: bytes) -> Any:
    """POST ``body``; the JSON reply whatever the HTTP status."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())


def test_size_limits_hold_at_the_running_node_entry_points(tmp_path):
    """RPC body, batch length and tx size are enforced by a real node; each refusal names the limit."""
    net = Testnet(tmp_path / "net", validators=1)
    with closing_with_logs(net):
        net.start()
        url = net.url("validator-0")
        big = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "node_status", "params": {"x": "a" * (5 << 20)}}).encode()
        reply = post_raw(url, big)
        assert reply["error"]["code"] == -32005 and "limit" in reply["error"]["message"]
        batch = json.dumps([{"jsonrpc": "2.0", "id": i, "method": "node_status"} for i in range(1001)]).encode()
        reply = post_raw(url, batch)
        reply = reply[0] if isinstance(reply, list) else reply
        assert reply["error"]["code"] == -32005, reply
        key = net.keys["alice"]
        huge = Tx(net.chain_id, key.public_key, 0, "transfer", {"amount": 1, "asset": "MKT", "to": key.public_key,
                                                                 "memo": "m" * (70 * 1024)}, 0).sign(key)
        with pytest.raises(RpcFailure) as refusal:
            net.send(huge, "validator-0")
        assert refusal.value.error["code"] in (-32000, -32602), refusal.value.error
        assert os.path.getsize(net.entries["validator-0"].log_file) > 0
