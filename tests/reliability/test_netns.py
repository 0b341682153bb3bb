"""Separate hosts: 4 validators, each in its own network namespace with its own IP on a bridge.

Proof that nothing depends on loopback: every node listens (p2p and RPC) on
its namespace's address, all on the same ports, and reaches the others over
veth pairs on a bridge that the test sets up and tears down itself (as root).
A link is cut with blackhole routes at both ends. Skipped, saying why, where
``ip netns`` is not permitted.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from chaos_net import closing_with_logs
from harness import Testnet, wait_for

from marketnode.core.keys import PrivateKey
from marketnode.tools.testnet import procs as procs

pytestmark = pytest.mark.integration

P2P_PORT, RPC_PORT = 26656, 26657


def ip(*args: str, ns: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    command = ["ip", *(("netns", "exec", ns, "ip") if ns else ()), *args]
    return subprocess.run(command, capture_output=True, text=True, check=check, timeout=20)


def netns_permitted() -> str | None:
    """None if this process may create network namespaces, else the reason it may not."""
    if shutil.which("ip") is None:
        return "the ip command (iproute2) is not installed"
    probe = f"mnprobe{os.getpid()}"
    result = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if result.returncode != 0:
        return f"`ip netns add` is not permitted here ({result.stderr.strip() or 'exit ' + str(result.returncode)}); run as root"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


class Hosts:
    """A bridge in the root namespace and one namespace per node, each with one veth and one IP."""

    def __init__(self, names: list[str]) -> None:
        tag = f"{os.getpid() % 10000}"
        self.subnet = f"10.{200 + os.getpid() % 50}.{os.getpid() % 250}"
        self.bridge = f"mnbr{tag}"
        self.ns = {name: f"mn{tag}n{i}" for i, name in enumerate(names)}
        self.addr = {name: f"{self.subnet}.{10 + i}" for i, name in enumerate(names)}
        self._veths = {name: (f"mn{tag}v{i}", f"mn{tag}p{i}") for i, name in enumerate(names)}

    def up(self) -> None:
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", f"{self.subnet}.1/24", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        for name, ns in self.ns.items():
            outer, inner = self._veths[name]
            subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True)
            ip("link", "add", outer, "type", "veth", "peer", "name", inner)
            ip("link", "set", inner, "netns", ns)
            ip("link", "set", outer, "master", self.bridge)
            ip("link", "set", outer, "up")
            ip("addr", "add", f"{self.addr[name]}/24", "dev", inner, ns=ns)
            ip("link", "set", inner, "up", ns=ns)
            ip("link", "set", "lo", "up", ns=ns)

    def down(self) -> None:
        for ns in self.ns.values():
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)

    def cut(self, a: str, b: str) -> None:
        ip("route", "add", "blackhole", self.addr[b], ns=self.ns[a])
        ip("route", "add", "blackhole", self.addr[a], ns=self.ns[b])

    def reachable(self, a: str, b: str, port: int) -> bool:
        """Whether a TCP connect from a's namespace to b's address and ``port`` succeeds."""
        probe = f"import socket; socket.create_connection(({self.addr[b]!r}, {port}), timeout=2).close()"
        result = subprocess.run(["ip", "netns", "exec", self.ns[a], sys.executable, "-c", probe],
                                capture_output=True, timeout=30)
        return result.returncode == 0

    def heal(self, a: str, b: str) -> None:
        ip("route", "del", "blackhole", self.addr[b], ns=self.ns[a], check=False)
        ip("route", "del", "blackhole", self.addr[a], ns=self.ns[b], check=False)


class NamespacedNet(Testnet):
    """A Testnet whose nodes run inside their Hosts namespaces, on their own IPs and the same ports."""

    def __init__(self, directory, hosts: Hosts) -> None:  # type: ignore[no-untyped-def]
        super().__init__(directory, validators=len(hosts.ns), timeout_ms=1000)
        self.hosts = hosts
        keys = {n: PrivateKey.load(e.home / "node_key").public_key.hex() for n, e in self.entries.items()}
        for name, entry in self.entries.items():
            path = entry.home / "config.toml"
            text = path.read_text()
            seeds = ", ".join(f'"{keys[p]}@{hosts.addr[p]}:{P2P_PORT}"' for p in self.entries if p != name)
            text = re.sub(r"^seeds = \[.*?\]", f"seeds = [{seeds}]", text, count=1, flags=re.M)
            text = re.sub(r'^listen_host = "127\.0\.0\.1"', f'listen_host = "{hosts.addr[name]}"', text, flags=re.M)
            text = re.sub(r"^listen_port = \d+", "listen_port = PORT", text, flags=re.M)
            text = text.replace("listen_port = PORT", f"listen_port = {P2P_PORT}", 1)
            text = text.replace("listen_port = PORT", f"listen_port = {RPC_PORT}", 1)
            assert "127.0.0.1" not in text, text
            path.write_text(text)

    def start(self, *names: str, wait: bool = True, extra: tuple[str, ...] = ()) -> None:
        for name in names or self.names:
            entry = self.entries[name]
            log = open(entry.log_file, "ab")  # noqa: SIM115 - the child owns it from here
            command = ["ip", "netns", "exec", self.hosts.ns[name], sys.executable, "-m", "marketnode.cli.main", "run",
                       "--home", str(entry.home), *extra]
            self.procs[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                                env=dict(os.environ, PYTHONUNBUFFERED="1"), cwd=os.getcwd())
            log.close()
        if wait:
            for name in names or self.names:
                wait_for(lambda n=name: self.status(n), 30, f"{name} to answer RPC in its namespace")


@pytest.fixture
def hosts():
    reason = netns_permitted()
    if reason is not None:
        pytest.skip(f"separate-host test needs network namespaces: {reason}")
    hosts = Hosts([f"validator-{i}" for i in range(4)])
    try:
        hosts.up()
        yield hosts
    finally:
        hosts.down()


def send_and_commit(net: NamespacedNet, count: int, via: list[str]) -> list:
    txs = [net.transfer("alice" if i % 2 else "bob", "carol", 1, via=via[0]) for i in range(count)]
    for i in range(0, count, 50):
        results = net.send_batch(txs[i:i + 50], via[(i // 50) % len(via)])
        assert all("error" not in r for r in results), results
    for name in via:
        wait_for(lambda n=name: all(net.committed(n, tx.hash) for tx in txs[-5:]), 60, f"txs to commit on {name}")
    return txs


def test_validators_on_separate_hosts_commit_under_load_and_survive_a_cut_link(tmp_path, hosts):
    net = NamespacedNet(tmp_path / "net", hosts)
    with closing_with_logs(net):
        net.start()
        for name in net.names:
            assert procs.rpc_url(net.entries[name].config()).startswith(f"http://{hosts.addr[name]}:")
        wait_for(lambda: all(net.status(n)["peers"] >= 3 for n in net.names), 60, "a full mesh over the bridge")
        send_and_commit(net, 300, net.names)
        assert hosts.reachable("validator-0", "validator-1", P2P_PORT)
        hosts.cut("validator-0", "validator-1")
        assert not hosts.reachable("validator-0", "validator-1", P2P_PORT)
        before = net.height("validator-2")
        txs = send_and_commit(net, 300, net.names)
        assert net.height("validator-2") > before
        hosts.heal("validator-0", "validator-1")
        height = min(net.height(n) for n in net.names)
        net.assert_agree(net.names, height)
        for name in net.names:
            assert net.committed(name, txs[0].hash)
