"""The dialing half of the transport: keep one link to each address we were told to reach.

Seeds and ``connect()`` addresses are dialed forever; addresses learned by
peer exchange until they fail ``PEX_MAX_FAILURES`` times in a row, so a
stranger's list of dead addresses cannot keep us dialing. Each target has one
task that dials, hands the link to the host's ``serve`` and, when it ends,
backs off with jitter so that restarted peers are not all redialed at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from marketnode.core.errors import P2PError
from marketnode.core.keys import PrivateKey
from marketnode.p2p.config import P2PConfig, PeerAddress
from marketnode.p2p.framing import PexFrame
from marketnode.p2p.handshake import HandshakeError, Initiator, SelfConnectionError
from marketnode.p2p.handshake_io import receive_handshake, receive_welcome
from marketnode.p2p.inbound import WS_PATH
from marketnode.p2p.peer import Peer
from marketnode.p2p.stats import P2PStats

log = logging.getLogger("marketnode.p2p")

PEX_MAX_FAILURES = 5


@dataclass
class DialTarget:
    """An address we keep dialing: seeds forever, PEX-learned ones until they fail repeatedly."""

    address: PeerAddress
    persistent: bool
    learned_key: bytes | None = None
    task: asyncio.Task[None] | None = None


class Dialer:
    """One reconnecting task per target address; ``targets`` is keyed by host:port."""

    def __init__(
        self,
        config: P2PConfig,
        key: PrivateKey,
        stats: P2PStats,
        advertise: Callable[[], str],
        connected: Callable[[bytes], Peer | None],
        is_banned: Callable[[bytes], bool],
        serve: Callable[[Peer, PexFrame], Awaitable[bool]],
        trust: Callable[[bytes], None],
        spawn: Callable[[Awaitable[Any]], asyncio.Task[Any]],
    ) -> None:
        """``trust`` marks a key reached through a persistent target as reserved (as an operator's seed is)."""
        self.config = config
        self._key = key
        self._stats = stats
        self._advertise = advertise
        self._connected = connected
        self._is_banned = is_banned
        self._serve = serve
        self._trust = trust
        self._spawn = spawn
        self.targets: dict[str, DialTarget] = {}
        self.session: aiohttp.ClientSession | None = None
        self.stopping = False

    def add(self, address: PeerAddress, persistent: bool) -> None:
        if self.stopping or address.hostport in self.targets:
            return
        target = DialTarget(address, persistent, learned_key=address.pubkey)
        self.targets[address.hostport] = target
        target.task = self._spawn(self._dial_loop(target))

    async def _dial_loop(self, target: DialTarget) -> None:
        """Keep one connection to the target: dial, serve, back off with jitter, repeat."""
        failures = 0
        try:
            while not self.stopping:
                key = target.learned_key
                linked = self._connected(key) if key is not None else None
                if linked is not None:
                    await linked.closed.wait()
                elif key is not None and self._is_banned(key):
                    failures += 1
                else:
                    try:
                        peer, welcome = await self._dial(target)
                    except SelfConnectionError:
                        log.info("seed %s is this node itself; not dialing it again", target.address.hostport)
                        return
                    except (P2PError, OSError, aiohttp.ClientError, TimeoutError) as exc:
                        failures += 1
                        self._stats.handshakes_failed += 1
                        log.info("dial %s failed (%d): %s", target.address.hostport, failures, exc or type(exc).__name__)
                    except Exception:  # a bug or an aiohttp surprise must not end redialing
                        failures += 1
                        self._stats.handshakes_failed += 1
                        log.exception("dial %s failed unexpectedly", target.address.hostport)
                    else:
                        target.learned_key = peer.node_key
                        if target.persistent:  # an operator's seed or connect(): as trusted as a reserved key
                            self._trust(peer.node_key)
                        # refused here (no free outbound slot) counts as a failure: a learned address gives up
                        failures = 0 if await self._serve(peer, welcome) else failures + 1
                if not target.persistent and failures >= PEX_MAX_FAILURES:
                    return
                await asyncio.sleep(self.backoff_s(failures))
        finally:
            if self.targets.get(target.address.hostport) is target:
                del self.targets[target.address.hostport]

    def backoff_s(self, failures: int) -> float:
        """Exponential backoff with equal jitter, so restarted peers are not all redialed at once."""
        base_ms = min(self.config.reconnect_max_ms, self.config.reconnect_min_ms * 2 ** min(failures, 30))
        return random.uniform(base_ms / 2, base_ms) / 1000

    async def _dial(self, target: DialTarget) -> tuple[Peer, PexFrame]:
        """Connect and run the handshake, up to and including the listener's first sealed frame.

        That first frame (always a pex, possibly empty) confirms the listener
        derived the same keys and admitted us; a refusal arrives instead as a
        websocket close with a code and reason (docs/P2P.md, "Closing").
        """
        assert self.session is not None
        url = f"http://{target.address.hostport}{WS_PATH}"
        initiator = Initiator(
            self._key, self.config.chain_id, self.config.protocol_version, self._advertise(), target.address.pubkey
        )
        async with asyncio.timeout(self.config.handshake_timeout_s):
            ws = await self.session.ws_connect(
                url,
                max_msg_size=self.config.max_frame_bytes,
                heartbeat=self.config.heartbeat_s,
                timeout=aiohttp.ClientWSTimeout(ws_close=2.0),
            )
            try:
                await ws.send_bytes(initiator.first_message())
                last, result = initiator.on_reply(await receive_handshake(ws))
                target.learned_key = result.peer_key
                if self._is_banned(result.peer_key):
                    raise HandshakeError(f"peer {result.peer_key.hex()[:12]} is banned here")
                await ws.send_bytes(last)
                welcome = await receive_welcome(ws, result.cipher, self.config.max_frame_bytes)
            except BaseException:
                await ws.close()
                raise
        self._stats.handshakes_ok += 1
        peer = Peer(ws, result.cipher, result.peer_key, "outbound", target.address.hostport, self.config)
        return peer, welcome
