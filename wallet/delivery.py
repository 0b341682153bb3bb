"""Getting signed txs committed through a node: wait out "busy" and rate limits with the node's own hint,
and resend the same signed tx until it has a receipt or a definite refusal, within a bounded total time.

An acknowledgement (``status: pending``) is not a receipt: the node may be
killed or restarted before the tx spreads (docs/RPC.md, tx_send). Resending
the very same signed tx is always safe — same hash, same nonce — so these
helpers do it whenever the node no longer knows the tx. What is retried and
what is final:

    -32005 busy, rate, full, sender_cap (data.retry_after_ms)   wait the hint, send again
    -32003 duplicate                                            the node has it: wait for the receipt
    -32003 stale_nonce                                          ours committed (return it) or the nonce
                                                                went to another tx (definite refusal)
    tx_get "unknown" after an acknowledgement                   lost (a crash): send again
    node unreachable after an acknowledgement                   restarting: keep trying until the deadline
    anything else                                               definite refusal: raised as RpcError
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from marketnode.core import refusals
from marketnode.core.errors import RpcError
from marketnode.wallet.client import Call, NodeUnreachableError, result_object

FINAL = ("committed", "failed")
STATUS_BATCH = 200  # tx_get calls per JSON-RPC batch (well under a node's rpc.max_batch)


class Client(Protocol):
    """What delivery needs of a JSON-RPC client (wallet.client.RpcClient)."""

    def call(self, method: str, /, **params: Any) -> Any: ...

    def batch(self, calls: Sequence[Call]) -> list[Any]: ...


@dataclass(frozen=True)
class DeliveryPolicy:
    """How long to keep at it: ``total_s`` in all, each ``tx_send`` wait at most ``wait_per_call_s``."""

    total_s: float = 60.0
    wait_per_call_s: int = 25
    poll_s: float = 0.25
    max_hint_s: float = 10.0


Notice = Callable[[str], None]
"""Told, in words, each time delivery waits for a busy node (the CLI prints it on stderr)."""


def retry_after_s(exc: RpcError) -> float | None:
    """The wait a temporary refusal asks for, in seconds; None when the refusal is definite (core/refusals.py)."""
    return refusals.retry_after_s(exc.code, exc.data)


def reason(exc: RpcError) -> str | None:
    """The machine-readable reason a node attached to a refusal (``data.code``)."""
    return exc.data.get("code") if isinstance(exc.data, dict) else None


class _Clock:
    def __init__(self, policy: DeliveryPolicy, sleep: Callable[[float], None], now: Callable[[], float]) -> None:
        self.policy, self.sleep, self.now = policy, sleep, now
        self.deadline = now() + policy.total_s

    def left(self) -> float:
        return self.deadline - self.now()

    def pause(self, seconds: float) -> bool:
        """Sleep ``seconds`` (capped); False when that would pass the deadline."""
        seconds = min(seconds, self.policy.max_hint_s)
        if self.left() <= seconds:
            return False
        self.sleep(seconds)
        return True


def deliver(client: Client, raw_hex: str, tx_hash: str, *, wait_commit: bool = True,
            policy: DeliveryPolicy = DeliveryPolicy(), notice: Notice | None = None,
            sleep: Callable[[float], None] = time.sleep, now: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """Send one signed tx until it is committed (or, with ``wait_commit=False``, acknowledged).

    Returns the node's status object: ``committed``/``failed`` with the
    receipt, or — only when ``total_s`` ran out, or without ``wait_commit`` —
    ``pending``. Raises RpcError for a definite refusal (or a temporary one
    that outlasted the deadline) and NodeUnreachableError if the node never answered.
    """
    clock = _Clock(policy, sleep, now)
    acknowledged = False
    while True:
        wait_s = max(1, min(policy.wait_per_call_s, int(clock.left())))
        try:
            status = result_object(client.call("tx_send", tx=raw_hex, wait="commit" if wait_commit else "none",
                                               timeout_s=wait_s), "tx_send")
        except RpcError as exc:
            hint = retry_after_s(exc)
            if hint is not None:
                if notice is not None:
                    notice(f"node busy ({reason(exc) or 'limit'}); sending again in {hint:.1f} s")
                if not clock.pause(hint):
                    raise
                continue
            if reason(exc) not in ("duplicate", "stale_nonce"):
                raise
            status = result_object(client.call("tx_get", hash=tx_hash, proof=False), "tx_get")
            if status["status"] not in FINAL and reason(exc) == "stale_nonce":
                raise  # the nonce went to another tx
        except NodeUnreachableError:
            if not acknowledged or not clock.pause(policy.poll_s * 4):
                raise
            continue
        acknowledged = True
        if status["status"] in FINAL or not wait_commit:
            return status
        status = _await_receipt(client, tx_hash, clock)
        if status["status"] != "unknown":
            return status
        # The node no longer knows the tx (restarted without it): send it again.


def _await_receipt(client: Client, tx_hash: str, clock: _Clock) -> dict[str, Any]:
    """Poll tx_get until the tx is final, unknown, or the deadline passes (then its last pending status)."""
    status: dict[str, Any] = {"hash": tx_hash, "status": "pending"}
    while True:
        try:
            status = client.call("tx_get", hash=tx_hash, proof=False)
        except NodeUnreachableError:
            status = {"hash": tx_hash, "status": "pending"}
        if status["status"] in FINAL or status["status"] == "unknown":
            return status
        if not clock.pause(clock.policy.poll_s):
            return {**status, "timed_out": True}


def send_batch(client: Client, raws_hex: Sequence[str], *, policy: DeliveryPolicy = DeliveryPolicy(),
               notice: Notice | None = None, sleep: Callable[[float], None] = time.sleep,
               now: Callable[[], float] = time.monotonic) -> list[Any]:
    """``tx_sendBatch`` that waits out busy and rate-limit refusals: entries refused for a temporary
    reason are sent again, in order, after the hint of the first of them, until ``total_s``. (A node
    hands busy comeback slots out in order, and a later nonce refused behind an earlier one is told to
    come just after it: waiting for the largest hint would leave the first slots unused.) Returns one entry per tx:
    ``{hash, status, durable}`` or the RpcError of a definite (or outlasting) refusal."""
    clock = _Clock(policy, sleep, now)
    results: list[Any] = [None] * len(raws_hex)
    todo = list(range(len(raws_hex)))
    while todo:
        hint: float | None = None
        try:
            answers = client.call("tx_sendBatch", txs=[raws_hex[i] for i in todo])
        except RpcError as exc:  # the whole call refused (rate limit): every entry waits
            hint = retry_after_s(exc)
            if hint is None:
                raise
            answers = [{"error": {"code": exc.code, "message": exc.message, "data": exc.data}}] * len(todo)
        retry: list[int] = []
        for index, answer in zip(todo, answers, strict=True):
            if "error" not in answer:
                results[index] = answer
                continue
            error = answer["error"]
            refusal = RpcError(error.get("code", -32603), error.get("message", "error"), error.get("data"))
            results[index] = refusal
            wait = retry_after_s(refusal)
            if wait is not None:
                retry.append(index)
                if hint is None:  # the first refused entry's: the node hands comeback slots out in order
                    hint = wait
        if not retry or hint is None:
            break
        if notice is not None:
            notice(f"node busy: {len(retry)} of {len(raws_hex)} txs to send again in {hint:.1f} s")
        if not clock.pause(hint):
            break
        todo = retry
    return results


def await_receipts(client: Client, raws_hex: Sequence[str], hashes: Sequence[str], *,
                   policy: DeliveryPolicy = DeliveryPolicy(), notice: Notice | None = None,
                   sleep: Callable[[float], None] = time.sleep,
                   now: Callable[[], float] = time.monotonic) -> dict[str, dict[str, Any]]:
    """Poll until every tx has a receipt, sending again (``send_batch``) any the node no longer knows.
    Returns hash → the last status seen (``pending`` for those still open at the deadline)."""
    clock = _Clock(policy, sleep, now)
    last: dict[str, dict[str, Any]] = {h: {"hash": h, "status": "pending"} for h in hashes}
    raw_of = dict(zip(hashes, raws_hex, strict=True))
    open_ = list(hashes)
    while open_:
        try:
            answers = _statuses(client, open_)
        except RpcError as exc:  # the whole batch refused (rate limit): wait its hint
            hint = retry_after_s(exc)
            if hint is None:
                raise
            if not clock.pause(hint):
                break
            continue
        unknown: list[str] = []
        still: list[str] = []
        for tx_hash, answer in zip(open_, answers, strict=True):
            if isinstance(answer, RpcError):
                still.append(tx_hash)
                continue
            last[tx_hash] = answer
            if answer["status"] == "unknown":
                unknown.append(tx_hash)
            elif answer["status"] not in FINAL:
                still.append(tx_hash)
        if unknown:  # one attempt each round: a busy answer just waits for the next round
            send_batch(client, [raw_of[h] for h in unknown], policy=DeliveryPolicy(total_s=0), notice=notice,
                       sleep=sleep, now=now)
        open_ = still + unknown
        if open_ and not clock.pause(policy.poll_s):
            break
    return last


def _statuses(client: Client, hashes: Sequence[str]) -> list[Any]:
    answers: list[Any] = []
    for i in range(0, len(hashes), STATUS_BATCH):
        answers += client.batch([("tx_get", {"hash": h, "proof": False}) for h in hashes[i:i + STATUS_BATCH]])
    return answers
