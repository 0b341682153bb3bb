"""Run a local testnet's nodes as child processes: start, stop, status.

Each node home holds ``node.pid`` while its process runs and ``node.log``
with its output. Nothing here knows consensus; it only manages processes and
asks each node's RPC for its height.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from marketnode.core.errors import ConfigError, MarketnodeError
from marketnode.node.config import NodeConfig, load_config
from marketnode.tools.testnet.ports import Port

MANIFEST = "testnet.json"


@dataclass(frozen=True)
class NodeEntry:
    name: str
    role: str  # "validator" | "observer"
    home: Path
    chain_id: str | None = None  # the testnet's, from its manifest: a node answering another chain is not ours

    def config(self) -> NodeConfig:
        return load_config(self.home)

    @property
    def pid_file(self) -> Path:
        return self.home / "node.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "node.log"


def read_manifest(directory: Path) -> dict:
    path = Path(directory) / MANIFEST
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{directory} is not a testnet (no {MANIFEST}): run `marketnode testnet init --dir {directory}`") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON: {exc}") from None


def nodes_of(directory: Path) -> list[NodeEntry]:
    manifest = read_manifest(directory)
    return [NodeEntry(n["name"], n["role"], Path(directory) / n["home"], manifest.get("chain_id"))
            for n in manifest["nodes"]]


def ports_of(entries: list[NodeEntry]) -> list[Port]:
    """Every port the nodes will listen on, from their configs."""
    ports = []
    for entry in entries:
        cfg = entry.config()
        ports.append(Port(entry.name, "p2p", cfg.p2p.listen_host or "0.0.0.0", cfg.p2p.listen_port))
        ports.append(Port(entry.name, "rpc", cfg.rpc.listen_host or "0.0.0.0", cfg.rpc.listen_port))
    return ports


def node_id(entry: NodeEntry) -> str | None:
    """The node key's public key as hex (what its node_status calls ``node_id``), None if unreadable."""
    from marketnode.core.keys import PrivateKey

    try:
        return PrivateKey.load(entry.home / "node_key").public_key.hex()
    except (OSError, ValueError, MarketnodeError):
        return None


def identity_mismatch(entry: NodeEntry, status: dict) -> str:
    """Why a node_status answer on ``entry``'s port is not from ``entry`` ('' when it is)."""
    if entry.chain_id is not None and status.get("chain_id") != entry.chain_id:
        return f"chain {status.get('chain_id')!r} answers on its port, not {entry.chain_id!r}"
    expected = node_id(entry)
    if expected is not None and status.get("node_id") != expected:
        return f"another node ({status.get('moniker')}) answers on its port"
    return ""


def rpc_url(cfg: NodeConfig) -> str:
    host = "127.0.0.1" if cfg.rpc.listen_host in ("0.0.0.0", "") else cfg.rpc.listen_host
    return f"http://{host}:{cfg.rpc.listen_port}/"


def p2p_address(cfg: NodeConfig) -> str:
    return cfg.p2p.advertise_address or f"{cfg.p2p.listen_host}:{cfg.p2p.listen_port}"


def post_json(url: str, payload: object, timeout_s: float) -> Any:
    """POST a JSON-RPC request or batch; raises OSError when the node is unreachable."""
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        return json.loads(response.read())


def rpc_call(url: str, method: str, params: dict | None = None, timeout_s: float = 2.0) -> dict:
    """A minimal JSON-RPC call for status polling; raises OSError when unreachable."""
    reply = post_json(url, {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}, timeout_s)
    if not isinstance(reply, dict):
        raise OSError(f"{method}: the node answered {type(reply).__name__}, not a JSON-RPC response object")
    if "error" in reply:
        raise OSError(f"{method}: {reply['error'].get('message')}")
    return reply["result"]


def read_pid(entry: NodeEntry) -> int | None:
    try:
        pid = int(entry.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def node_command(entry: NodeEntry, extra: tuple[str, ...] = ()) -> list[str]:
    return [sys.executable, "-m", "marketnode.cli.main", "run", "--home", str(entry.home), *extra]


def spawn(entry: NodeEntry, detached: bool, extra: tuple[str, ...] = ()) -> subprocess.Popen:
    """Start one node with its output going to its home's node.log."""
    log = open(entry.log_file, "ab")  # noqa: SIM115 - the child owns it from here
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        node_command(entry, extra), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=detached, env=env,
    )
    log.close()
    entry.pid_file.write_text(f"{proc.pid}\n")
    return proc


def stop_pid(pid: int, timeout_s: float = 15.0) -> bool:
    """SIGTERM, wait for a clean exit, SIGKILL after ``timeout_s``; True if it exited cleanly."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return False


def node_status(entry: NodeEntry) -> dict:
    """What `testnet status --json` prints for one node."""
    cfg = entry.config()
    url = rpc_url(cfg)
    pid = read_pid(entry)
    status = {
        "name": entry.name, "role": entry.role, "pid": pid, "home": str(entry.home),
        "rpc": url, "p2p": p2p_address(cfg), "height": None, "peers": None, "running": pid is not None,
        "foreign": None,
    }
    if pid is not None:
        try:
            result = rpc_call(url, "node_status", timeout_s=1.0)
        except (OSError, urllib.error.URLError, ValueError):
            return status
        mismatch = identity_mismatch(entry, result) if isinstance(result, dict) else "not a node_status answer"
        if mismatch:  # somebody else's node holds the port: never report its height as ours
            status["foreign"] = mismatch
            return status
        status["height"] = result.get("height")
        status["peers"] = result.get("peers")
    return status


def last_log_line(entry: NodeEntry) -> str:
    """The last non-empty line of a node's log (where a failed bind says why), '' if none."""
    try:
        with open(entry.log_file, "rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - 4096))
            tail = log.read().decode(errors="replace")
    except OSError:
        return ""
    lines = [line for line in tail.splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else ""


def wait_until(predicate: Callable[[], bool], timeout_s: float, interval_s: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return predicate()
