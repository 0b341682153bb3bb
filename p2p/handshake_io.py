"""The handshake's messages over a websocket: receive one, receive the welcome, refuse, close.

``handshake.py`` is sans-IO; these few coroutines are the only place its
messages meet a socket, shared by the inbound gate and the dialer, so both
ends enforce the same size and type rules on what arrives before a session.
"""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp

from marketnode.p2p.framing import PexFrame, decode_frame
from marketnode.p2p.handshake import MAX_HANDSHAKE_BYTES, HandshakeError, reject_message
from marketnode.p2p.peer import WebSocketLike
from marketnode.p2p.session import SessionCipher


async def receive_handshake(ws: WebSocketLike) -> bytes:
    """One binary handshake message; anything else (text, close, oversize) fails the handshake."""
    message = await ws.receive()
    if message.type != aiohttp.WSMsgType.BINARY:
        raise HandshakeError(f"expected a binary handshake message, got {message.type.name}")
    if len(message.data) > MAX_HANDSHAKE_BYTES:
        raise HandshakeError("handshake message too large")
    return bytes(message.data)


async def receive_welcome(ws: WebSocketLike, cipher: SessionCipher, max_frame_bytes: int) -> PexFrame:
    """The listener's first sealed frame, or the reason it closed on us."""
    message = await ws.receive()
    if message.type == aiohttp.WSMsgType.CLOSE:
        reason = message.extra.decode(errors="replace") if isinstance(message.extra, bytes) else message.extra
        raise HandshakeError(f"peer closed the link: {message.data} {reason}")
    if message.type != aiohttp.WSMsgType.BINARY:
        raise HandshakeError(f"expected the welcome frame, got {message.type.name}")
    frame = decode_frame(cipher.open(bytes(message.data)), max_frame_bytes)
    if not isinstance(frame, PexFrame):
        raise HandshakeError("the first frame after the handshake is not a pex")
    return frame


async def refuse(ws: WebSocketLike, exc: BaseException | None) -> None:
    """Tell the dialer why (a handshake error's reason), then close; a dead socket is no error here."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(1.0):
            if isinstance(exc, HandshakeError):
                await ws.send_bytes(reject_message(exc.reason))
            await ws.close(code=aiohttp.WSCloseCode.POLICY_VIOLATION)


async def close_quietly(ws: WebSocketLike) -> None:
    """Close a pending handshake dropped to make room; bounded, so a stalled socket cannot hold us."""
    with contextlib.suppress(Exception):
        async with asyncio.timeout(1.0):
            await ws.close(code=aiohttp.WSCloseCode.TRY_AGAIN_LATER, message=b"too many handshakes in progress")
