"""`marketnode bench journal`: what the mempool journal costs per acknowledged tx, on this machine's disk.

Three shapes of traffic against a real file in a temp dir (the node's home is
usually on the same disk): one tx_send at a time (one fsync each, the worst
case), tx_sendBatch of 100 (one fsync per batch), and many wallets at once
(group commit: every append waiting at the same moment shares one fsync).
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from marketnode.core.keys import PrivateKey
from marketnode.core.types import Tx
from marketnode.node.mempool.journal import MempoolJournal
from marketnode.tools.bench import machine


def _txs(count: int) -> list[tuple[bytes, bytes]]:
    key = PrivateKey(bytes([7]) * 32)
    out = []
    for nonce in range(count):
        tx = Tx("bench", key.public_key, nonce, "transfer", {"amount": 1, "asset": "MKT", "to": bytes(32)}, 0).sign(key)
        out.append((tx.hash, tx.encode()))
    return out


def _fresh(directory: Path, name: str) -> MempoolJournal:
    journal = MempoolJournal(directory / name, 65536, lambda _h: True)
    journal.start({})
    return journal


async def _measure(directory: Path, txs: list[tuple[bytes, bytes]], clients: int) -> dict[str, Any]:
    count = len(txs)
    result: dict[str, Any] = {}

    serial = _fresh(directory, "serial")
    wall, cpu = time.perf_counter(), time.process_time()
    for item in txs:
        await serial.record([item])
    result["one tx_send at a time"] = _row(count, wall, cpu, serial.fsyncs - 1)
    serial.close()

    batched = _fresh(directory, "batched")
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(0, count, 100):
        await batched.record(txs[i:i + 100])
    result["tx_sendBatch of 100"] = _row(count, wall, cpu, batched.fsyncs - 1)
    batched.close()

    grouped = _fresh(directory, "grouped")
    writer = asyncio.create_task(grouped.run())
    await asyncio.sleep(0)

    async def wallet(items: list[tuple[bytes, bytes]]) -> None:
        for item in items:
            await grouped.record([item])

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(wallet(txs[c::clients]) for c in range(clients)))
    result[f"{clients} wallets at once (group commit)"] = _row(count, wall, cpu, grouped.fsyncs - 1)
    writer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await writer
    grouped.close()
    return result


def _row(count: int, wall: float, cpu: float, fsyncs: int) -> dict[str, Any]:
    return {"us_per_tx_wall": round((time.perf_counter() - wall) / count * 1e6, 1),
            "us_per_tx_cpu": round((time.process_time() - cpu) / count * 1e6, 1),
            "txs_per_fsync": round(count / max(1, fsyncs), 1)}


def run_journal(txs: int = 2000, clients: int = 100) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="marketnode-journal-"))
    try:
        rows = asyncio.run(_measure(directory, _txs(txs), clients))
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return {"mode": "journal", "txs": txs, "clients": clients, "rows": rows, "machine": machine.describe(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
