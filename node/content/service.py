"""The content store as a node service: open it, follow the chain, expire uploads, run the fetcher.

Commits only wake this service; it scans the new blocks for content
references (pins, wants) in its own task, so a slow disk here never delays a
vote or a commit, and a crash between the two is caught up at the next start.
"""

from __future__ import annotations

import asyncio
import logging

from marketnode.core.encoding import decode
from marketnode.node.boundary import ClockMs, ServiceHost, committed_head
from marketnode.node.content.blobs import FileBlobs
from marketnode.node.content.fetch import HAVE_TOPIC, TOPIC, Fetcher, have_payload, serve_content
from marketnode.node.content.store import ContentLimits, ContentStore
from marketnode.node.content.thumbs import ServedCache
from marketnode.node.rpc.clients import ClientSlots

log = logging.getLogger("marketnode.content")

SWEEP_S = 60.0
SCAN_YIELD_EVERY = 64  # blocks scanned between two yields to the event loop
BLOBS_DIR = "content"


class ContentService:
    def __init__(self, node: ServiceHost, now_ms: ClockMs) -> None:
        self.node = node
        self.now_ms = now_ms
        c = node.cfg.content
        self.limits = ContentLimits.from_config(c)
        self.store = ContentStore(node.kv, FileBlobs(node.cfg.data_path / BLOBS_DIR), self.limits, node.chain_id)
        self.fetcher = Fetcher(self.store, node.p2p, c.fetch_concurrency, float(c.fetch_timeout_s), c.max_wanted,
                               now_ms)
        self.served = ServedCache(c.thumbnail_cache_bytes)  # checked originals and thumbnails, for HTTP and peers
        self.downloads = ClientSlots("content downloads in flight", c.max_downloads, c.max_downloads_per_client)
        self.chain_moved = asyncio.Event()
        node.subscribers.append(lambda executed: self.chain_moved.set())

    def scan(self) -> int:
        """Scan committed blocks past the last scanned height (a bounded slice); how many were scanned."""
        chain = self.node.store
        head = committed_head(chain)
        start = max(self.store.scanned_height(), chain.base_height()) + 1  # none below a restored snapshot
        done = 0
        for height in range(start, min(head.height, start + SCAN_YIELD_EVERY - 1) + 1):
            block = chain.get_block(height)
            if block is None:
                break
            oks = [bool(decode(raw).get("ok")) for raw in chain.get_receipts(height)]
            for blob_hash in self.store.scan_block(height, block.txs, oks):
                self.fetcher.plan.want(blob_hash)
            done += 1
        if done:
            self.fetcher.wake.set()
        return done

    async def run(self) -> None:
        """Follow the chain, sweep expired uploads, fetch wanted blobs; never returns."""
        fetch = asyncio.ensure_future(self.fetcher.run())
        try:
            loop = asyncio.get_running_loop()
            next_sweep = loop.time()
            while True:
                self.chain_moved.clear()
                try:
                    while self.scan():
                        await asyncio.sleep(0)
                    if loop.time() >= next_sweep:
                        next_sweep = loop.time() + SWEEP_S
                        expired = self.store.sweep(self.now_ms())
                        if expired:
                            log.info("deleted %d unreferenced uploads past their time", expired)
                except Exception:  # content is derived from the chain: a failure here must never stop the node
                    log.exception("the content store could not follow the chain; trying again in %.0f s", SWEEP_S)
                try:
                    async with asyncio.timeout(SWEEP_S):
                        await self.chain_moved.wait()
                except TimeoutError:
                    pass
        finally:
            fetch.cancel()

    def status(self) -> dict[str, int]:
        """For node_status: what waits to be fetched, what was fetched and refused since start, what is pending."""
        return {"wanted": len(self.fetcher.plan.wants), "fetched": self.fetcher.fetched,
                "wrong_bytes_from_peers": self.fetcher.wrong_bytes, "unreferenced_bytes": self.store.pending_bytes,
                "scanned_height": self.store.scanned_height()}

    def announce(self, blob_hash: bytes) -> None:
        """Tell peers this node now holds a blob (after an upload the chain already references)."""
        self.node.p2p.broadcast(HAVE_TOPIC, have_payload([blob_hash]))

    # ---- p2p -----------------------------------------------------------------

    def read(self, blob_hash: bytes) -> bytes | None:
        """A held blob's bytes, checked against its hash once and then served from memory (bounded)."""
        cached = self.served.get((blob_hash, 0))
        if cached is not None and self.store.info(blob_hash) is not None:
            return cached[0]
        held = self.store.get(blob_hash)
        if held is None:
            return None
        self.served.put((blob_hash, 0), (held[0], held[1].content_type))
        return held[0]

    def serve(self, payload: bytes) -> bytes:
        return serve_content(self.read, payload)

    def on_message(self, peer: bytes, topic: str, payload: bytes) -> bool:
        if topic == HAVE_TOPIC:
            self.fetcher.on_have(peer, payload)
            return True
        return False

    TOPICS = (TOPIC, HAVE_TOPIC)
