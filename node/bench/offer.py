"""The open-loop load generator: offer pre-signed txs at a steady rate, retry refusals after their hint.

A node that is over its limits refuses a tx with a JSON-RPC error and says
when to come back (``data.retry_after_ms``, or -32005 "limit exceeded":
rate limit, full mempool, per-sender cap). The bench behaves as a well-made
client: it counts each refusal, waits the hint and resends the same signed
tx to the same node (resending is always safe: same hash, same nonce). So
``accepted`` txs are the ones a node acknowledged, goodput is the commit
rate of those, and overload shows as refusals rather than as acknowledged
txs that wait minutes. Any other error (a marketplace rule, a bad encoding)
is final: it is counted as ``rejected`` and never resent.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from node.rpc.errors import LIMIT_EXCEEDED

if TYPE_CHECKING:  # the CLI imports SPREADS at start-up; aiohttp loads only when a bench runs
    from node.bench.cluster import Rpc

DEFAULT_RETRY_MS = 200.0  # a -32005 refusal without a hint
TICK_S = 0.05
MAX_CHUNK = 500  # txs per tx_sendBatch call: well under the RPC body limit (1 MiB) and the method's 5,000
SPREADS = ("nonces", "senders")


def retry_after_ms(error: dict[str, Any]) -> float | None:
    """How long to wait before resending a tx this error refused; None when resending cannot help."""
    data = error.get("data")
    data = data if isinstance(data, dict) else {}
    for key, scale in (("retry_after_ms", 1), ("retry_after_s", 1000)):
        hint = data.get(key)
        if isinstance(hint, (int, float)) and not isinstance(hint, bool) and math.isfinite(hint):
            return max(0.0, float(hint) * scale)
    if error.get("code") == LIMIT_EXCEEDED:
        return DEFAULT_RETRY_MS
    return None


def tx_errors(reply: dict[str, Any], count: int) -> list[dict[str, Any] | None]:
    """Per tx of a tx_sendBatch call: its error, or None if the node holds it (a refused request refuses all).

    "duplicate" counts as held: every bench tx is unique, so the node has it
    from an earlier attempt (one that timed out after admitting it) or from gossip.
    """
    if "error" in reply:
        return [reply["error"]] * count
    return [None if _held(result.get("error")) else result.get("error") for result in reply["result"]]


def _held(error: dict[str, Any] | None) -> bool:
    data = error.get("data") if error else None
    return error is None or (isinstance(data, dict) and data.get("code") == "duplicate")


def route(senders: Sequence[bytes], nodes: int, per_tick: int, spread: str) -> list[int]:
    """The node index each tx goes to.

    ``nonces``: each tick's chunk goes to the next node in turn, so a
    sender's consecutive nonces land on different nodes (the realistic case:
    a wallet talks to whichever node answers; nodes must gossip the gaps
    closed). ``senders``: every tx of a sender goes to one node, in nonce
    order, so no node ever holds a nonce gap it did not cause itself.
    """
    if spread == "nonces":
        return [(i // per_tick) % nodes for i in range(len(senders))]
    if spread == "senders":
        order: dict[bytes, int] = {}
        return [order.setdefault(s, len(order)) % nodes for s in senders]
    raise ValueError(f"spread is one of {', '.join(SPREADS)}, not {spread!r}")


@dataclass
class Offered:
    """What the load generator saw: per-tx times by hash, and counts of refusals."""

    first_sent: dict[str, float] = field(default_factory=dict)  # monotonic s of the first offer
    sent: dict[str, float] = field(default_factory=dict)  # monotonic s of the attempt that was accepted
    acked: dict[str, float] = field(default_factory=dict)  # monotonic s the acknowledgement arrived
    refused: int = 0  # refusal answers (a tx refused twice counts twice)
    refused_codes: Counter = field(default_factory=Counter)
    rejected: dict[str, str] = field(default_factory=dict)  # hash -> final error message
    waiting_retry: int = 0  # refused txs still waiting to be resent when the run ended

    def fields(self) -> dict[str, Any]:
        example = next(iter(self.rejected.values()), None)
        return {"submitted": len(self.first_sent), "accepted": len(self.acked), "refused": self.refused,
                "refused_by_code": dict(sorted(self.refused_codes.items())), "rejected": len(self.rejected),
                **({"rejected_example": example} if example else {}), "never_accepted": self.waiting_retry}


async def offer_open_loop(rpc: Rpc, urls: Sequence[str], raws: Sequence[bytes], hashes: Sequence[str],
                          senders: Sequence[bytes], spread: str, rate: float, deadline: float) -> Offered:
    """Send ``rate`` tx/s in TICK_S chunks, spread over ``urls`` (see ``route``); resend refusals after their hint.

    Returns once every tx was accepted or rejected, or at ``deadline`` (monotonic s).
    """
    per_tick = max(1, round(rate * TICK_S))
    targets = route(senders, len(urls), per_tick, spread)
    ticks = math.ceil(len(raws) / per_tick)
    out = Offered()
    retries: list[tuple[float, int]] = []  # (due, index)
    inflight: set[asyncio.Task] = set()

    async def send(url: str, indices: list[int]) -> None:
        sent_at = time.monotonic()
        reply = await rpc.post(url, "tx_sendBatch", txs=[raws[i].hex() for i in indices])
        acked_at = time.monotonic()
        for i, error in zip(indices, tx_errors(reply, len(indices))):
            if error is None:
                out.sent[hashes[i]] = sent_at
                out.acked[hashes[i]] = acked_at
                continue
            hint = retry_after_ms(error)
            if hint is None:
                out.rejected[hashes[i]] = str(error.get("message"))
                continue
            out.refused += 1
            code = (error.get("data") or {}).get("code") if isinstance(error.get("data"), dict) else None
            out.refused_codes[f"{error.get('code')}{f' {code}' if code else ''}"] += 1
            heapq.heappush(retries, (time.monotonic() + hint / 1000, i))

    started = time.monotonic()
    tick = 0
    while tick < ticks or retries or inflight:
        now = time.monotonic()
        if now > deadline:
            break
        due: list[int] = []
        if tick < ticks and now >= started + tick * TICK_S:
            due.extend(range(tick * per_tick, min(len(raws), (tick + 1) * per_tick)))
            for i in due:
                out.first_sent[hashes[i]] = now
            tick += 1
        while retries and retries[0][0] <= now:
            due.append(heapq.heappop(retries)[1])
        by_node: dict[int, list[int]] = {}
        for i in due:
            by_node.setdefault(targets[i], []).append(i)
        for node, indices in by_node.items():
            for c in range(0, len(indices), MAX_CHUNK):
                inflight.add(asyncio.create_task(send(urls[node], indices[c:c + MAX_CHUNK])))
        wake = min([now + TICK_S] + ([started + tick * TICK_S] if tick < ticks else [])
                   + ([retries[0][0]] if retries else []))
        await asyncio.sleep(max(0.0, wake - time.monotonic()))
        for task in [t for t in inflight if t.done()]:
            inflight.discard(task)
            task.result()  # a transport failure ends the run with its own error
    for task in list(inflight):
        task.cancel()
    out.waiting_retry = len(retries)
    return out
