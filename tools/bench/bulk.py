"""Load many pre-signed txs into a cluster as fast as it takes them (closed loop on mempool size)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from marketnode.tools.bench.cluster import Rpc

CHUNK = 1000
MAX_POOL = 20_000


async def bulk_submit(rpc: Rpc, urls: list[str], raws: list[bytes], echo: Callable[[str], None],
                      label: str, on_progress: Callable[[int], object] | None = None) -> float:
    """Submit every tx, pausing while any node's mempool holds MAX_POOL txs; wait until all are committed.

    Returns the seconds taken. ``on_progress(height)`` is awaited-or-called after each chunk.
    """
    started = time.monotonic()
    last_echo = 0.0
    target_txs = len(raws)
    for k, i in enumerate(range(0, len(raws), CHUNK)):
        while True:
            status = await rpc.call(urls[k % len(urls)], "node_status")
            if status["mempool_size"] < MAX_POOL:
                break
            await asyncio.sleep(0.05)
        await rpc.send_all([urls[k % len(urls)]], raws[i:i + CHUNK], label, chunk=CHUNK)
        now = time.monotonic()
        if now - last_echo > 2:
            last_echo = now
            echo(f"  {label}: submitted {i + CHUNK}/{target_txs}, height {status['height']}")
        if on_progress is not None:
            result = on_progress(status["height"])
            if asyncio.iscoroutine(result):
                await result
    while True:
        sizes = [(await rpc.call(u, "node_status"))["mempool_size"] for u in urls]
        if not any(sizes):
            break
        await asyncio.sleep(0.1)
    return time.monotonic() - started
