"""`marketnode bench stages`: per-tx CPU cost of each stage of the hot path, in one process.

No network and no other processes: a LevelDB ChainStore in a temp dir, a
Mempool, and one block of signed transfers taken through admission, block
build, validation (decode, contents, signatures) and execution. This is the
floor under what `bench tps` can reach.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from marketnode.core.keys import PrivateKey
from marketnode.core.types import COMMIT, Block, Certificate, Tx, Vote
from marketnode.market.engine import init_genesis
from marketnode.market.state import StateOverlay
from marketnode.node.chain.app import ChainApplication
from marketnode.node.chain.executor import BlockExecutor
from marketnode.node.genesis_setup import dev_genesis
from marketnode.node.mempool.pool import Mempool, MempoolLimits
from marketnode.node.mempool.rules import check_at_head
from marketnode.node.storage.chainstore import ChainStore
from marketnode.node.storage.level import LevelKV
from marketnode.tools.bench import machine


def run_stages(txs: int = 5000) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="marketnode-stages-"))
    try:
        return _run(directory, txs)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _run(directory: Path, count: int) -> dict[str, Any]:
    validator = PrivateKey(bytes([9]) * 32)
    senders = [PrivateKey(bytes([i + 10]) * 32) for i in range(100)]
    genesis = dev_genesis("bench", [("v", validator.public_key, "127.0.0.1:1")],
                          {f"a{i}": k.public_key for i, k in enumerate(senders)}, 10**12)
    store = ChainStore(LevelKV(directory))
    overlay = StateOverlay(store.state_reader())
    init_genesis(overlay, genesis)
    store.init_genesis(genesis.hash, overlay.changes(), 0)
    raws = [Tx("bench", senders[i % 100].public_key, i // 100, "transfer",
               {"amount": 1, "asset": "MKT", "to": senders[(i + 1) % 100].public_key}, 0).sign(senders[i % 100]).encode()
            for i in range(count)]
    mempool = Mempool(MempoolLimits(max_txs=count * 2), "bench")
    app = ChainApplication(store, mempool, 65536)

    def market_check(tx: Tx, next_nonce: int) -> None:  # as the node admits: node/mempool/rules.py
        check_at_head(store, tx, next_nonce)

    t0 = time.perf_counter()
    for raw in raws:
        mempool.add(raw, app.account_nonce, market_check)
    t1 = time.perf_counter()
    batch = app.take_batch(count, 1 << 30)
    block = Block.build(chain_id="bench", height=1, view=0, timestamp_ms=1, parent_hash=genesis.hash,
                        proposer=validator.public_key, state_root=app.state_root(), txs=batch, last_cert=None)
    encoded = block.encode()
    t2 = time.perf_counter()
    received = Block.decode(encoded)
    received.check_contents()
    fresh = ChainApplication(store, Mempool(MempoolLimits(), "bench"), 65536)  # nothing pre-verified
    fresh.check_block(received)
    t3 = time.perf_counter()
    cert = Certificate.from_votes([Vote("bench", COMMIT, 1, 0, block.hash, validator.public_key).sign(validator)])
    executed = BlockExecutor(store, "bench").execute(received, cert)
    t4 = time.perf_counter()
    store.close()
    per = lambda a, b: round((b - a) / count * 1e6, 1)  # noqa: E731
    return {
        "mode": "stages", "txs": count, "kind": "transfer",
        "us_per_tx": {"admit (decode, verify, check)": per(t0, t1), "build block": per(t1, t2),
                      "validate received block (decode, contents, verify)": per(t2, t3),
                      "execute + commit (rules, LevelDB batch)": per(t3, t4)},
        "ok_receipts": sum(r.ok for r in executed.receipts),
        "verifications_per_s_per_core": round(machine.verifications_per_second(0.5)),
        "machine": machine.describe(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
