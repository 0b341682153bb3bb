"""The open-loop load generator: offer pre-signed txs at a steady rate, retry refusals after their hint.

A node that is over its limits refuses a tx with a JSON-RPC error and says
when to come back (``data.retry_after_ms``, or -32005 "limit exceeded":
rate limit, full mempool, per-sender cap). The bench behaves as a well-made
client: it counts each refusal, waits the hint and resends the same signed
tx to the same node (resending is always safe: same hash, same nonce), and
it sends each sender's txs in nonce order (``offer_open_loop``). So
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
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from marketnode.core.refusals import retry_after_s

if TYPE_CHECKING:  # the CLI imports SPREADS at start-up; aiohttp loads only when a bench runs
    from marketnode.tools.bench.cluster import Rpc

TICK_S = 0.05
MAX_CHUNK = 500  # txs per tx_sendBatch call: well under the RPC body limit (1 MiB) and the method's 5,000
MAX_PER_SENDER = 64  # one sender's txs in one request (the rest follow once these are acknowledged)
SPREADS = ("nonces", "senders")


def retry_after_ms(error: dict[str, Any]) -> float | None:
    """How long to wait before resending a tx this error refused; None when resending cannot help.

    The rule is core/refusals.py's, the one the wallet SDK follows too.
    """
    wait_s = retry_after_s(error.get("code"), error.get("data"))
    return None if wait_s is None else wait_s * 1000


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
    waiting_retry: int = 0  # offered txs not acknowledged when the run ended (refused, or queued behind one)

    def fields(self) -> dict[str, Any]:
        example = next(iter(self.rejected.values()), None)
        return {"submitted": len(self.first_sent), "accepted": len(self.acked), "refused": self.refused,
                "refused_by_code": dict(sorted(self.refused_codes.items())), "rejected": len(self.rejected),
                **({"rejected_example": example} if example else {}), "never_accepted": self.waiting_retry}


async def offer_open_loop(rpc: Rpc, urls: Sequence[str], raws: Sequence[bytes], hashes: Sequence[str],
                          senders: Sequence[bytes], spread: str, rate: float, deadline: float) -> Offered:
    """Offer ``rate`` tx/s in TICK_S chunks, spread over ``urls`` (see ``route``); resend refusals after their hint.

    Each sender's txs go out in nonce order, as a well-made wallet sends
    them: a tx is sent in the same request as its sender's earlier ones, or
    once those were acknowledged. While a sender's tx waits out a refusal,
    its later txs wait with it, client side, and go with it when it is
    resent (to the node that refused it). A node acknowledges no tx behind a
    nonce gap (``nonce_gap``), so sending them anyway would only buy
    refusals: an earlier version of this loop spent a million refusals per
    run on them, and the CPU they cost (on the nodes and here) was the
    overload. The offered schedule is still open loop: a tick's txs join
    their senders' queues on time, whatever the nodes answer.

    Returns once every tx was accepted or rejected, or at ``deadline`` (monotonic s).
    """
    per_tick = max(1, round(rate * TICK_S))
    targets = route(senders, len(urls), per_tick, spread)
    ticks = math.ceil(len(raws) / per_tick)
    out = Offered()
    queued: dict[bytes, deque[int]] = {}  # sender -> its offered txs not yet acknowledged or sent, nonce order
    waiting: set[bytes] = set()  # senders with a request in flight or a refusal being waited out
    retries: list[tuple[float, int, bytes]] = []  # (due, tie-break, sender)
    inflight: set[asyncio.Task] = set()
    pushes = 0

    def dispatch(ready: list[bytes]) -> None:
        """Send every queued tx of these senders (none of them waiting): one request per node and chunk."""
        by_node: dict[int, list[list[int]]] = {}  # node -> the runs of txs (one per sender) it gets
        for sender in ready:
            queue = queued[sender]
            if not queue:
                continue
            take = [queue.popleft() for _ in range(min(len(queue), MAX_PER_SENDER))]
            waiting.add(sender)
            by_node.setdefault(targets[take[0]], []).append(take)  # the whole run goes where its head goes
        for node, runs in by_node.items():
            chunk: list[int] = []
            for run in runs:  # a sender's run never splits over two concurrent requests
                if chunk and len(chunk) + len(run) > MAX_CHUNK:
                    inflight.add(asyncio.create_task(send(node, chunk)))
                    chunk = []
                chunk += run
            if chunk:
                inflight.add(asyncio.create_task(send(node, chunk)))

    async def send(node: int, indices: list[int]) -> None:
        nonlocal pushes
        sent_at = time.monotonic()
        reply = await rpc.post(urls[node], "tx_sendBatch", txs=[raws[i].hex() for i in indices])
        acked_at = time.monotonic()
        held_back: dict[bytes, list[int]] = {}  # sender -> its txs of this request to resend, in order
        hints: dict[bytes, float] = {}
        for i, error in zip(indices, tx_errors(reply, len(indices))):
            sender = senders[i]
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
            held_back.setdefault(sender, []).append(i)  # a later nonce goes back with the first refused one
            hints.setdefault(sender, hint)
        done = {senders[i] for i in indices} - held_back.keys()
        for sender, run in held_back.items():
            queued[sender].extendleft(reversed(run))
            pushes += 1
            heapq.heappush(retries, (acked_at + hints[sender] / 1000, pushes, sender))
        waiting.difference_update(done)
        dispatch([s for s in done if queued[s]])

    started = time.monotonic()
    tick = 0
    while tick < ticks or retries or inflight or any(queued.values()):
        now = time.monotonic()
        if now > deadline:
            break
        ready: list[bytes] = []
        if tick < ticks and now >= started + tick * TICK_S:
            for i in range(tick * per_tick, min(len(raws), (tick + 1) * per_tick)):
                out.first_sent[hashes[i]] = now
                queued.setdefault(senders[i], deque()).append(i)
                if senders[i] not in waiting:
                    ready.append(senders[i])
            tick += 1
        while retries and retries[0][0] <= now:
            sender = heapq.heappop(retries)[2]
            waiting.discard(sender)
            ready.append(sender)
        dispatch(list(dict.fromkeys(ready)))
        wake = min([now + TICK_S] + ([started + tick * TICK_S] if tick < ticks else [])
                   + ([retries[0][0]] if retries else []))
        await asyncio.sleep(max(0.0, wake - time.monotonic()))
        for task in [t for t in inflight if t.done()]:
            inflight.discard(task)
            task.result()  # a transport failure ends the run with its own error
    for task in list(inflight):
        task.cancel()
    out.waiting_retry = sum(len(run) for run in queued.values())
    return out
