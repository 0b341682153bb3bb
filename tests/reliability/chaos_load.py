"""The chaos test's clients: a load generator that records what it sent and what was acknowledged, and a stall monitor.

Like Jepsen's clients, they keep a history (``History``) for the checker
(chaos_check.py) to compare with every node's chain at the end.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from chaos_net import RPC_ERRORS, ChaosNet

from marketnode.core.keys import PrivateKey, address_from_pubkey
from marketnode.core.types import Tx


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
