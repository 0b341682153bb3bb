"""A throw-away local testnet for a benchmark run, and fast RPC helpers to drive it."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from marketnode.tools.testnet import procs as procs
from marketnode.tools.testnet.layout import init_testnet, planned_ports
from marketnode.tools.testnet.ports import busy_ports, free_base_port, holder


class BenchError(Exception):
    pass


class Cluster:
    """N validators (+ observers) started as processes in a temp dir; removed on close."""

    def __init__(self, validators: int, observers: int = 0, base_port: int = 24600,
                 directory: Path | None = None, keep: bool = False) -> None:
        busy = busy_ports(planned_ports(validators, base_port, observers))
        if busy:  # another testnet there would answer in our nodes' place (a setup refused on another chain)
            raise BenchError("\n".join(f"port {p.port} is already in use: {p}" + (f", held by {who}" if (who := holder(p))
                                                                               else "") for p in busy)
                             + f"\nstop whatever holds it, or pass another --base-port (a free one: "
                             f"{free_base_port(len(planned_ports(validators, 0, observers)))})")
        self.dir = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="marketnode-bench-"))
        self.keep = keep or directory is not None
        self.manifest = init_testnet(self.dir, validators, observers, base_port)
        self.entries = procs.nodes_of(self.dir)
        self.urls = [procs.rpc_url(e.config()) for e in self.entries]
        self.procs: dict[str, subprocess.Popen] = {}

    def tune_for_one_client(self) -> None:
        """The bench is one client address sending everything: lift the per-client RPC caps to the global ones."""
        self.tune(requests_per_s=1_000_000, max_requests_per_client=256, max_connections_per_client=1024)

    def tune(self, **settings: Any) -> None:
        """Rewrite settings in every node's config.toml (``section__key=value``)."""
        for entry in self.entries:
            path = entry.home / "config.toml"
            text = path.read_text()
            for name, value in settings.items():
                key = name.split("__")[-1]
                lines = text.splitlines()
                for i, line in enumerate(lines):
                    if line.split("=")[0].strip() == key:
                        rendered = str(value).lower() if isinstance(value, bool) else repr(value) if isinstance(value, str) else str(value)
                        rendered = rendered.replace("'", '"')
                        lines[i] = f"{key} = {rendered}"
                text = "\n".join(lines) + "\n"
            path.write_text(text)

    def start(self, names: list[str] | None = None, timeout_s: float = 60) -> None:
        for entry in self.entries:
            if names is None or entry.name in names:
                self.procs[entry.name] = procs.spawn(entry, detached=False)
        deadline = time.monotonic() + timeout_s
        for entry in self.entries:
            if entry.name not in self.procs:
                continue
            while procs.node_status(entry)["height"] is None:
                if self.procs[entry.name].poll() is not None:
                    tail = entry.log_file.read_text(errors="replace")[-1500:]
                    raise BenchError(f"{entry.name} exited; its log ends:\n{tail}")
                if time.monotonic() > deadline:
                    raise BenchError(f"{entry.name} did not answer RPC within {timeout_s} s")
                time.sleep(0.1)

    @property
    def live_urls(self) -> list[str]:
        """RPC URLs of the nodes this cluster started."""
        return [url for entry, url in zip(self.entries, self.urls) if entry.name in self.procs]

    def pid(self, name: str) -> int:
        return self.procs[name].pid

    def stop(self, name: str) -> None:
        """Stop one node (SIGTERM, then SIGKILL after 20 s)."""
        proc = self.procs.pop(name)
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


class Rpc:
    """Async JSON-RPC over one shared aiohttp session."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def post(self, url: str, method: str, **params: Any) -> dict[str, Any]:
        """The whole reply object, errors included (a refusal of the entire request comes back as one error)."""
        async with self.session.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}) as r:
            reply = await r.json(content_type=None)
        if not isinstance(reply, dict) or ("result" not in reply and "error" not in reply):
            raise BenchError(f"{method}: HTTP {r.status}, not a JSON-RPC reply: {str(reply)[:200]}")
        return reply

    async def call(self, url: str, method: str, **params: Any) -> Any:
        reply = await self.post(url, method, **params)
        if "error" in reply:
            raise BenchError(f"{method}: {reply['error'].get('message')}")
        return reply["result"]

    async def batch(self, url: str, calls: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        async with self.session.post(url, json=body) as r:
            reply = await r.json(content_type=None)
        if isinstance(reply, dict):
            raise BenchError(f"batch refused: {reply.get('error', {}).get('message')}")
        by_id = {item.get("id"): item for item in reply}
        return [by_id.get(i, {}).get("result") for i in range(len(calls))]

    async def send_all(self, urls: list[str], raws: list[bytes], label: str, chunk: int = 500,
                       timeout_s: float = 300) -> None:
        """Submit txs in tx_sendBatch chunks spread over ``urls``; BenchError if any is refused for good.

        One chunk at a time; a refusal with a retry hint (tools/bench/offer.py)
        is resent after the hint, so a busy node slows the setup instead of failing it.
        """
        from marketnode.tools.bench.offer import retry_after_ms, tx_errors

        deadline = time.monotonic() + timeout_s
        refused: list[str] = []
        for i in range(0, len(raws), chunk):
            url, part = urls[(i // chunk) % len(urls)], raws[i:i + chunk]
            while part:
                reply = await self.post(url, "tx_sendBatch", txs=[r.hex() for r in part])
                again, wait_ms = [], 0.0
                for raw, error in zip(part, tx_errors(reply, len(part))):
                    hint = None if error is None else retry_after_ms(error)
                    if error is not None and (hint is None or time.monotonic() > deadline):
                        refused.append(str(error.get("message")))
                    elif hint is not None:
                        again.append(raw)
                        wait_ms = max(wait_ms, hint)
                part = again
                if part:
                    await asyncio.sleep(wait_ms / 1000)
        if refused:
            raise BenchError(f"{label}: {len(refused)} txs refused, e.g. {refused[0]}")

    async def wait_receipts(self, url: str, hashes: list[str], timeout_s: float) -> dict[str, dict]:
        """tx_get until every hash has a receipt; returns hash → tx_get result."""
        done: dict[str, dict] = {}
        pending = list(hashes)
        deadline = time.monotonic() + timeout_s
        while pending:
            if time.monotonic() > deadline:
                raise BenchError(f"{len(pending)} txs without receipt after {timeout_s} s")
            results = await self.batch(url, [("tx_get", {"hash": h, "proof": False}) for h in pending[:500]])
            still = []
            for h, result in zip(pending[:500], results):
                if result and result.get("status") in ("committed", "failed"):
                    done[h] = result
                else:
                    still.append(h)
            pending = still + pending[500:]
            if still:
                await asyncio.sleep(0.2)
        return done
