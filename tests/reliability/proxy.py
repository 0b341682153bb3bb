"""A fault-injecting TCP proxy between testnet nodes: cut, delay and heal links between two nodes.

Every node gets one ingress proxy; every other node's seeds point at that
proxy and the node advertises the proxy's address, so peer exchange never
hands out the node's own port and every p2p link passes through a proxy.
The proxy learns who dialed from the dialer's handshake hello (the first
websocket frame, whose ``node_key`` is sent in the clear), so a link is the
unordered pair of node names whichever side dialed. The proxy runs its own
asyncio loop in a thread so the synchronous tests can steer it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import msgpack

Link = frozenset[str]
READ_CHUNK = 64 * 1024
MAX_SNIFF_BYTES = 16 * 1024


def link(a: str, b: str) -> Link:
    return frozenset((a, b))


def sniff_dialer_key(buffer: bytes) -> bytes | None:
    """The dialer's node key from the first bytes of a p2p connection, or None if not (yet) readable.

    The bytes are an HTTP upgrade request, then a masked websocket binary
    frame holding the msgpack hello (docs/P2P.md, "Handshake").
    """
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return None
    frame = buffer[end + 4:]
    if len(frame) < 2:
        return None
    length, offset = frame[1] & 0x7F, 2
    if length == 126:
        if len(frame) < 4:
            return None
        length, offset = int.from_bytes(frame[2:4], "big"), 4
    elif length == 127:
        return None  # a hello is never that long
    masked = frame[1] & 0x80
    mask = frame[offset:offset + 4] if masked else b"\0\0\0\0"
    offset += 4 if masked else 0
    if len(frame) < offset + length:
        return None
    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(frame[offset:offset + length]))
    try:
        hello = msgpack.unpackb(payload, raw=False, strict_map_key=False)
    except (ValueError, msgpack.UnpackException):
        return b""
    key = hello.get("node_key") if isinstance(hello, dict) else None
    return key if isinstance(key, bytes) else b""


@dataclass
class _Connection:
    dialer: str | None
    target: str
    writers: list[asyncio.StreamWriter] = field(default_factory=list)

    def close(self) -> None:
        for writer in self.writers:
            with contextlib.suppress(Exception):
                writer.transport.abort()


class LinkProxy:
    """Ingress proxies for a set of nodes, with per-link faults (cut, delay) steered from any thread."""

    def __init__(self, targets: dict[str, int], keys: dict[bytes, str], host: str = "127.0.0.1") -> None:
        """``targets``: node name -> its real p2p port; ``keys``: node key -> node name."""
        self.targets = targets
        self.keys = keys
        self.host = host
        self.ports: dict[str, int] = {}
        self.cut_links: set[Link] = set()
        self.delays_ms: dict[Link, int] = {}
        self.connections: list[_Connection] = []
        self.stats = {"accepted": 0, "refused_cut": 0, "severed": 0, "bytes": 0}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="link-proxy", daemon=True)
        self._servers: list[asyncio.Server] = []

    # ---- lifecycle (any thread) --------------------------------------------

    def start(self) -> LinkProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def close(self) -> None:
        if not self._thread.is_alive():
            return
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def address(self, name: str) -> str:
        return f"{self.host}:{self.ports[name]}"

    # ---- faults (any thread) -------------------------------------------------

    def cut(self, a: str, b: str) -> None:
        """Sever every connection between a and b now, and refuse new ones until healed."""
        self._call(self._cut, link(a, b))

    def delay(self, a: str, b: str, ms: int) -> None:
        """Hold every chunk between a and b for ``ms`` before forwarding it (order kept)."""
        self._call(self.delays_ms.__setitem__, link(a, b), ms)

    def heal(self, a: str, b: str) -> None:
        self._call(self._heal, link(a, b))

    def heal_all(self) -> None:
        self._call(self._heal_all)

    def _call(self, fn, *args) -> None:  # type: ignore[no-untyped-def]
        async def run() -> None:
            fn(*args)

        asyncio.run_coroutine_threadsafe(run(), self._loop).result(10)

    def _cut(self, pair: Link) -> None:
        self.cut_links.add(pair)
        for conn in list(self.connections):
            if conn.dialer is not None and link(conn.dialer, conn.target) == pair:
                self.stats["severed"] += 1
                conn.close()

    def _heal(self, pair: Link) -> None:
        self.cut_links.discard(pair)
        self.delays_ms.pop(pair, None)

    def _heal_all(self) -> None:
        self.cut_links.clear()
        self.delays_ms.clear()

    # ---- the proxy -------------------------------------------------------------

    async def _start(self) -> None:
        for name in self.targets:
            server = await asyncio.start_server(
                lambda r, w, n=name: self._accept(n, r, w), self.host, 0)
            self._servers.append(server)
            self.ports[name] = server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        for server in self._servers:
            server.close()
        for conn in list(self.connections):
            conn.close()

    async def _accept(self, target: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.targets[target])
        except OSError:
            writer.transport.abort()
            return
        self.stats["accepted"] += 1
        conn = _Connection(None, target, [writer, up_writer])
        self.connections.append(conn)
        try:
            await asyncio.gather(self._pump(conn, reader, up_writer, sniff=True), self._pump(conn, up_reader, writer))
        finally:
            conn.close()
            self.connections.remove(conn)

    async def _pump(self, conn: _Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    sniff: bool = False) -> None:
        """Forward bytes, each chunk held for the link's delay; stop when either side or a cut ends it."""
        queue: asyncio.Queue[tuple[float, bytes] | None] = asyncio.Queue()
        sender = asyncio.ensure_future(self._drain(queue, writer))
        sniffed = b""
        try:
            while True:
                chunk = await reader.read(READ_CHUNK)
                if not chunk:
                    break
                if sniff and conn.dialer is None and len(sniffed) < MAX_SNIFF_BYTES:
                    sniffed += chunk
                    key = sniff_dialer_key(sniffed)
                    if key is not None:
                        conn.dialer = self.keys.get(key, "?")
                        if link(conn.dialer, conn.target) in self.cut_links:
                            self.stats["refused_cut"] += 1
                            break
                pair = link(conn.dialer, conn.target) if conn.dialer else None
                if pair in self.cut_links:
                    break
                self.stats["bytes"] += len(chunk)
                delay_ms = self.delays_ms.get(pair, 0) if pair else 0
                queue.put_nowait((time.monotonic() + delay_ms / 1000, chunk))
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            queue.put_nowait(None)
            with contextlib.suppress(Exception):
                await sender
            conn.close()

    @staticmethod
    async def _drain(queue: asyncio.Queue[tuple[float, bytes] | None], writer: asyncio.StreamWriter) -> None:
        while (item := await queue.get()) is not None:
            due, chunk = item
            wait_s = due - time.monotonic()
            if wait_s > 0:
                await asyncio.sleep(wait_s)  # the injected delay itself, not synchronisation
            writer.write(chunk)
            await writer.drain()


def route_through(proxy: LinkProxy, homes: dict[str, Path], keys: dict[str, bytes], seeds_of: dict[str, Iterable[str]]) -> None:
    """Rewrite each node's config.toml: seeds at the peers' proxies, advertise our own proxy."""
    for name, home in homes.items():
        path = home / "config.toml"
        text = path.read_text()
        seeds = ", ".join(f'"{keys[peer].hex()}@{proxy.address(peer)}"' for peer in seeds_of[name])
        text, n_seeds = re.subn(r"^seeds = \[.*?\]", f"seeds = [{seeds}]", text, count=1, flags=re.M)
        text, n_adv = re.subn(r'^advertise_address = ""', f'advertise_address = "{proxy.address(name)}"', text,
                              count=1, flags=re.M)
        assert n_seeds == 1 and n_adv == 1, f"unexpected config layout in {path}"
        path.write_text(text)
