"""A crowd of strangers against real nodes' p2p ports: fresh keys that pass the handshake and hold on.

Runs its own event loop in a thread so a synchronous test (the integration
harness is synchronous) can keep the crowd up while it restarts nodes. Every
stranger is a loop: dial, handshake with a fresh key, and if admitted read
(answering pings) and send an empty pex frame now and then so it never looks
idle; when refused or evicted, dial again after a short jittered pause. That
is the attack of issue 13 item 2, made as persistent as a cheap attacker can.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections import Counter
from collections.abc import Callable

import aiohttp

from marketnode.core.keys import PrivateKey
from marketnode.p2p.framing import PexFrame, encode_frame
from marketnode.p2p.inbound import WS_PATH
from marketnode.p2p.probe import RawPeer


class StrangerFlood:
    """``per_target`` stranger loops against each address in ``targets``."""

    def __init__(
        self,
        targets: list[str],
        chain_id: str,
        per_target: int = 200,
        source_ip: Callable[[int], str | None] = lambda i: None,
        retry_s: tuple[float, float] = (1.0, 3.0),
        keepalive_s: float = 20.0,
    ) -> None:
        self.targets = targets
        self.chain_id = chain_id
        self.per_target = per_target
        self.source_ip = source_ip  # stranger number -> local address to bind (None: the default)
        self.retry_s = retry_s
        self.keepalive_s = keepalive_s
        self.held: Counter[str] = Counter()  # target -> strangers admitted and holding a slot now
        self.admitted = 0
        self.refused = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="stranger-flood", daemon=True)
        self._stop: asyncio.Event | None = None
        self._main: asyncio.Future[None] | None = None

    def start(self) -> None:
        self._thread.start()
        self._main = asyncio.run_coroutine_threadsafe(self._run(), self._loop)  # type: ignore[assignment]

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._main is not None:
            with contextlib.suppress(Exception):
                self._main.result(30)  # type: ignore[call-arg]
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def holding(self, target: str) -> int:
        return self.held[target]

    async def _run(self) -> None:
        self._stop = asyncio.Event()
        sessions: dict[str | None, aiohttp.ClientSession] = {}

        def session_for(ip: str | None) -> aiohttp.ClientSession:
            if ip not in sessions:
                connector = aiohttp.TCPConnector(limit=0, local_addr=(ip, 0) if ip else None)
                sessions[ip] = aiohttp.ClientSession(connector=connector)
            return sessions[ip]

        loops = [
            asyncio.ensure_future(self._stranger(target, session_for(self.source_ip(i))))
            for target in self.targets
            for i in range(self.per_target)
        ]
        try:
            await self._stop.wait()
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            for session in sessions.values():
                await session.close()

    async def _stranger(self, target: str, session: aiohttp.ClientSession) -> None:
        assert self._stop is not None
        while not self._stop.is_set():
            with contextlib.suppress(Exception):
                await self._once(target, session)
            await asyncio.sleep(random.uniform(*self.retry_s))  # the attacker's pacing, not a test wait

    async def _once(self, target: str, session: aiohttp.ClientSession) -> None:
        try:
            ws = await session.ws_connect(f"http://{target}{WS_PATH}", max_msg_size=64 * 1024 * 1024)
        except aiohttp.ClientError:
            self.refused += 1
            return
        raw = RawPeer(session, ws)
        try:
            await raw.handshake(PrivateKey.generate(), self.chain_id)
            welcome = await raw.receive(timeout=5.0)
            if welcome.type != aiohttp.WSMsgType.BINARY:
                self.refused += 1
                return
            self.admitted += 1
            self.held[target] += 1
            try:
                await self._hold(raw)
            finally:
                self.held[target] -= 1
        finally:
            await ws.close()

    async def _hold(self, raw: RawPeer) -> None:
        keepalive = encode_frame(PexFrame(()))
        while True:
            try:
                message = await raw.receive(timeout=self.keepalive_s)
            except TimeoutError:
                await raw.send_sealed(keepalive)
                continue
            if message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                return
