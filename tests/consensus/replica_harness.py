"""Test helpers: fixed keys, a fake Application, and a Cluster wiring replicas together in memory (h11-style)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from marketnode.consensus.actions import (
    Broadcast,
    CancelTimer,
    CommitBlock,
    PersistLastSigned,
    RecordEvidence,
    RequestBlocks,
    SendTo,
    SetTimer,
)
from marketnode.consensus.messages import Message, PrePrepare, decode_message, encode_message
from marketnode.consensus.records import Head, LastSigned
from marketnode.consensus.replica import TIMER_VIEW, Replica, ReplicaConfig
from marketnode.core.errors import ValidationError
from marketnode.core.hashing import digest
from marketnode.core.keys import PrivateKey
from marketnode.core.types import PROPOSE, Block, Certificate, Tx, Vote

CHAIN = "test-chain"
KEYS = [PrivateKey(bytes([i + 1]) * 32) for i in range(10)]
OUTSIDER = PrivateKey(b"\x99" * 32)
GENESIS = Head(0, digest("genesis", b"test"), 1_000, None)
ROOT0 = digest("state", b"root-0")
NOW = 10_000


def make_config(n: int = 4, **overrides: Any) -> ReplicaConfig:
    values: dict[str, Any] = dict(
        chain_id=CHAIN, validators=tuple(k.public_key for k in KEYS[:n]), base_timeout_ms=1_000,
        max_block_txs=10, max_block_bytes=64 * 1024, max_clock_skew_ms=2_000, rotate_every=10,
    )
    values.update(overrides)
    return ReplicaConfig(**values)


def make_tx(i: int, kind: str = "ok") -> Tx:
    return Tx(CHAIN, KEYS[0].public_key, i, kind, {"i": i}, 1, bytes(64))


class FakeApp:
    """A mempool plus a hash-chain state root; txs of kind 'bad' are invalid."""

    def __init__(self) -> None:
        self.mempool: dict[bytes, Tx] = {}
        self.root = ROOT0
        self.executed: list[Block] = []

    def has_proposable(self) -> bool:
        return bool(self.mempool)

    def take_batch(self, max_txs: int, max_bytes: int) -> list[Tx]:
        return list(self.mempool.values())[:max_txs]

    def check_block(self, block: Block) -> None:
        for tx in block.txs:
            if tx.kind == "bad":
                raise ValidationError("bad tx")

    def state_root(self) -> bytes:
        return self.root

    def add(self, *txs: Tx) -> None:
        for tx in txs:
            self.mempool[tx.hash] = tx

    def execute(self, block: Block) -> None:
        self.root = digest("state", self.root + block.hash)
        for tx in block.txs:
            self.mempool.pop(tx.hash, None)
        self.executed.append(block)


def assert_rejected(replica: Replica, sender: bytes, msg: Message, reason: str) -> None:
    """The message is dropped with no action, and the replica says why."""
    assert replica.receive(sender, msg, NOW) == []
    assert reason in (replica.last_rejection or ""), replica.last_rejection


def propose(
    block: Block | None = None, *, key: PrivateKey | None = None, view: int = 0, height: int = 1, **header: Any
) -> PrePrepare:
    """A proposal signed by ``key`` (default: the primary of (height, view) in make_config())."""
    cfg = make_config()
    key = key or next(k for k in KEYS if k.public_key == cfg.primary(height, view))
    if block is None:
        fields: dict[str, Any] = dict(
            chain_id=CHAIN, height=height, view=view, timestamp_ms=NOW, parent_hash=GENESIS.block_hash,
            proposer=key.public_key, state_root=ROOT0, txs=[make_tx(1)], last_cert=None,
        )
        fields.update(header)
        block = Block.build(**fields)
    vote = Vote(CHAIN, PROPOSE, block.height, view, block.hash, key.public_key).sign(key)
    return PrePrepare(block, vote)


@dataclass
class Node:
    replica: Replica
    app: FakeApp
    key: PrivateKey
    timers: dict[str, int] = field(default_factory=dict)
    last_signed: LastSigned | None = None
    chain: list[tuple[Block, Certificate]] = field(default_factory=list)
    evidence: list[Any] = field(default_factory=list)
    log: list[Any] = field(default_factory=list)
    silent: bool = False


class Cluster:
    """n replicas exchanging encoded messages through an in-memory FIFO; time moves only when asked."""

    def __init__(self, n: int = 4, **config: Any) -> None:
        self.config = make_config(n, **config)
        self.now = NOW
        self.nodes = []
        for key in KEYS[:n]:
            app = FakeApp()
            self.nodes.append(Node(Replica(self.config, key, app, GENESIS, None), app, key))
        self.wire: deque[tuple[int, int, bytes]] = deque()

    def index_of(self, key: bytes) -> int:
        return [k.public_key for k in KEYS].index(key)

    def submit(self, *txs: Tx) -> None:
        for i, node in enumerate(self.nodes):
            node.app.add(*txs)
            self.perform(i, node.replica.on_work(self.now))

    def perform(self, i: int, actions: list[Any]) -> None:
        node = self.nodes[i]
        queue = deque(actions)
        while queue:
            action = queue.popleft()
            node.log.append(action)
            if isinstance(action, PersistLastSigned):
                node.last_signed = action.record
            elif isinstance(action, Broadcast | SendTo):
                if node.silent:
                    continue
                targets = (
                    [j for j in range(len(self.nodes)) if j != i]
                    if isinstance(action, Broadcast) else [self.index_of(action.validator)]
                )
                data = encode_message(action.msg)
                self.wire.extend((i, j, data) for j in targets)
            elif isinstance(action, CommitBlock):
                node.chain.append((action.block, action.certificate))
                node.app.execute(action.block)
                queue.extend(node.replica.on_executed(action.block.height, self.now))
            elif isinstance(action, SetTimer):
                node.timers[action.name] = action.deadline_ms
            elif isinstance(action, CancelTimer):
                node.timers.pop(action.name, None)
            elif isinstance(action, RecordEvidence):
                node.evidence.append(action.evidence)
            elif isinstance(action, RequestBlocks):
                pass

    def deliver(self, src: int, dst: int, msg: Message) -> None:
        self.perform(dst, self.nodes[dst].replica.receive(KEYS[src].public_key, msg, self.now))

    def run(self, max_steps: int = 100_000, drop: type | None = None) -> None:
        """Deliver until the wire is empty; messages of type ``drop`` are lost."""
        for _ in range(max_steps):
            if not self.wire:
                return
            src, dst, data = self.wire.popleft()
            msg = decode_message(data)
            if drop is None or not isinstance(msg, drop):
                self.deliver(src, dst, msg)
        raise AssertionError("the cluster did not go quiet")

    def fire_next_timer(self, name: str = TIMER_VIEW) -> None:
        """Advance the clock to the earliest ``name`` timer and fire every timer due then."""
        deadline = min(t for node in self.nodes for n, t in node.timers.items() if n == name)
        self.now = max(self.now, deadline)
        for i, node in enumerate(self.nodes):
            for name, due in list(node.timers.items()):
                if due <= self.now:
                    del node.timers[name]
                    self.perform(i, node.replica.on_timer(name, self.now))

    def heights(self) -> list[int]:
        return [len(node.chain) for node in self.nodes]
