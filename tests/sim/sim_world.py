"""The simulated world: its constants, the application every replica runs, a node, and the scenario a seed picks.

Part of the consensus simulator (simulator.py runs it; sim_checks.py judges it; sim_byzantine.py lies in it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from marketnode.consensus.records import Head, LastSigned
from marketnode.consensus.replica import Replica
from marketnode.core.errors import ValidationError
from marketnode.core.hashing import digest
from marketnode.core.keys import PrivateKey
from marketnode.core.types import Block, Certificate, Tx, max_faulty
from marketnode.node.mempool.pool import Mempool, MempoolError, MempoolLimits

CHAIN_ID = "sim"
GENESIS_HASH = digest("genesis", b"sim")
GENESIS_ROOT = digest("state", b"genesis")
NS = (1, 4, 7)
MIXES = (
    "calm", "lossy", "partition", "one-way", "rolling", "crash",
    "byz-silent", "byz-equivocate", "byz-conflict", "byz-garbage", "byz-unknown", "chaos",
)
BYZ_BEHAVIOURS = ("silent", "equivocate", "conflict", "garbage", "unknown")
LIVENESS_BOUND_MS = 60_000
STALL_SLACK_MS = 250  # beyond a view's timeout: message delays and execution after the network is timely
REGOSSIP_MS = 300  # a node re-offers its pending txs this often (the node's REGOSSIP_S, scaled like the timeouts)
REGOSSIP_MAX = 8
REGOSSIP_HEADS = 2
SYNC_POLL_MS = 500  # the node's syncer asks a peer for its height this often, whatever consensus does
KEYS = [PrivateKey(digest("address", b"sim-validator-%d" % i)) for i in range(10)]
OUTSIDER = PrivateKey(digest("address", b"sim-outsider"))
SENDERS = [PrivateKey(digest("address", b"sim-sender-%d" % i)) for i in range(3)]


def make_tx(index: int, kind: str = "ok") -> Tx:
    """A sim tx: sender ``index % 3`` with consecutive nonces, so txs sent to different nodes form nonce runs.

    Signed, because the node's real mempool (which the sim runs) admits only
    signed txs; the validity function still looks at ``kind``.
    """
    key = SENDERS[index % len(SENDERS)]
    return Tx(CHAIN_ID, key.public_key, index // len(SENDERS), kind, {"i": index}, 1).sign(key)


class SimApp:
    """The node side of consensus.app.Application: the node's real mempool and a hash-chain 'state'.

    The mempool is node/mempool/pool.py itself, so "proposable", nonce gaps and
    re-gossip are the node's own rules, not a model of them.
    """

    def __init__(self) -> None:
        self.mempool = Mempool(MempoolLimits(), CHAIN_ID)
        self.nonces: dict[bytes, int] = {}
        self.committed: set[bytes] = set()
        self.root = GENESIS_ROOT
        self.chain: list[tuple[Block, Certificate]] = []

    def account_nonce(self, sender: bytes) -> int:
        return self.nonces.get(sender, 0)

    def has_proposable(self) -> bool:
        return self.mempool.has_proposable()

    def take_batch(self, max_txs: int, max_bytes: int) -> list[Tx]:
        return self.mempool.take_batch(max_txs, max_bytes, self.account_nonce)

    def check_block(self, block: Block) -> None:
        check_txs(block, self.committed)

    def state_root(self) -> bytes:
        return self.root

    def add(self, tx: Tx) -> bool:
        """Admit ``tx`` as the node would; False if the mempool refuses it (duplicate, stale)."""
        if tx.hash in self.committed:
            return False
        try:
            self.mempool.add(tx.encode(), self.account_nonce)
        except MempoolError:
            return False
        return True

    def execute(self, block: Block, cert: Certificate) -> None:
        self.root = digest("state", self.root + block.hash)
        for tx in block.txs:
            self.committed.add(tx.hash)
            self.nonces[tx.sender] = max(self.nonces.get(tx.sender, 0), tx.nonce + 1)
        self.mempool.remove_committed(block.txs)
        self.mempool.recheck(self.account_nonce)
        self.chain.append((block, cert))

    def head(self) -> Head:
        if not self.chain:
            return Head(0, GENESIS_HASH, 0, None)
        block, cert = self.chain[-1]
        return Head(block.height, block.hash, block.header.timestamp_ms, cert, block.header.view)


def check_txs(block: Block, committed: set[bytes]) -> None:
    """The sim's validity function: only 'ok' txs, none already committed, none twice."""
    seen: set[bytes] = set()
    for tx in block.txs:
        if tx.kind != "ok":
            raise ValidationError(f"tx kind {tx.kind!r} is invalid")
        if tx.hash in committed or tx.hash in seen:
            raise ValidationError("tx already committed")
        seen.add(tx.hash)


@dataclass
class SimNode:
    index: int
    key: PrivateKey
    app: SimApp
    replica: Replica
    byzantine: str | None = None
    alive: bool = True
    incarnation: int = 0
    last_signed: LastSigned | None = None
    timers: dict[str, int] = field(default_factory=dict)
    exec_queue: list[tuple[Block, Certificate]] = field(default_factory=list)
    alt_blocks: dict[bytes, Block] = field(default_factory=dict)  # equivocation: our hash -> the other block
    entered_here: set[bytes] = field(default_factory=set)  # txs clients sent to this node (its mempool journal)
    regossip_due: bool = False
    regossip_before: int = 0
    progress_ms: int = 0  # last commit executed, view changed or restart
    work_since: int | None = None  # when proposable work appeared after the last progress
    seen_view: tuple[int, bool, bool, bool] = (0, True, False, False)  # (view, entered, accepted, prepared)


@dataclass
class Violation:
    kind: str
    detail: str


@dataclass
class Scenario:
    seed: int
    n: int
    mix: str
    byzantine: dict[int, str]
    drop_p: float
    dup_p: float
    max_delay_ms: int
    heal_ms: int
    events: list[tuple[int, str, Any]]


def scenario_for(seed: int) -> Scenario:
    """The seed picks n, the fault mix and the schedule; nothing else is random."""
    rng = random.Random(seed)
    combo = seed % (len(NS) * len(MIXES))
    n, mix = NS[combo % len(NS)], MIXES[combo // len(NS)]
    f = max_faulty(n)
    heal_ms = rng.randint(1500, 5000)
    events: list[tuple[int, str, Any]] = []
    for i in range(rng.randint(3, 12)):
        events.append((rng.randint(0, heal_ms), "submit", i))
    byzantine: dict[int, str] = {}
    drop_p = dup_p = 0.0
    max_delay = 20
    if mix.startswith("byz-") or mix == "chaos":
        for index in rng.sample(range(n), f):
            byzantine[index] = mix[4:] if mix != "chaos" else rng.choice(BYZ_BEHAVIOURS)
    honest = [i for i in range(n) if i not in byzantine]
    if mix in ("lossy", "chaos"):
        drop_p, dup_p, max_delay = rng.uniform(0.05, 0.3), rng.uniform(0.0, 0.2), 80
    if mix == "byz-equivocate":  # losses force view changes, where a lying new primary can try its NewView
        drop_p = rng.uniform(0.0, 0.15)
    if mix in ("partition", "chaos") and n > 1:
        group = set(rng.sample(range(n), rng.randint(1, n - 1)))
        blocked = {(a, b) for a in range(n) for b in range(n) if (a in group) != (b in group)}
        events.append((rng.randint(0, heal_ms // 2), "partition", blocked))
    if mix == "one-way" and n > 1:
        blocked = {(a, b) for a in range(n) for b in range(n) if a != b and rng.random() < 0.4}
        events.append((rng.randint(0, heal_ms // 2), "partition", blocked))
    if mix == "rolling" and n > 1:
        t = 0
        while t < heal_ms:
            isolated = set(rng.sample(range(n), rng.randint(1, max(1, n // 2))))
            one_way = rng.random() < 0.5
            blocked = {(a, b) for a in range(n) for b in range(n)
                       if (a in isolated) != (b in isolated) and not (one_way and a in isolated)}
            events.append((t, "partition", blocked))
            t += rng.randint(150, 600)
    if mix in ("crash", "chaos"):
        for _ in range(rng.randint(1, 3)):
            at = rng.randint(0, heal_ms - 200)
            index = rng.choice(honest)
            events.append((at, "crash", index))
            events.append((rng.randint(at + 1, heal_ms), "restart", index))
    events.append((heal_ms, "heal", None))
    return Scenario(seed, n, mix, byzantine, drop_p, dup_p, max_delay, heal_ms, events)
