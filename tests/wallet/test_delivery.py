"""wallet/delivery.py against a scripted client and a fake clock: what is retried, what is final, and that
every tx ends with one receipt however often the node says busy or forgets it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from marketnode.core.errors import RpcError
from marketnode.wallet.client import NodeUnreachableError
from marketnode.wallet.delivery import DeliveryPolicy, await_receipts, deliver, retry_after_s, send_batch


class Clock:
    """Fake time; while it passes, the node (if given) commits a block."""

    def __init__(self, node: Node | None = None) -> None:
        self.t = 0.0
        self.slept: list[float] = []
        self.node = node

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds
        if self.node is not None:
            self.node.commit_block()


def busy(ms: int) -> RpcError:
    return RpcError(-32005, f"node busy; retry in {ms} ms", {"code": "busy", "retry_after_ms": ms})


class Node:
    """A pool of ``room`` txs, busy beyond it, that commits everything it holds when time passes."""

    def __init__(self, room: int = 10**9) -> None:
        self.room = room
        self.pool: set[str] = set()
        self.committed: dict[str, int] = {}
        self.calls: list[str] = []
        self.lose_next_ack = False
        self.script: list[Any] = []  # exceptions to raise on the next tx_send calls

    def call(self, method: str, /, **params: Any) -> Any:
        self.calls.append(method)
        if method == "tx_send":
            if self.script:
                raise self.script.pop(0)
            return self._admit(params["tx"])
        if method == "tx_sendBatch":
            out: list[Any] = []
            for raw in params["txs"]:
                try:
                    out.append(self._admit(raw))
                except RpcError as exc:
                    out.append({"error": {"code": exc.code, "message": exc.message, "data": exc.data}})
            return out
        if method == "tx_get":
            return self._status(params["hash"])
        raise AssertionError(method)

    def batch(self, calls: Sequence[tuple[str, dict[str, Any]]]) -> list[Any]:
        return [self._status(params["hash"]) for _, params in calls]

    def commit_block(self) -> None:
        for h in list(self.pool):
            self.committed[h] = self.committed.get(h, 0) + 1
        self.pool.clear()

    def _admit(self, raw: str) -> dict[str, Any]:
        if raw in self.committed or raw in self.pool:
            raise RpcError(-32003, "duplicate", {"code": "duplicate"})
        if len(self.pool) >= self.room:
            raise busy(200)
        if self.lose_next_ack:
            self.lose_next_ack = False
            return {"hash": raw, "status": "pending", "durable": False}  # acknowledged, then lost in a crash
        self.pool.add(raw)
        return {"hash": raw, "status": "pending", "durable": True}

    def _status(self, tx_hash: str) -> dict[str, Any]:
        if tx_hash in self.committed:
            return {"hash": tx_hash, "status": "committed"}
        return {"hash": tx_hash, "status": "pending" if tx_hash in self.pool else "unknown"}


def test_only_temporary_limit_refusals_carry_a_retry() -> None:
    assert retry_after_s(busy(250)) == 0.25
    assert retry_after_s(RpcError(-32005, "rate", {"code": "rate", "retry_after_ms": 40})) == 0.04
    assert retry_after_s(RpcError(-32005, "full", {"code": "full"})) == 0.5  # no hint: the default
    assert retry_after_s(RpcError(-32005, "request body over 1 MB", {"max": 1})) is None  # resending cannot help
    assert retry_after_s(RpcError(-32003, "bad nonce", {"code": "stale_nonce"})) is None


def test_a_batch_told_busy_is_resent_in_order_until_every_tx_has_one_receipt() -> None:
    node = Node(room=3)
    clock = Clock(node)
    raws = [f"tx{i}" for i in range(10)]
    policy = DeliveryPolicy(total_s=60, poll_s=0.1)
    results = send_batch(node, raws, policy=policy, sleep=clock.sleep, now=clock.now)
    assert all(r["status"] == "pending" for r in results)
    assert node.calls.count("tx_sendBatch") == 4 and clock.slept == [0.2] * 3  # 3 admitted per block
    final = await_receipts(node, raws, raws, policy=policy, sleep=clock.sleep, now=clock.now)
    assert all(s["status"] == "committed" for s in final.values())
    assert node.committed == {raw: 1 for raw in raws}  # each exactly once


def test_waiting_for_receipts_resends_what_the_node_forgot() -> None:
    node = Node()
    clock = Clock(node)
    final = await_receipts(node, ["a", "b"], ["a", "b"], sleep=clock.sleep, now=clock.now)  # never sent
    assert {h: s["status"] for h, s in final.items()} == {"a": "committed", "b": "committed"}
    assert node.committed == {"a": 1, "b": 1}


def test_a_batch_still_refused_at_the_deadline_returns_the_refusals() -> None:
    node, clock = Node(room=0), Clock()
    results = send_batch(node, ["a", "b"], policy=DeliveryPolicy(total_s=1), sleep=clock.sleep, now=clock.now)
    assert all(isinstance(r, RpcError) and r.data["code"] == "busy" for r in results)
    assert clock.t < 1


def test_a_whole_batch_refused_by_the_rate_limit_waits_the_hint() -> None:
    node, clock = Node(), Clock()
    calls = {"n": 0}
    real = node.call

    def limited(method: str, /, **params: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RpcError(-32005, "too many requests", {"code": "rate", "retry_after_ms": 300})
        return real(method, **params)

    node.call = limited  # type: ignore[method-assign]
    results = send_batch(node, ["a"], sleep=clock.sleep, now=clock.now)
    assert results[0]["status"] == "pending" and clock.slept == [0.3]


def test_a_lost_acknowledgement_is_detected_by_tx_get_and_the_tx_sent_again() -> None:
    node = Node()
    clock = Clock(node)
    node.lose_next_ack = True
    status = deliver(node, "t", "t", wait_commit=True, policy=DeliveryPolicy(poll_s=0.1), sleep=clock.sleep,
                     now=clock.now)
    assert status["status"] == "committed" and node.committed == {"t": 1}
    assert node.calls.count("tx_send") == 2  # unknown after the first ack: resent


def test_a_stale_nonce_whose_tx_committed_returns_the_receipt_not_an_error() -> None:
    node, clock = Node(), Clock()
    node.committed["t"] = 1
    node.script = [RpcError(-32003, "nonce used", {"code": "stale_nonce"})]
    assert deliver(node, "t", "t", sleep=clock.sleep, now=clock.now)["status"] == "committed"


def test_a_stale_nonce_taken_by_another_tx_is_a_definite_refusal() -> None:
    node, clock = Node(), Clock()
    node.script = [RpcError(-32003, "nonce used", {"code": "stale_nonce"})]
    with pytest.raises(RpcError, match="nonce used"):
        deliver(node, "t", "t", sleep=clock.sleep, now=clock.now)


def test_a_rule_refusal_is_raised_at_once() -> None:
    node, clock = Node(), Clock()
    node.script = [RpcError(-32003, "insufficient funds", {"code": "insufficient_funds"})]
    with pytest.raises(RpcError, match="insufficient"):
        deliver(node, "t", "t", sleep=clock.sleep, now=clock.now)
    assert node.calls == ["tx_send"] and clock.slept == []


def test_an_unreachable_node_is_reported_at_once_before_any_acknowledgement() -> None:
    node, clock = Node(), Clock()
    node.script = [NodeUnreachableError("cannot reach")]
    with pytest.raises(NodeUnreachableError):
        deliver(node, "t", "t", sleep=clock.sleep, now=clock.now)


def test_busy_then_admitted_waits_each_hint_and_stops_at_the_deadline() -> None:
    node, clock = Node(), Clock()
    node.script = [busy(400), busy(400)]
    status = deliver(node, "t", "t", wait_commit=False, sleep=clock.sleep, now=clock.now)
    assert status["status"] == "pending" and clock.slept == [0.4, 0.4]
    node2, clock2 = Node(), Clock()
    node2.script = [busy(400)] * 100
    with pytest.raises(RpcError, match="busy"):
        deliver(node2, "t", "t", policy=DeliveryPolicy(total_s=2), sleep=clock2.sleep, now=clock2.now)
    assert clock2.t <= 2
