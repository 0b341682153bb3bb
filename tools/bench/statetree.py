"""`marketnode bench tree`: what the state tree costs per changed key at a given state size, in one process.

`bench stages` runs one block against a 100-account state, where the tree
is a few hundred leaves; this builds a state of ``keys`` entries in a
LevelDB store, then updates ``changed`` of them per block for ``blocks``
blocks, and reports the update (hashing, node reads) and the batch write
per changed key — the price a large, busy chain pays for provable state.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from marketnode.node.storage import statetree
from marketnode.node.storage.kv import WriteBatch
from marketnode.node.storage.level import LevelKV
from marketnode.tools.bench import machine


def run_tree(keys: int = 100_000, changed: int = 15_000, blocks: int = 3) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="marketnode-tree-"))
    kv = LevelKV(directory)
    try:
        batch = WriteBatch()
        started = time.perf_counter()
        statetree.stage(kv, batch, 0, {b"bal/%08d" % i: b"\x01" * 9 for i in range(keys)}, 100)
        kv.write(batch)
        build_s = time.perf_counter() - started
        rows = []
        for version in range(1, blocks + 1):
            changes: dict[bytes, bytes | None] = {
                b"bal/%08d" % ((version * 7919 + i * 6) % keys): version.to_bytes(9, "big") for i in range(changed)}
            batch = WriteBatch()
            t0 = time.perf_counter()
            statetree.stage(kv, batch, version, changes, 100)
            t1 = time.perf_counter()
            kv.write(batch, sync=True)
            t2 = time.perf_counter()
            rows.append({"update_us_per_key": round((t1 - t0) / len(changes) * 1e6, 1),
                         "write_us_per_key": round((t2 - t1) / len(changes) * 1e6, 1), "batch_ops": len(batch)})
    finally:
        kv.close()
        shutil.rmtree(directory, ignore_errors=True)
    return {"mode": "tree", "keys": keys, "changed_per_block": changed, "build_s": round(build_s, 1),
            "blocks": rows, "machine": machine.describe(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
