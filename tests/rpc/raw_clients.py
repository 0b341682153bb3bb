"""Hostile clients on real sockets: stalled bodies, idle connections, websockets from another address.

The attacker connects from 127.0.0.2 (all of 127/8 is loopback on Linux), so
the server counts it as a different client from the test's own 127.0.0.1.
"""

from __future__ import annotations

import asyncio

import aiohttp

ATTACKER = "127.0.0.2"
BYSTANDER = "127.0.0.3"
CALL = b'{"jsonrpc":"2.0","id":1,"method":"demo_add","params":[1]}'


async def connect(port: int, source: str = ATTACKER) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))


def post_head(length: int, content_type: str = "application/json") -> bytes:
    return (f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


async def stalled_body(port: int, source: str = ATTACKER) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A POST whose headers promise 1000 bytes of body, of which only the first few ever arrive."""
    reader, writer = await connect(port, source)
    writer.write(post_head(1000) + CALL[:10])
    await writer.drain()
    return reader, writer


async def read_until_closed(reader: asyncio.StreamReader, timeout_s: float) -> bytes:
    """Everything the server sends until it closes the connection; fails if it is still open after ``timeout_s``."""
    async with asyncio.timeout(timeout_s):
        return await reader.read()


def session_from(source: str) -> aiohttp.ClientSession:
    """An aiohttp client whose connections come from ``source``."""
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0), limit=0))
