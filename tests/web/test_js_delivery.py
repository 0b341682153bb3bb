"""The web wallet's delivery (node/web/static/delivery.js) follows wallet/delivery.py's rules: wait out a
busy node with its hint, resend a tx the node lost, stop at a receipt or a definite refusal (Node.js)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from marketnode.core.hashing import digest
from marketnode.node.web import STATIC_DIR

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

# A scripted node: `script` lists the answers to successive tx_send calls ("busy", "commit", "lost",
# "reject", "duplicate"); tx_get answers from what it holds. Time is fake and passes only in sleep().
SCRIPT = """
const { deliver, retryAfterMs } = await import(process.argv[1] + "/delivery.js");
const { txHash } = await import(process.argv[1] + "/wallet.js");
const err = (code, message, data) => Object.assign(new Error(message), { code, data });
async function run(script, totalMs) {
  let t = 0, committed = false, held = false;
  const calls = [], slept = [], notices = [];
  const rpc = async (method, params) => {
    calls.push(method);
    if (method === "tx_get") return { hash: params.hash, status: committed ? "committed" : held ? "pending" : "unknown" };
    const step = script.shift() ?? "commit";
    if (step === "busy") throw err(-32005, "node busy", { code: "busy", retry_after_ms: 300 });
    if (step === "reject") throw err(-32003, "insufficient funds", { code: "insufficient_funds" });
    if (step === "duplicate") { committed = true; throw err(-32003, "duplicate", { code: "duplicate" }); }
    if (step === "lost") return { hash: "h", status: "pending", timed_out: true };  // and then forgotten
    committed = true;
    return { hash: "h", status: "committed" };
  };
  try {
    const result = await deliver(rpc, "00", "h", { totalMs, pollMs: 100, now: () => t,
      sleep: async (ms) => { slept.push(ms); t += ms; }, notice: (text) => notices.push(text) });
    return { result, calls, slept, notices };
  } catch (e) {
    return { error: e.data?.code ?? e.message, calls, slept };
  }
}
const out = {
  busyThenCommit: await run(["busy", "busy", "commit"], 60000),
  lostThenResent: await run(["lost", "commit"], 60000),
  rejected: await run(["reject"], 60000),
  busyPastDeadline: await run(Array(100).fill("busy"), 1000),
  duplicate: await run(["duplicate"], 60000),
  hints: [retryAfterMs(err(-32005, "x", { code: "rate", retry_after_ms: 40 })),
          retryAfterMs(err(-32005, "body too large", { max: 1 })), retryAfterMs(err(-32003, "x", {}))],
  hash: await txHash(new Uint8Array([1, 2, 3])),
};
console.log(JSON.stringify(out));
"""


def test_web_delivery_retries_what_is_temporary_and_stops_at_what_is_final() -> None:
    done = subprocess.run(["node", "--input-type=module", "-e", SCRIPT, STATIC_DIR.as_uri()],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    busy = out["busyThenCommit"]
    assert busy["result"]["status"] == "committed" and busy["slept"] == [300, 300] and len(busy["notices"]) == 2
    assert busy["calls"].count("tx_send") == 3
    lost = out["lostThenResent"]
    assert lost["result"]["status"] == "committed" and lost["calls"] == ["tx_send", "tx_get", "tx_send"]
    assert out["rejected"] == {"error": "insufficient_funds", "calls": ["tx_send"], "slept": []}
    past = out["busyPastDeadline"]
    assert past["error"] == "busy" and sum(past["slept"]) < 1000
    assert out["duplicate"]["result"]["status"] == "committed"
    assert out["hints"] == [40, None, None]
    assert out["hash"] == digest("tx", bytes([1, 2, 3])).hex()  # the same hash the node gives the tx
