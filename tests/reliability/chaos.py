"""The pieces of the chaos test: a proxied testnet, a load generator, a fault injector and the checker.

Modelled on CometBFT's e2e runner and Jepsen: clients record what they sent
and what the network acknowledged; faults hit at most f=1 validator at a
time; at the end a checker compares every node's chain with that history.
Every wait is on a condition with a deadline.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import RpcFailure, Testnet, wait_for
from proxy import LinkProxy, route_through

from marketnode.core.keys import PrivateKey, address_from_pubkey
from marketnode.core.types import Tx

LOST_WINDOW_S = 3.0
RPC_ERRORS = (OSError, urllib.error.URLError, TimeoutError, ValueError, RpcFailure)


def chaos_seconds(slow: bool, short_s: float = 60.0, long_s: float = 600.0) -> float:
    """Run length: MARKETNODE_CHAOS_SECONDS wins, else the CI or the --slow default."""
    override = os.environ.get("MARKETNODE_CHAOS_SECONDS")
    return float(override) if override else (long_s if slow else short_s)


class ChaosNet(Testnet):
    """A Testnet whose p2p links all pass through a LinkProxy, with per-node extra environment."""

    def __init__(self, directory: Path, validators: int, observers: int = 0, timeout_ms: int | None = None) -> None:
        super().__init__(directory, validators, observers, timeout_ms)
        self.node_keys = {name: PrivateKey.load(e.home / "node_key").public_key for name, e in self.entries.items()}
        self.proxy = LinkProxy({n: self.p2p_port(n) for n in self.names},
                               {key: name for name, key in self.node_keys.items()}).start()
        route_through(self.proxy, {n: e.home for n, e in self.entries.items()}, self.node_keys,
                      {n: [v for v in self.validators if v != n] for n in self.names})
        self.env: dict[str, dict[str, str]] = {}
        self.paused: set[str] = set()
        self.kills: list[tuple[float, str]] = []  # (time.monotonic(), node) of every SIGKILL
        self.starts: list[tuple[float, str]] = []  # (time.monotonic(), node) of every (re)start

    def kill(self, name: str) -> None:
        self.kills.append((time.monotonic(), name))
        super().kill(name)

    def start(self, *names: str, wait: bool = True, extra: tuple[str, ...] = ()) -> None:
        for name in names or self.names:
            self.starts.append((time.monotonic(), name))
            with _environ(self.env.get(name, {})):
                super().start(name, wait=False, extra=extra)
        if wait:
            for name in names or self.names:
                wait_for(lambda n=name: self.status(n), 30, f"{name} to answer RPC")

    def pause(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGSTOP)
        self.paused.add(name)

    def resume(self, name: str) -> None:
        self.procs[name].send_signal(signal.SIGCONT)
        self.paused.discard(name)

    def live(self) -> list[str]:
        """Nodes that should answer: running and not paused."""
        return [n for n in self.names if n in self.procs and n not in self.paused]

    def close(self) -> None:
        for name in list(self.paused):
            self.resume(name)
        super().close()
        self.proxy.close()

    def batch(self, name: str, calls: list[tuple[str, dict[str, Any]]], timeout_s: float = 20.0) -> list[Any]:
        """One JSON-RPC batch; results in call order (an error entry raises RpcFailure)."""
        body = json.dumps([{"jsonrpc": "2.0", "id": i, "method": m, "params": p}
                           for i, (m, p) in enumerate(calls)]).encode()
        request = urllib.request.Request(self.url(name), data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            replies = sorted(json.loads(response.read()), key=lambda r: r["id"])
        for reply in replies:
            if "error" in reply:
                raise RpcFailure(reply["error"])
        return [r["result"] for r in replies]


@contextmanager
def closing_with_logs(net: Testnet):  # type: ignore[no-untyped-def]
    """Yield ``net``; on failure print every node's log tail (the evidence), and always stop the nodes."""
    try:
        yield net
    except BaseException:
        for name in net.names:
            print(f"--- {name} log tail ---\n{net.log(name)[-2500:]}")
        raise
    finally:
        net.close()


@contextmanager
def _environ(extra: dict[str, str]):  # type: ignore[no-untyped-def]
    saved = {k: os.environ.get(k) for k in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# ---- the client history ---------------------------------------------------------------


@dataclass
class SentTx:
    tx: Tx
    sender: str
    to: str
    amount: int
    acknowledged: bool = False
    committed_height: int | None = None  # a committed receipt the client saw
    via: str = ""
    acked_at: float = 0.0  # time.monotonic() of the acknowledgement


@dataclass
class History:
    txs: list[SentTx] = field(default_factory=list)
    rejected: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sent: SentTx) -> None:
        with self.lock:
            self.txs.append(sent)


class LoadGenerator:
    """One thread per demo account: small batches of transfers through any live node, then wait for receipts.

    Nonces come from the chain whenever a batch does not commit in time, so a
    tx lost with a killed node's mempool never blocks its sender for long.
    """

    BATCH = 4

    def __init__(self, net: ChaosNet, accounts: list[str], seed: int, commit_wait_s: float = 15.0) -> None:
        self.net = net
        self.accounts = accounts
        self.history = History()
        self.stop = threading.Event()
        self.commit_wait_s = commit_wait_s
        self.threads = [threading.Thread(target=self._run, args=(a, random.Random(seed * 1000 + i)), daemon=True)
                        for i, a in enumerate(accounts)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(self.commit_wait_s + 30)

    def _chain_nonce(self, key: PrivateKey, rng: random.Random) -> int | None:
        for name in rng.sample(self.net.live(), len(self.net.live())):
            try:
                return self.net.call(name, "account_get", timeout_s=3.0, address=address_from_pubkey(key.public_key))["nonce"]
            except RPC_ERRORS:
                continue
        return None

    def _run(self, account: str, rng: random.Random) -> None:
        key = self.net.keys[account]
        nonce: int | None = None
        while not self.stop.is_set():
            if nonce is None:
                nonce = self._chain_nonce(key, rng)
                if nonce is None:
                    self.stop.wait(0.5)  # nobody answers right now: back off, then ask again
                    continue
            batch = []
            for i in range(self.BATCH):
                to = rng.choice([a for a in self.accounts if a != account])
                amount = rng.randint(1, 1000)
                body = {"amount": amount, "asset": "MKT", "to": self.net.keys[to].public_key}
                tx = Tx(self.net.chain_id, key.public_key, nonce + i, "transfer", body, 0).sign(key)
                batch.append(SentTx(tx, account, to, amount))
            live = self.net.live()
            if not live:
                self.stop.wait(0.5)
                continue
            via = rng.choice(live)
            for sent in batch:
                sent.via = via
                self.history.add(sent)
            try:
                results = self.net.send_batch([s.tx for s in batch], via)
            except RPC_ERRORS:
                nonce = None
                continue
            for sent, result in zip(batch, results):
                if "error" in result:
                    with self.history.lock:
                        self.history.rejected[result["error"]["message"][:60]] += 1
                else:
                    sent.acknowledged, sent.acked_at = True, time.monotonic()
            if not all(s.acknowledged for s in batch):
                nonce = None
                continue
            nonce += self.BATCH
            if not self._await_receipts(batch, via, rng):
                nonce = None

    def _await_receipts(self, batch: list[SentTx], via: str, rng: random.Random) -> bool:
        deadline = time.monotonic() + self.commit_wait_s
        while time.monotonic() < deadline and not self.stop.is_set():
            live = self.net.live()
            name = via if via in live else (rng.choice(live) if live else None)
            if name is not None:
                try:
                    statuses = self.net.batch(name, [("tx_get", {"hash": s.tx.hash.hex(), "proof": False})
                                                     for s in batch if s.committed_height is None], timeout_s=3.0)
                    pending = [s for s in batch if s.committed_height is None]
                    for sent, status in zip(pending, statuses):
                        if status["status"] in ("committed", "failed"):
                            sent.committed_height = status["height"]
                except RPC_ERRORS:
                    pass
            if all(s.committed_height is not None for s in batch):
                return True
            self.stop.wait(0.1)  # poll interval while waiting for receipts
        return False


# ---- progress --------------------------------------------------------------------------


class StallMonitor:
    """Watches the highest height any live node reports; the longest time it did not move is the longest stall."""

    def __init__(self, net: ChaosNet) -> None:
        self.net = net
        self.stop = threading.Event()
        self.longest_stall_s = 0.0
        self.last_height = 0
        self.last_change = time.monotonic()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(10)

    def _run(self) -> None:
        while not self.stop.wait(0.25):
            heights = []
            for name in self.net.live():
                try:
                    heights.append(self.net.call(name, "node_status", timeout_s=1.0)["height"])
                except RPC_ERRORS:
                    continue
            now = time.monotonic()
            if heights and max(heights) > self.last_height:
                self.last_height, self.last_change = max(heights), now
            self.longest_stall_s = max(self.longest_stall_s, now - self.last_change)


# ---- faults ------------------------------------------------------------------------------


class FaultInjector:
    """One fault at a time, never more than one faulty validator: kill, pause, cut and delay links.

    After each fault is reverted the injector waits for the victim to catch
    up before the next, so two validators are never down together.
    """

    KINDS = ("kill", "pause", "cut", "delay")

    def __init__(self, net: ChaosNet, seed: int, timeout_ms: int, kinds: tuple[str, ...] = KINDS) -> None:
        self.net = net
        self.rng = random.Random(seed)
        self.timeout_ms = timeout_ms
        self.kinds = kinds
        self.counts: Counter[str] = Counter()
        self.log: list[str] = []
        self._victim: str | None = None  # the validator the last fault hit, if any

    def run_until(self, end: float) -> None:
        while time.monotonic() < end:
            kind = self.rng.choice(self.kinds)
            getattr(self, f"_{kind}")()
            self.counts[kind] += 1
            self._settle()

    def _hold(self, low_s: float, high_s: float) -> float:
        hold_s = self.rng.uniform(low_s, high_s)
        time.sleep(hold_s)  # the fault's duration, not synchronisation
        return hold_s

    def _kill(self) -> None:
        victim = self.rng.choice(self.net.validators)
        self.net.kill(victim)
        held = self._hold(0.5, 3.0)
        self.net.start(victim, wait=False)
        self.log.append(f"kill {victim} {held:.1f}s")
        self._victim = victim

    def _pause(self) -> None:
        victim = self.rng.choice(self.net.validators)
        self.net.pause(victim)
        low = self.timeout_ms / 1000 * 1.5
        held = self._hold(low, low * 2.5)  # longer than the view-change timeout: the others must move on
        self.net.resume(victim)
        self.log.append(f"pause {victim} {held:.1f}s")
        self._victim = victim

    def _cut(self) -> None:
        a, b = self.rng.sample(self.net.names, 2)
        self.net.proxy.cut(a, b)
        held = self._hold(2.0, 6.0)
        self.net.proxy.heal(a, b)
        self.log.append(f"cut {a}-{b} {held:.1f}s")
        self._victim = None

    def _delay(self) -> None:
        a, b = self.rng.sample(self.net.names, 2)
        ms = self.rng.randint(100, 600)
        self.net.proxy.delay(a, b, ms)
        held = self._hold(2.0, 6.0)
        self.net.proxy.heal(a, b)
        self.log.append(f"delay {a}-{b} {ms}ms {held:.1f}s")
        self._victim = None

    def _settle(self) -> None:
        """Wait until every node answers and the last victim has caught up with the others."""
        wait_for(lambda: all(self._answers(n) for n in self.net.names), 60, "every node to answer after a fault")
        victim = self._victim
        if victim is None:
            return
        others = [n for n in self.net.validators if n != victim]
        target = max(self.net.height(n) for n in others)
        wait_for(lambda: self.net.height(victim) >= target, 90, f"{victim} to catch up to {target}")

    def _answers(self, name: str) -> bool:
        try:
            self.net.status(name)
            return True
        except RPC_ERRORS:
            return False


# ---- the checker ------------------------------------------------------------------------


@dataclass
class Verdict:
    sent: int
    acknowledged: int
    client_committed: int
    chain_committed: int
    lost_acknowledged: int
    lost_then_replaced: int  # of those, how many the client replaced by a committed tx with the same nonce
    lost_on_killed_node: int  # of those, how many were acknowledged by a node SIGKILLed soon after
    lost_by_via: dict[str, int]  # of those, by the node that acknowledged them
    lost_soon_after_restart: int  # of those, acknowledged by a node within seconds of its (re)start
    height: int
    expected: dict[str, int]
    unexplained_kill_delays_s: list[float | None] = field(default_factory=list)


def check_history(net: ChaosNet, history: History, initial: dict[str, int], accounts: list[str]) -> Verdict:
    """The end-of-run checks: same chain everywhere, no committed tx missing, balances from the history.

    Txs still in mempools when the load stops may commit while we read, so the
    balances are only compared with a chain that did not grow meanwhile.
    """
    for _ in range(10):
        top = max(net.height(n) for n in net.names)
        wait_for(lambda t=top: all(net.height(n) >= t for n in net.names), 90, f"every node to reach height {top}")
        verdict, balances_seen = _check_at(net, history, initial, accounts, top)
        if all(net.height(n) == top for n in net.names):
            for name, held in balances_seen.items():
                for account in accounts:
                    assert held[account] == verdict.expected[account], \
                        f"{name}: {account} holds {held[account]} but the history says {verdict.expected[account]}"
            return verdict
    raise AssertionError("the chain kept growing after the load stopped; no quiet moment to compare balances")


def _check_at(net: ChaosNet, history: History, initial: dict[str, int], accounts: list[str],
              top: int) -> tuple[Verdict, dict[str, dict[str, int]]]:
    names = net.names
    chains = {name: fetch_headers(net, name, top) for name in names}
    reference = [(b["hash"], b["header"]["state_root"]) for b in chains[names[0]]]
    for name in names[1:]:
        mine = [(b["hash"], b["header"]["state_root"]) for b in chains[name]]
        assert mine == reference, f"{name} and {names[0]} disagree on block hashes or state roots below {top}"
    in_chain = {bytes.fromhex(h): b["height"] for b in chains[names[0]] for h in b["tx_hashes"]}

    # A resend at the same nonce with the same recipient and amount is the very same tx (signatures are
    # deterministic): count each tx once.
    by_hash = {s.tx.hash: s for s in history.txs}
    committed = [s for tx_hash, s in by_hash.items() if tx_hash in in_chain]
    for sent in history.txs:
        if sent.committed_height is not None:
            assert in_chain.get(sent.tx.hash) == sent.committed_height, \
                f"tx {sent.tx.hash.hex()} had a committed receipt at {sent.committed_height} but the chain has it at " \
                f"{in_chain.get(sent.tx.hash)}"
    for b in chains[names[0]]:
        for h in b["tx_hashes"]:
            assert bytes.fromhex(h) in by_hash, f"tx {h} in block {b['height']} was never sent by a client"

    expected = dict(initial)
    for sent in committed:
        expected[sent.sender] -= sent.amount
        expected[sent.to] += sent.amount
    held = {name: balances(net, name, accounts) for name in names}
    # An acknowledgement (tx_send without wait=commit) is admission to one mempool, not durability: a tx
    # in a killed node's mempool is gone. The client then resends at that nonce; count those replacements.
    acknowledged: dict[bytes, SentTx] = {}
    for sent in history.txs:
        if sent.acknowledged:
            acknowledged.setdefault(sent.tx.hash, sent)
    lost = [s for tx_hash, s in acknowledged.items() if tx_hash not in in_chain]
    slots = {(s.tx.sender, s.tx.nonce) for s in committed}
    verdict = Verdict(
        sent=len(history.txs), acknowledged=sum(s.acknowledged for s in history.txs),
        client_committed=sum(s.committed_height is not None for s in history.txs), chain_committed=len(committed),
        lost_acknowledged=len(lost),
        lost_then_replaced=sum((s.tx.sender, s.tx.nonce) in slots for s in lost),
        lost_by_via=dict(Counter(s.via for s in lost)),
        lost_soon_after_restart=sum(any(n == s.via and 0 <= s.acked_at - t <= LOST_WINDOW_S * 2 for t, n in net.starts)
                                    for s in lost),
        lost_on_killed_node=sum(_on_killed_node(net, s) for s in lost),
        height=top, expected=expected,
    )
    # Not explained by a kill within LOST_WINDOW_S, nor by the client reusing a nonce that was taken: the
    # client had to replace these after waiting. Reported with how long after the acknowledgement the
    # acknowledging node was next killed (None: never), for docs/RELIABILITY.md; not asserted (see there).
    order = {s.tx.hash: i for i, s in enumerate(history.txs)}
    slot_taken_by = {(s.tx.sender, s.tx.nonce): order[s.tx.hash] for s in committed}
    dropped = [s for s in lost if not _on_killed_node(net, s)
               and slot_taken_by.get((s.tx.sender, s.tx.nonce), len(order)) > order[s.tx.hash]]
    verdict.unexplained_kill_delays_s = [_next_kill_delay(net, s) for s in dropped]
    return verdict, held


def _on_killed_node(net: ChaosNet, sent: SentTx) -> bool:
    """Was the node that acknowledged ``sent`` SIGKILLed within seconds after (before it could gossip)?"""
    return any(n == sent.via and 0 <= t - sent.acked_at <= LOST_WINDOW_S for t, n in net.kills)


def _next_kill_delay(net: ChaosNet, sent: SentTx) -> float | None:
    delays = [t - sent.acked_at for t, n in net.kills if n == sent.via and t >= sent.acked_at]
    return round(min(delays), 2) if delays else None


def fetch_headers(net: ChaosNet, name: str, top: int, per_batch: int = 200) -> list[dict[str, Any]]:
    """Blocks 1..top without txs (hashes only), in batches, waiting out the node's per-IP rate limit."""
    blocks: list[dict[str, Any]] = []
    for start in range(1, top + 1, per_batch):
        calls = [("chain_getBlock", {"height": h, "full": False}) for h in range(start, min(top, start + per_batch - 1) + 1)]
        blocks += wait_for(lambda c=calls: _unless_rate_limited(lambda: net.batch(name, c)), 120,
                           f"blocks from {start} on {name}", interval_s=0.5)
    return blocks


def _unless_rate_limited(fetch):  # type: ignore[no-untyped-def]
    """``fetch()``, or None when the node says we are over its rate (HTTP 429 / -32005): try again later."""
    try:
        return fetch()
    except urllib.error.HTTPError as exc:
        if exc.code == 429:
            return None
        raise
    except RpcFailure as exc:
        if exc.error.get("code") == -32005:
            return None
        raise


def balances(net: ChaosNet, via: str, accounts: list[str]) -> dict[str, int]:
    return {a: net.call(via, "account_get", address=address_from_pubkey(net.keys[a].public_key))["balances"].get("MKT", 0)
            for a in accounts}


def measure_recovery(net: ChaosNet, bound_s: float) -> float:
    """Seconds from "faults stopped" (now) until the highest height moves again under the running load."""
    started = time.monotonic()
    before = max(net.height(n) for n in net.names)
    wait_for(lambda: max(net.height(n) for n in net.names) > before, bound_s,
             f"a commit within {bound_s} s after the faults stopped")
    return time.monotonic() - started
