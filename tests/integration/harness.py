"""A real local testnet for tests: separate OS processes, real ports, real LevelDB.

Every wait is on a condition with a deadline (``wait_for``), never a bare sleep.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import waiting

from marketnode.core.keys import PrivateKey, address_from_pubkey
from marketnode.core.types import Tx
from marketnode.tools.testnet import procs as procs
from marketnode.tools.testnet.layout import init_testnet


def free_base_port(count: int) -> int:
    """A base port with ``2*count`` free consecutive ports after it.

    Drawn below Linux's ephemeral range (32768+), where outgoing connections
    could take a port between this check and the node's bind.
    """
    for _ in range(200):
        base = 20000 + (int.from_bytes(os.urandom(2), "big") % 6000) * 2
        sockets = []
        try:
            for port in range(base, base + 2 * count):
                s = socket.socket()
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", port))
                sockets.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free port range")


# What a node that is starting, restarting or busy may answer: "not yet", not a failure.
TRANSIENT_RPC_ERRORS = (OSError, urllib.error.URLError, KeyError, ValueError)


def wait_for(predicate: Callable[[], Any], timeout_s: float, what: str, interval_s: float = 0.1) -> Any:
    """tests/waiting.wait_for, tolerating a node's transient RPC errors while it is not up yet."""
    return waiting.wait_for(predicate, timeout_s, what, interval_s=interval_s, tolerate=TRANSIENT_RPC_ERRORS)


class RpcFailure(Exception):
    def __init__(self, error: dict) -> None:
        super().__init__(error.get("message"))
        self.error = error


class Testnet:
    """N validators (+ observers) as child processes of the test."""

    __test__ = False

    def __init__(self, directory: Path, validators: int, observers: int = 0, timeout_ms: int | None = None) -> None:
        self.dir = Path(directory)
        self.base_port = free_base_port(validators + observers)
        self.manifest = init_testnet(self.dir, validators, observers, self.base_port)
        if timeout_ms is not None:
            for entry in procs.nodes_of(self.dir):
                path = entry.home / "config.toml"
                path.write_text(path.read_text().replace("base_timeout_ms = 2000", f"base_timeout_ms = {timeout_ms}"))
        self.entries = {e.name: e for e in procs.nodes_of(self.dir)}
        self.procs: dict[str, subprocess.Popen] = {}
        self.keys = {name: PrivateKey.load(self.dir / rel) for name, rel in self.manifest["accounts"].items()}
        self.chain_id = self.manifest["chain_id"]
        self._nonces: dict[bytes, int] = {}

    # -- processes ---------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return list(self.entries)

    @property
    def validators(self) -> list[str]:
        return [n for n, e in self.entries.items() if e.role == "validator"]

    def start(self, *names: str, wait: bool = True, extra: tuple[str, ...] = ()) -> None:
        for name in names or self.names:
            self.procs[name] = procs.spawn(self.entries[name], detached=False, extra=extra)
        if wait:
            for name in names or self.names:
                wait_for(lambda n=name: self.status(n), 30, f"{name} to answer RPC")

    def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)

    def stop(self, name: str) -> int:
        proc = self.procs.pop(name)
        proc.send_signal(signal.SIGTERM)
        return proc.wait(30)

    def stop_all(self) -> None:
        for name in list(self.procs):
            try:
                self.stop(name)
            except subprocess.TimeoutExpired:
                self.procs.get(name, None) and self.procs[name].kill()

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        self.procs.clear()

    def log(self, name: str) -> str:
        return self.entries[name].log_file.read_text(errors="replace")

    # -- rpc -----------------------------------------------------------------

    def url(self, name: str) -> str:
        return procs.rpc_url(self.entries[name].config())

    def p2p_port(self, name: str) -> int:
        return self.entries[name].config().p2p.listen_port

    def call(self, name: str, method: str, timeout_s: float = 10.0, **params: Any) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
        request = urllib.request.Request(self.url(name), data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            reply = json.loads(response.read())
        if "error" in reply:
            raise RpcFailure(reply["error"])
        return reply["result"]

    def status(self, name: str) -> dict:
        return self.call(name, "node_status", timeout_s=2.0)

    def height(self, name: str) -> int:
        return self.status(name)["height"]

    # -- txs -------------------------------------------------------------------

    def next_nonce(self, key: PrivateKey, via: str) -> int:
        if key.public_key not in self._nonces:
            self._nonces[key.public_key] = self.call(via, "account_get", address=address_from_pubkey(key.public_key))["nonce"]
        nonce = self._nonces[key.public_key]
        self._nonces[key.public_key] = nonce + 1
        return nonce

    def transfer(self, sender: str, to: str, amount: int, via: str) -> Tx:
        key = self.keys[sender]
        body = {"amount": amount, "asset": "MKT", "to": self.keys[to].public_key}
        return Tx(self.chain_id, key.public_key, self.next_nonce(key, via), "transfer", body, 0).sign(key)

    def send(self, tx: Tx, via: str, wait: str = "none") -> dict:
        return self.call(via, "tx_send", timeout_s=40.0, tx=tx.encode().hex(), wait=wait)

    def send_batch(self, txs: list[Tx], via: str) -> list[dict]:
        return self.call(via, "tx_sendBatch", timeout_s=40.0, txs=[tx.encode().hex() for tx in txs])

    def committed(self, name: str, tx_hash: bytes) -> bool:
        return self.call(name, "tx_get", hash=tx_hash.hex())["status"] in ("committed", "failed")

    def block_hashes(self, name: str, upto: int) -> list[tuple[str, str]]:
        out = []
        for h in range(1, upto + 1):
            block = self.call(name, "chain_getBlock", height=h, full=False)
            out.append((block["hash"], block["header"]["state_root"]))
        return out

    def assert_agree(self, names: list[str], upto: int | None = None) -> int:
        """Every node holds the same blocks and state roots up to the lowest common height."""
        heights = {n: self.height(n) for n in names}
        common = min(heights.values()) if upto is None else upto
        reference = self.block_hashes(names[0], common)
        for name in names[1:]:
            assert self.block_hashes(name, common) == reference, f"{name} disagrees with {names[0]}"
        return common


def python_env() -> dict[str, str]:
    return dict(os.environ, PYTHONUNBUFFERED="1")


__all__ = ["RpcFailure", "Testnet", "free_base_port", "python_env", "sys", "wait_for"]
