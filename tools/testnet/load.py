"""`marketnode testnet load`: signed transfers between demo accounts, spread over the nodes.

Txs are signed before the clock starts, sent in JSON-RPC batches round-robin
over every node, then followed to their receipts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from marketnode.core.errors import ConfigError
from marketnode.core.keys import PrivateKey, address_from_pubkey
from marketnode.core.types import Tx
from marketnode.tools.testnet import procs as procs

BATCH = 200


def call(url: str, method: str, **params: Any) -> Any:
    try:
        return procs.rpc_call(url, method, params, timeout_s=30.0)
    except OSError as exc:
        raise ConfigError(f"{method} at {url}: {exc}") from None


def demo_keys(directory: Path) -> dict[str, PrivateKey]:
    manifest = procs.read_manifest(directory)
    return {name: PrivateKey.load(Path(directory) / rel) for name, rel in manifest["accounts"].items()}


def sign_transfers(keys: list[PrivateKey], chain_id: str, nonces: dict[bytes, int], count: int) -> list[Tx]:
    txs = []
    for i in range(count):
        sender = keys[i % len(keys)]
        receiver = keys[(i + 1) % len(keys)]
        nonce = nonces[sender.public_key]
        nonces[sender.public_key] = nonce + 1
        body = {"amount": 1, "asset": "MKT", "to": receiver.public_key}
        txs.append(Tx(chain_id, sender.public_key, nonce, "transfer", body, 0).sign(sender))
    return txs


SendBatch = Callable[[str, list[str]], list[Any]]
"""(node url, signed txs as hex) → one answer per tx: ``{hash, status}``, or an error (a dict with
``error`` or an exception instance). The CLI passes wallet/delivery.py's, which waits out busy nodes."""


def _send_once(url: str, raws: list[str]) -> list[Any]:
    return call(url, "tx_sendBatch", txs=raws)


def run_load(directory: Path, count: int, timeout_s: float, echo: Callable[[str], None] = print,
             send_batch: SendBatch = _send_once) -> dict[str, Any]:
    entries = procs.nodes_of(directory)
    urls = [procs.rpc_url(e.config()) for e in entries]
    chain_id = call(urls[0], "node_status")["chain_id"]
    keys = list(demo_keys(directory).values())
    nonces = {k.public_key: call(urls[0], "account_get", address=address_from_pubkey(k.public_key))["nonce"]
              for k in keys}
    echo(f"signing {count} transfers from {len(keys)} accounts ...")
    txs = sign_transfers(keys, chain_id, nonces, count)
    started = time.monotonic()
    rejected = 0
    for i in range(0, len(txs), BATCH):
        chunk = txs[i:i + BATCH]
        url = urls[(i // BATCH) % len(urls)]
        results = send_batch(url, [tx.encode().hex() for tx in chunk])
        rejected += sum(1 for r in results if not isinstance(r, dict) or "error" in r)
    sent_s = time.monotonic() - started
    echo(f"sent {count} txs in {sent_s:.2f} s ({rejected} rejected); waiting for receipts ...")
    pending = {tx.hash.hex() for tx in txs}
    committed = failed = 0
    deadline = time.monotonic() + timeout_s
    last_echo = 0.0
    while pending and time.monotonic() < deadline:
        batch = list(pending)[:500]
        reply = procs.post_json(urls[0], [{"jsonrpc": "2.0", "id": i, "method": "tx_get",
                                           "params": {"hash": h, "proof": False}} for i, h in enumerate(batch)], 30.0)
        for item in reply:
            result = item.get("result") or {}
            if result.get("status") in ("committed", "failed"):
                pending.discard(result["hash"])
                committed += result["status"] == "committed"
                failed += result["status"] == "failed"
        now = time.monotonic()
        if now - last_echo > 1.0:
            last_echo = now
            echo(f"  {committed + failed}/{count} with receipts")
        if pending:
            time.sleep(0.2)
    elapsed = time.monotonic() - started
    height = call(urls[0], "node_status")["height"]
    return {"sent": count, "rejected": rejected, "committed": committed, "failed": failed,
            "missing": len(pending), "seconds": round(elapsed, 3),
            "tx_per_s": round((committed + failed) / elapsed, 1) if elapsed else None, "height": height}
