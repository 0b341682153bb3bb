"""Tx gossip: what this node tells its peers about pending txs, and what it takes from them.

Push: every tx this node admits — from a wallet or from a peer — is buffered
for a few milliseconds and broadcast in batches. A peer's batch is never
forwarded as it came: only the txs this node admitted go on, so a relayer
answers only for what it checked itself and an honest node is never
penalised for another's bad tx.

Repair: pushed gossip may be shed under load or lost with a cut link, so a
re-gossip round re-offers, every REGOSSIP_S, what waited a whole period
(every sender's next-nonce run first), and while txs wait behind nonce gaps a
want request asks one peer for exactly the missing (sender, nonce). A new
peer is offered the whole pool.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from marketnode.core.encoding import decode as decode_value
from marketnode.core.encoding import encode as encode_value
from marketnode.core.errors import DecodeError, MarketnodeError
from marketnode.core.types import Tx
from marketnode.node.mempool.pool import Mempool, MempoolError

log = logging.getLogger("marketnode.node")

TOPIC = "txs"
WANT_TOPIC = "txwant"
TX_GOSSIP_FLUSH_S = 0.005
MAX_GOSSIP_BATCH = 2000
MAX_GOSSIP_BYTES = 1024 * 1024  # per tx-gossip message
REGOSSIP_S = 1.0
MAX_REGOSSIP = 4000  # txs re-offered per period, heads of every sender's run first
REGOSSIP_HEADS_PER_SENDER = 16
GAPPED_TTL_S = 30.0  # a tx behind a nonce gap that long is dropped (its client gave up the missing nonce)
WANT_S = 0.5  # how often a node with txs behind nonce gaps asks its peers for the missing ones
WANT_MAX_SENDERS = 256  # gaps named in one want request
WANT_RUN = 64  # txs served per named gap
WANT_TIMEOUT_S = 2.0
GOSSIP_YIELD_EVERY = 64  # gossiped txs verified between two yields to the event loop
# A peer whose batch holds a tx that no honest node would have relayed (it fails on its own bytes, whatever
# the state) is penalised; a tx refused for a stale nonce or a full pool is not the relayer's fault.
RELAYER_FAULTS = ("decode", "chain_id", "signature", "too_large")
INVALID_TX_PENALTY = 5
BAD_BATCH_PENALTY = 10


class PeerInfoLike(Protocol):
    @property
    def pubkey(self) -> bytes: ...


class Transport(Protocol):
    """The P2PHost calls tx gossip needs."""

    def broadcast(self, topic: str, payload: bytes, exclude: bytes | None = None) -> None: ...

    def send(self, peer: bytes, topic: str, payload: bytes) -> bool: ...

    def penalize(self, peer: bytes, points: int, reason: str) -> None: ...

    def peers(self) -> Iterable[PeerInfoLike]: ...

    async def request(self, peer: bytes, topic: str, payload: bytes, timeout_s: float) -> bytes: ...


# Admits one raw tx into the pool (mempool policy + the chain's rules at the head); raises MempoolError or
# another MarketnodeError on refusal.
Admit = Callable[[bytes], Tx]


def tx_batches(raws: Iterable[bytes]) -> Iterator[bytes]:
    """Gossip payloads for ``raws``: at most MAX_GOSSIP_BATCH txs and about MAX_GOSSIP_BYTES each,
    so no payload can exceed a peer's frame limit however large the txs are."""
    batch: list[bytes] = []
    size = 0
    for raw in raws:
        if batch and (len(batch) >= MAX_GOSSIP_BATCH or size + len(raw) > MAX_GOSSIP_BYTES):
            yield encode_value(batch)
            batch, size = [], 0
        batch.append(raw)
        size += len(raw)
    if batch:
        yield encode_value(batch)


class TxGossip:
    """Batches, relays and repairs tx gossip for one node (the asyncio edge around the mempool)."""

    def __init__(self, mempool: Mempool, transport: Transport, admit: Admit, on_admitted: Callable[[], None],
                 max_frame_bytes: int) -> None:
        self.mempool = mempool
        self.transport = transport
        self.admit = admit
        self.on_admitted = on_admitted  # new proposable work for consensus
        self.max_frame_bytes = max_frame_bytes
        self._buffer: list[bytes] = []
        self._flush_handle: asyncio.TimerHandle | None = None

    # ---- push ----------------------------------------------------------------

    def publish(self, raw: bytes) -> None:
        """Queue a tx this node admitted for its peers (sent within TX_GOSSIP_FLUSH_S, batched)."""
        self._buffer.append(raw)
        if len(self._buffer) >= MAX_GOSSIP_BATCH:
            self.flush()
        elif self._flush_handle is None:
            self._flush_handle = asyncio.get_running_loop().call_later(TX_GOSSIP_FLUSH_S, self.flush)

    def flush(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        if self._buffer:
            batch, self._buffer = self._buffer, []
            self._broadcast(batch)

    def _broadcast(self, raws: Iterable[bytes]) -> None:
        for payload in tx_batches(raws):
            self.transport.broadcast(TOPIC, payload)

    def offer_heads(self) -> None:
        """Offer every sender's run from its next nonce now (a view change may be a primary lacking them)."""
        heads = self.mempool.regossip_batch(self.mempool.admission_seq, MAX_REGOSSIP, REGOSSIP_HEADS_PER_SENDER)
        self._broadcast(tx.encode() for tx in heads)

    def offer_to(self, peer: bytes) -> None:
        """Send a new peer our pending txs: one admitted while we had no peers would otherwise never spread."""
        for payload in tx_batches(tx.encode() for tx in self.mempool):
            self.transport.send(peer, TOPIC, payload)

    # ---- intake --------------------------------------------------------------

    async def on_batch(self, peer: bytes, payload: bytes) -> bool:
        """Admit a peer's tx batch and pass on only the txs this node admitted.

        Verifying a batch takes milliseconds per hundred txs, so it yields to
        the event loop between slices: consensus votes are not held up behind
        a flood of gossip. Returns whether anything was admitted.
        """
        try:
            raws = decode_value(payload, self.max_frame_bytes)
        except DecodeError as exc:
            self.transport.penalize(peer, BAD_BATCH_PENALTY, f"undecodable tx batch: {exc}")
            return False
        if not isinstance(raws, list) or not all(isinstance(r, bytes) for r in raws):
            self.transport.penalize(peer, BAD_BATCH_PENALTY, "tx batch is not a list of tx bytes")
            return False
        admitted = 0
        for index, raw in enumerate(raws):
            if index and index % GOSSIP_YIELD_EVERY == 0:
                await asyncio.sleep(0)
            try:
                self.admit(raw)
            except MempoolError as exc:
                if exc.reason in RELAYER_FAULTS:
                    self.transport.penalize(peer, INVALID_TX_PENALTY, f"gossiped an invalid tx: {exc}")
                continue
            except MarketnodeError:
                continue
            admitted += 1
            self.publish(raw)
        if admitted:
            self.on_admitted()
        return admitted > 0

    # ---- repair --------------------------------------------------------------

    async def regossip_loop(self) -> None:
        """Offer again, every REGOSSIP_S, txs that have waited a whole period: the ones that unblock blocks first.

        A peer that lacks one tx of a sender holds that sender's later txs
        behind a nonce gap, so each round re-offers every sender's txs from its
        next nonce on (the gap fillers), then continues through the rest of the
        pool where the last round stopped: gossip converges however large the
        pool is. Peers that hold a tx drop it as a duplicate after one hash.
        """
        before = self.mempool.admission_seq
        history: deque[int] = deque(maxlen=int(GAPPED_TTL_S / REGOSSIP_S))  # admission_seq, one per period
        while True:
            await asyncio.sleep(REGOSSIP_S)
            stale = self.mempool.regossip_batch(before, MAX_REGOSSIP, REGOSSIP_HEADS_PER_SENDER)
            before = self.mempool.admission_seq
            if len(history) == history.maxlen:
                expired = self.mempool.expire_gapped(history[0])
                if expired:
                    log.info("dropped %d txs that waited behind a nonce gap for %.0f s", expired, GAPPED_TTL_S)
            history.append(before)
            self._broadcast(tx.encode() for tx in stale)

    async def want_loop(self) -> None:
        """Pull what push missed: while txs here wait behind nonce gaps, ask peers for the missing txs.

        A request travels in the urgent lane and names exactly the missing
        (sender, nonce), so the gap fillers arrive in one round trip however
        busy gossip is.
        """
        turn = 0
        while True:
            await asyncio.sleep(WANT_S)
            gaps = self.mempool.gaps(WANT_MAX_SENDERS)
            peers = [p.pubkey for p in self.transport.peers()]
            if not gaps or not peers:
                continue
            turn += 1
            peer = peers[turn % len(peers)]
            payload = encode_value([[sender, nonce] for sender, nonce in gaps])
            try:
                answer = await self.transport.request(peer, WANT_TOPIC, payload, WANT_TIMEOUT_S)
                raws = decode_value(answer, self.max_frame_bytes)
            except (MarketnodeError, TimeoutError) as exc:
                log.debug("want request to %s failed: %s", peer.hex()[:12], exc)
                continue
            if isinstance(raws, list) and all(isinstance(r, bytes) for r in raws):
                await self.on_batch(peer, encode_value(raws))
            else:
                self.transport.penalize(peer, BAD_BATCH_PENALTY, "want answer is not a list of tx bytes")

    def serve_want(self, payload: bytes) -> bytes:
        """Answer a peer's want: for each (sender, nonce), our consecutive pending txs from there, bounded."""
        wants = decode_value(payload, 64 * 1024)
        if not isinstance(wants, list) or len(wants) > WANT_MAX_SENDERS:
            raise DecodeError(f"a want is a list of at most {WANT_MAX_SENDERS} [sender, nonce] pairs")
        out: list[bytes] = []
        size = 0
        for item in wants:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], bytes)
                    and isinstance(item[1], int)):
                raise DecodeError("a want names [sender bytes, nonce]")
            for tx in self.mempool.run_from(item[0], item[1], WANT_RUN):
                raw = tx.encode()
                if size + len(raw) > MAX_GOSSIP_BYTES:
                    return encode_value(out)
                out.append(raw)
                size += len(raw)
        return encode_value(out)
