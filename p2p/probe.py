"""Hostile-peer probes against a p2p port, for tests, fuzzing and operators checking a node.

Each probe speaks just enough of the protocol to misbehave in one way and
returns a one-line outcome; none raises, so a test can fire them all at a
running node and then check that the node still serves honest peers. Never
imported by the node itself.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any

import aiohttp

from marketnode.core.encoding import decode, encode
from marketnode.core.keys import PrivateKey
from marketnode.p2p.handshake import Initiator
from marketnode.p2p.inbound import WS_PATH
from marketnode.p2p.session import SessionCipher


class RawPeer:
    """A hand-driven websocket client: runs the handshake itself, then sends whatever it is told."""

    def __init__(self, session: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.session = session
        self.ws = ws
        self.cipher: SessionCipher | None = None
        self.sent: list[bytes] = []  # plaintext handshake messages, for replay

    @classmethod
    async def connect(cls, address: str, max_msg_size: int = 64 * 1024 * 1024, local_host: str | None = None) -> RawPeer:
        """Open the websocket; ``local_host`` binds the client side (e.g. 127.0.0.7, to look like another host)."""
        connector = aiohttp.TCPConnector(local_addr=(local_host, 0)) if local_host else None
        session = aiohttp.ClientSession(connector=connector)
        try:
            ws = await session.ws_connect(f"http://{address}{WS_PATH}", max_msg_size=max_msg_size)
        except BaseException:
            await session.close()
            raise
        return cls(session, ws)

    async def send(self, data: bytes) -> None:
        self.sent.append(data)
        await self.ws.send_bytes(data)

    async def receive(self, timeout: float = 3.0) -> aiohttp.WSMessage:
        return await self.ws.receive(timeout=timeout)

    async def handshake(self, key: PrivateKey, chain_id: str, version: int = 1) -> None:
        """The honest handshake (raises HandshakeError if refused); the welcome frame is left unread."""
        initiator = Initiator(key, chain_id, version)
        await self.send(initiator.first_message())
        reply = await self.receive()
        last, result = initiator.on_reply(reply.data)
        await self.send(last)
        self.cipher = result.cipher

    async def send_sealed(self, plaintext: bytes) -> None:
        assert self.cipher is not None, "handshake first"
        await self.ws.send_bytes(self.cipher.seal(plaintext))

    async def close(self) -> None:
        try:
            await self.ws.close()
        finally:
            await self.session.close()

    async def __aenter__(self) -> RawPeer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def describe(message: aiohttp.WSMessage) -> str:
    """A one-line account of what the node answered."""
    if message.type == aiohttp.WSMsgType.BINARY:
        try:
            value = decode(message.data)
            if isinstance(value, dict) and value.get("type") == "reject":
                return f"refused: {value.get('reason')}"
        except Exception:
            pass
        return f"binary {len(message.data)} bytes"
    if message.type == aiohttp.WSMsgType.CLOSE:
        return f"closed {message.data} {message.extra or ''}".strip()
    return message.type.name.lower()


async def _guard(coro: Coroutine[Any, Any, str]) -> str:
    try:
        return await coro
    except Exception as exc:
        return f"error: {type(exc).__name__}: {exc}"


async def random_bytes(address: str, size: int = 4096) -> str:
    """Raw TCP garbage, no HTTP at all."""
    host, port = address.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host.strip("[]"), int(port))
    try:
        writer.write(os.urandom(size))
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(200), 3.0)
        first_line = answer.split(b"\r\n", 1)[0].decode(errors="replace")
        return f"answered {first_line or 'nothing'}"
    finally:
        writer.close()


async def plain_http(address: str) -> str:
    """An ordinary HTTP GET on the websocket path."""
    async with aiohttp.ClientSession() as session, session.get(f"http://{address}{WS_PATH}") as response:
        return f"http {response.status}"


async def garbage_hello(address: str, size: int = 64) -> str:
    """A websocket whose first message is random bytes."""
    async with await RawPeer.connect(address) as raw:
        await raw.send(os.urandom(size))
        return describe(await raw.receive())


async def wrong_chain(address: str, chain_id: str) -> str:
    """An honest handshake on another chain."""
    async with await RawPeer.connect(address) as raw:
        await raw.send(Initiator(PrivateKey.generate(), chain_id, 1).first_message())
        return describe(await raw.receive())


async def bad_signature(address: str, chain_id: str) -> str:
    """A handshake whose final signature is zeros."""
    async with await RawPeer.connect(address) as raw:
        initiator = Initiator(PrivateKey.generate(), chain_id, 1)
        await raw.send(initiator.first_message())
        last, _ = initiator.on_reply((await raw.receive()).data)
        auth = decode(last)
        auth["sig"] = bytes(64)
        await raw.send(encode(auth))
        return describe(await raw.receive())


async def replayed_handshake(address: str, chain_id: str) -> str:
    """Record a genuine handshake, then replay the dialer's two messages on a new connection."""
    async with await RawPeer.connect(address) as genuine:
        await genuine.handshake(PrivateKey.generate(), chain_id)
        await genuine.receive()  # the welcome: the genuine session was accepted
    async with await RawPeer.connect(address) as replay:
        await replay.send(genuine.sent[0])
        await replay.receive()
        await replay.send(genuine.sent[1])
        return describe(await replay.receive())


async def oversized_frame(address: str, size: int) -> str:
    """One websocket message of ``size`` bytes before any handshake."""
    async with await RawPeer.connect(address) as raw:
        await raw.ws.send_bytes(os.urandom(size))
        return describe(await raw.receive(timeout=10.0))


async def run_all(address: str, chain_id: str, oversized_bytes: int = 17 * 1024 * 1024) -> dict[str, str]:
    """Every probe once, in turn: {probe name: outcome}."""
    wrong = "not-" + chain_id if len(chain_id) < 60 else "other-chain"
    probes = {
        "random_bytes": random_bytes(address),
        "plain_http": plain_http(address),
        "garbage_hello": garbage_hello(address),
        "wrong_chain": wrong_chain(address, wrong),
        "bad_signature": bad_signature(address, chain_id),
        "replayed_handshake": replayed_handshake(address, chain_id),
        "oversized_frame": oversized_frame(address, oversized_bytes),
    }
    return {name: await _guard(coro) for name, coro in probes.items()}
