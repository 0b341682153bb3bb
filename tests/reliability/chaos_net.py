"""The chaos test's testnet: every p2p link through a LinkProxy, SIGKILL/SIGSTOP with a record of each.

Also what every reliability test uses around a testnet: ``closing_with_logs``
(the nodes' log tails on failure, the nodes stopped always) and the run
length (``chaos_seconds``). Modelled on CometBFT's e2e runner.
"""

from __future__ import annotations

import json
import os
import signal
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from harness import RpcFailure, Testnet, wait_for
from proxy import LinkProxy, route_through

from marketnode.core.keys import PrivateKey

RPC_ERRORS = (OSError, urllib.error.URLError, TimeoutError, ValueError, RpcFailure)


def chaos_seconds(slow: bool, short_s: float = 60.0, long_s: float = 600.0) -> float:
    """Run length: MARKETNODE_CHAOS_SECONDS wins, else the CI or the --slow default."""
    override = os.environ.get("MARKETNODE_CHAOS_SECONDS")
    return float(override) if override else (long_s if slow else short_s)


class ChaosNet(Testnet):
    """A Testnet whose p2p links all pass through a LinkProxy, with per-node extra environment."""

    def __init__(self, directory: Path, validators: int, observers: int = 0, timeout_ms: int | None = None) -> None:
        super().__init__(directory, validators, observers, timeout_ms)
        self.node_keys = {name: PrivateKey.load(e.home / "node_key").public_key for name, e in self.entries.items()}
        self.proxy = LinkProxy({n: self.p2p_port(n) for n in self.names},
                               {key: name for name, key in self.node_keys.items()}).start()
        route_through(self.proxy, {n: e.home for n, e in self.entries.items()}, self.node_keys,
                      {n: [v for v in self.validators if v != n] for n in self.names})
        self.env: dict[str, dict[str, str]] = {}
        self.paused: set[str] = set()
        self.kills: list[tuple[float, str]] = []  # (time.monotonic(), node) of every SIGKILL
        self.starts: list[tuple[float, str]] = []  # (time.monotonic(), node) of every (re)start

    def kill(self, name: str) -> None:
        self.kills.append((time.monotonic(), name))
        super().kill(name)

    def start(self, *names: str, wait: bool = True, extra: tuple[str, ...] = ()) -> None:
        for name in names or self.names:
            self.starts.append((time.monotonic(), name))
            with _environ(self.env.get(name, {})):
                super().start(name, wait=False, extra=extra)
        if wait:
            for name in names or self.names:
                wait_for(lambda n=name: self.status(n), 30, f"{name} to answer RPC")

    def pause(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGSTOP)
        self.paused.add(name)

    def resume(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGCONT)
        self.paused.discard(name)

    def live(self) -> list[str]:
        """Nodes that should answer: running and not paused."""
        return [n for n in self.names if n in self.procs and n not in self.paused]

    def close(self) -> None:
        for name in list(self.paused):
            self.resume(name)
        super().close()
        self.proxy.close()

    def batch(self, name: str, calls: list[tuple[str, dict[str, Any]]], timeout_s: float = 20.0) -> list[Any]:
        """One JSON-RPC batch; results in call order (an error entry raises RpcFailure)."""
        body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": m, "params": p}
                           for i, (m, p) in enumerate(calls)]).encode()
        request = urllib.request.Request(self.url(name), data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            replies = sorted(json.loads(response.read()), key=lambda r: r["id"])
        for reply in replies:
            if "error" in reply:
                raise RpcFailure(reply["error"])
        return [r["result"] for r in replies]


@contextmanager
def closing_with_logs(net: Testnet):  # type: ignore[no-untyped-def]
    """Yield ``net``; on failure print every node's log tail (the evidence), and always stop the nodes."""
    try:
        yield net
    except BaseException:
        for name in net.names:
            print(f"--- {name} log tail ---\n{net.log(name)[-2500:]}")
        raise
    finally:
        net.close()


@contextmanager
def _environ(extra: dict[str, str]):  # type: ignore[no-untyped-def]
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
