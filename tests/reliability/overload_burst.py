"""A measurement, not a test: burst 8,000 transfers into a local testnet and report what the client saw.

    .venv/bin/python tests/reliability/overload_burst.py /tmp/burst 4    # DIR, validators

The client sends tx_sendBatch chunks of 500 to validator-0 as fast as the node answers and, like the SDK,
sends again after the node's hint whatever was refused for a temporary reason (core/refusals.py; on code
without it nothing is ever refused). It prints accepted, refusals, the time until every tx committed and
the acknowledgement→commit latency (p50, p99) of the accepted txs: docs/RELIABILITY.md, issue 12.3.
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: waiting.py
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from harness import Testnet, wait_for

try:
    from marketnode.core.refusals import retry_after_s
except ImportError:  # the code before busy refusals existed

    def retry_after_s(code, data):  # type: ignore[no-untyped-def]
        return None

BURST = 8000
CHUNK = 500


def burst(directory: Path, validators: int) -> dict:
    net = Testnet(directory, validators=validators)
    try:
        net.start()
        names = [n for n in net.keys if not n.startswith("faucet")][:8]
        txs = [net.transfer(names[i % len(names)], names[(i + 1) % len(names)], 1, via="validator-0")
               for i in range(BURST)]
        acked: dict[str, float] = {}
        seen: dict[str, float] = {}
        stop = threading.Event()

        def watch_blocks() -> None:
            height = 0
            while not stop.is_set():
                top = net.height("validator-0")
                for b in range(height + 1, top + 1):
                    for tx_hash in net.call("validator-0", "chain_getBlock", height=b, full=False)["tx_hashes"]:
                        seen[tx_hash] = time.monotonic()
                height = top
                stop.wait(0.05)

        watcher = threading.Thread(target=watch_blocks)
        watcher.start()
        started = time.monotonic()
        refusals = 0
        for i in range(0, len(txs), CHUNK):
            todo = txs[i:i + CHUNK]
            while todo:
                answers = net.send_batch(todo, "validator-0")
                now = time.monotonic()
                retry, hint = [], 0.0
                for tx, answer in zip(todo, answers, strict=True):
                    if "error" not in answer:
                        acked[tx.hash.hex()] = now
                        continue
                    refusals += 1
                    wait = retry_after_s(answer["error"]["code"], answer["error"].get("data"))
                    if wait is not None:
                        retry.append(tx)
                        hint = max(hint, wait)
                todo = retry
                if todo:
                    time.sleep(hint)  # what the node asked for (retry_after_s): the client's pacing, not a test wait
        sent_s = time.monotonic() - started
        with contextlib.suppress(AssertionError):  # a measurement: what did not commit in 120 s is reported, not raised
            wait_for(lambda: all(h in seen for h in acked), 120, "every accepted tx to commit", interval_s=0.2)
        stop.set()
        watcher.join()
    finally:
        net.close()
    latencies = sorted((seen[h] - t) * 1000 for h, t in acked.items() if h in seen)
    pct = lambda q: round(latencies[min(len(latencies) - 1, int(q / 100 * len(latencies)))]) if latencies else None  # noqa: E731
    return {"validators": validators, "offered": len(txs), "sent_s": round(sent_s, 2), "accepted": len(acked),
            "refusals": refusals, "committed": len(latencies),
            "all_committed_s": round(max(seen.values(), default=started) - started, 2),
            "p50_ms": pct(50), "p99_ms": pct(99)}


if __name__ == "__main__":
    print(json.dumps(burst(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 4)))
