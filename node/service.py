"""The Node: wires storage, mempool, consensus, p2p, sync and RPC under one TaskGroup.

One task (the consensus driver) owns the replica and the executor: every
input — a peer's message, a timer, new work, a synced batch — goes through
its queue, so consensus state has exactly one writer. Actions are performed
in order; a PersistLastSigned is synced to disk before the next action runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

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
from marketnode.consensus.messages import Message, decode_message, encode_message
from marketnode.consensus.records import Head as ReplicaHead
from marketnode.consensus.records import LastSigned
from marketnode.consensus.replica import RECENT_BLOCKS, Replica, ReplicaConfig
from marketnode.core.encoding import decode as decode_value
from marketnode.core.encoding import encode as encode_value
from marketnode.core.errors import (
    ConsensusError,
    DecodeError,
    MarketnodeError,
    RuleError,
    StorageCorruption,
    StorageError,
)
from marketnode.core.keys import PrivateKey
from marketnode.core.textfile import read_text
from marketnode.core.types import Block, Certificate, Tx
from marketnode.market.authority import check_signers
from marketnode.market.engine import init_genesis, load_params
from marketnode.market.genesis import Genesis
from marketnode.market.state import StateOverlay
from marketnode.node.chain_app import ChainApplication
from marketnode.node.config import NodeConfig
from marketnode.node.datadir import open_checked, remedy
from marketnode.node.executor import BlockExecutor, Executed
from marketnode.node.intake import TxIntake
from marketnode.node.mailbox_service import MAIL_TOPICS, SYNC_TOPIC, attach_mailbox
from marketnode.node.mempool import Mempool, MempoolError, MempoolLimits
from marketnode.node.snapshot.client import StateSyncClient
from marketnode.node.snapshot.fetch import Anchor
from marketnode.node.snapshot.offers import TOPICS as SNAPSHOT_TOPICS
from marketnode.node.snapshot.offers import SnapshotOffers
from marketnode.node.storage.chainstore import ChainStore
from marketnode.node.sync import Syncer, serve_blocks, serve_status
from marketnode.node.tx_rules import check_at_head
from marketnode.p2p.config import P2PConfig
from marketnode.p2p.host import P2PHost

log = logging.getLogger("marketnode.node")

TX_GOSSIP_FLUSH_S = 0.005
MAX_GOSSIP_BATCH = 2000
MAX_GOSSIP_BYTES = 1024 * 1024  # per tx-gossip message
BLOCK_CACHE_SIZE = 32
REGOSSIP_S = 1.0
MAX_REGOSSIP = 4000  # txs re-offered per period, heads of every sender's run first
REGOSSIP_HEADS_PER_SENDER = 16
GAPPED_TTL_S = 30.0  # a tx behind a nonce gap that long is dropped (its client gave up the missing nonce)
WANT_S = 0.5  # how often a node with txs behind nonce gaps asks its peers for the missing ones
WANT_MAX_SENDERS = 256  # gaps named in one want request
WANT_RUN = 64  # txs served per named gap
STALL_WARN_S = 5.0  # a warning each period while proposable work waits with no block
GOSSIP_YIELD_EVERY = 64  # gossiped txs verified between two yields to the event loop


# TEST ONLY (docs/RELIABILITY.md): shift this node's wall clock to test skew within max_clock_skew_ms.
CLOCK_SKEW_MS = int(os.environ.get("MARKETNODE_CLOCK_SKEW_MS", "0"))


class BroadcastFilter(Protocol):
    """TEST ONLY (tools/byzantine.py): may rewrite a consensus broadcast; True means it sent its own."""

    def broadcast(self, msg: Message) -> bool: ...


# Builds a BroadcastFilter from the node's key, the validator set and its transport; the CLI passes one for
# `run --byzantine`, so production code never imports the test behaviours.
MisbehaviourFactory = Callable[[PrivateKey, list[bytes], P2PHost], BroadcastFilter]


def tx_batches(raws: Iterable[bytes]) -> Iterator[bytes]:
    """Gossip payloads for ``raws``: at most MAX_GOSSIP_BATCH txs and about MAX_GOSSIP_BYTES each,
    so no payload can exceed a peer's frame limit however large the txs are."""
    batch: list[bytes] = []
    size = 0
    for raw in raws:
        if batch and (len(batch) >= MAX_GOSSIP_BATCH or size + len(raw) > MAX_GOSSIP_BYTES):
            yield encode_value(batch)
            batch, size = [], 0
        batch.append(raw)
        size += len(raw)
    if batch:
        yield encode_value(batch)


def now_ms() -> int:
    return time.time_ns() // 1_000_000 + CLOCK_SKEW_MS


def load_genesis(cfg: NodeConfig) -> Genesis:
    return Genesis.from_json(read_text(cfg.genesis_path, "genesis"))


@dataclass
class _Waiters:
    """Futures of RPC callers waiting for a tx to commit, keyed by tx hash."""

    by_hash: dict[bytes, list[asyncio.Future[Any]]] = field(default_factory=dict)

    def add(self, tx_hash: bytes) -> asyncio.Future[Any]:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.by_hash.setdefault(tx_hash, []).append(fut)
        return fut

    def resolve(self, tx_hash: bytes, value: Any) -> None:
        for fut in self.by_hash.pop(tx_hash, ()):
            if not fut.done():
                fut.set_result(value)

    def discard(self, tx_hash: bytes, fut: asyncio.Future[Any]) -> None:
        futs = self.by_hash.get(tx_hash)
        if futs and fut in futs:
            futs.remove(fut)
            if not futs:
                del self.by_hash[tx_hash]


class Node:
    """One marketnode process: validator or observer."""

    def __init__(self, cfg: NodeConfig, *, misbehave: MisbehaviourFactory | None = None) -> None:
        self.cfg = cfg
        self.key = PrivateKey.load(cfg.key_path)
        self.genesis = load_genesis(cfg)
        self.chain_id = self.genesis.chain_id
        self.validators = [v.public_key for v in self.genesis.validators]
        self.is_validator = cfg.validator and self.key.public_key in self.validators
        self.misbehaviour: BroadcastFilter | None = None  # TEST ONLY: --byzantine rewrites our consensus broadcasts
        cfg.data_path.mkdir(parents=True, exist_ok=True)
        self.kv, self.store, _ = open_checked(cfg.data_path, cfg.home, self._ensure_genesis,
                                              recover=not self.is_validator)
        self.store.versions_kept = cfg.storage.state_versions
        m = cfg.mempool
        self.mempool = Mempool(MempoolLimits(max_txs=m.max_txs, max_bytes=m.max_bytes, max_tx_bytes=m.max_tx_bytes,
                                             max_per_sender=m.max_per_sender, max_gapped=m.max_gapped,
                                             min_fee=m.min_fee), self.chain_id)
        self.executor = BlockExecutor(self.store, self.chain_id)
        self.app = ChainApplication(self.store, self.mempool, m.max_tx_bytes, cfg.consensus.block_budget_ms)
        try:
            self.replica = self._make_replica()
        except StorageCorruption as exc:  # the recent blocks it reads were not in the start-up check's walk
            if remedy(cfg.home) in str(exc):
                raise
            self.store.close()
            raise StorageCorruption(f"{exc}. To fix it: {remedy(cfg.home)}") from exc
        p = cfg.p2p
        self.p2p = P2PHost(
            P2PConfig(chain_id=self.chain_id, listen_host=p.listen_host, listen_port=p.listen_port,
                      advertise_address=p.advertise_address or None, seeds=p.seeds, max_peers=p.max_peers,
                      max_inbound=p.max_inbound, max_outbound=p.max_outbound,
                      max_inbound_per_ip=p.max_inbound_per_ip, max_inbound_per_subnet=p.max_inbound_per_subnet,
                      ip_limit_loopback=p.ip_limit_loopback, max_handshakes=p.max_handshakes,
                      max_handshakes_per_ip=p.max_handshakes_per_ip, max_pending_connections=p.max_pending_connections,
                      idle_timeout_s=float(p.idle_timeout_s),
                      reserved_keys=tuple(self.validators),  # the validator set always reaches itself
                      max_frame_bytes=p.max_frame_bytes, relay_topics=MAIL_TOPICS, bulk_topics=("txs",),
                      rate_msgs_per_s=5000.0, send_queue_max=10_000),
            self.key, self._on_p2p_message, self._on_p2p_request, self._on_peer_event,
        )
        if misbehave is not None:
            self.misbehaviour = misbehave(self.key, self.validators, self.p2p)
        self.syncer = Syncer(self.p2p, self.store, self._deliver_synced, p.max_frame_bytes)
        s = cfg.sync  # state sync: the snapshots this node offers, and whether it joins from one (node/snapshot)
        self.snapshots = SnapshotOffers(self.kv, s.snapshot_interval, s.snapshots_kept, s.chunk_bytes)
        self.inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self.waiters = _Waiters()
        self.subscribers: list[Any] = [lambda e: self.snapshots.on_commit(e.head.height, e.head.state_root)]
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._work_queued = False
        self._gossip_buffer: list[bytes] = []
        self._gossip_flush: asyncio.TimerHandle | None = None
        self.started_ms = now_ms()
        self._last_commit_mono = time.monotonic()
        self.rpc: Any = None
        self.evidence: list[Any] = []
        from marketnode.node.api.wiring import attach_query_services

        self.query_index = attach_query_services(self)  # SQLite query index + websocket notifications
        # Wallet txs: overload bound and mempool journal.
        self.intake = TxIntake(cfg, self.mempool, catching_up=lambda: self.syncer.syncing,
                               account_nonce=self.app.account_nonce)
        self.subscribers.append(self.intake.on_block)
        from marketnode.node.content.service import ContentService

        self.content = ContentService(self, now_ms)  # blobs the chain references, served and fetched (node/content)
        self._block_cache: OrderedDict[int, Block] = OrderedDict()
        self.mailbox = attach_mailbox(self, now_ms)  # encrypted messages: node/mailbox_service.py

    # ---- setup -------------------------------------------------------------

    def _ensure_genesis(self, store: ChainStore) -> None:
        genesis_hash = self.genesis.hash
        stored = store.genesis_hash()
        if stored is not None:
            if stored != genesis_hash:
                raise StorageError(
                    f"{self.cfg.data_path} holds the chain with genesis {stored.hex()[:16]}… but "
                    f"{self.cfg.genesis_path} hashes to {genesis_hash.hex()[:16]}…: if that file was changed, "
                    "restore it; if the data belongs to another chain, use another data directory")
            return
        overlay = StateOverlay(store.state_reader())
        init_genesis(overlay, self.genesis)
        store.init_genesis(genesis_hash, overlay.changes(), self.genesis.genesis_time_ms)
        log.info("wrote genesis %s for chain %s", genesis_hash.hex()[:16], self.chain_id)

    def _replica_head(self) -> ReplicaHead:
        head = self.store.head()
        assert head is not None
        if head.height == 0:
            return ReplicaHead(0, head.block_hash, head.timestamp_ms, None, 0)
        block = self.store.get_block(head.height)
        assert block is not None, "verify_head checked the head block is stored"
        return ReplicaHead(head.height, head.block_hash, head.timestamp_ms, self.store.get_certificate(head.height),
                           block.header.view)

    def _make_replica(self) -> Replica:
        c = self.cfg.consensus
        config = ReplicaConfig(
            chain_id=self.chain_id, validators=tuple(self.validators), base_timeout_ms=c.base_timeout_ms,
            max_block_txs=c.max_block_txs, max_block_bytes=c.max_block_bytes,
            max_clock_skew_ms=c.max_clock_skew_ms, rotate_every=c.rotate_every,
        )
        raw = self.store.load_last_signed()
        try:
            last_signed = LastSigned.decode(raw) if raw else None
        except (DecodeError, ConsensusError) as exc:  # never guessed: signing without it could contradict an earlier vote
            self.store.close()  # the node will not start: release the database lock
            raise StorageCorruption(
                f"the validator's last-signed record (double-sign guard) in {self.cfg.data_path} is damaged: {exc}. "
                f"To fix it: {remedy(self.cfg.home)}, with validator = false in config.toml until it has caught up "
                "past the height it last voted on (docs/OPERATIONS.md, 'A damaged database')"
            ) from exc
        key = self.key if self.is_validator else None
        head = self._replica_head()
        # The blocks' times before the head (genesis's own time counts), so that a restarted replica paces
        # its view timeouts exactly like one that never stopped.
        times = [self.genesis.genesis_time_ms] + [
            block.header.timestamp_ms
            for block in map(self.store.get_block, range(max(1, head.height - RECENT_BLOCKS), head.height))
            if block is not None
        ]
        times = times[-RECENT_BLOCKS:] if head.height > 0 else []
        return Replica(config, key, self.app, head, last_signed, tuple(times))

    # ---- run ---------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        from marketnode.node.rpc_service import start_rpc

        await self.p2p.start()
        self.intake.replay(self.submit_tx)  # before RPC: what was acknowledged before a crash goes back in
        self.rpc = await start_rpc(self)
        role = "validator" if self.is_validator else "observer"
        head = self.store.head()
        log.info("node %s (%s) up: chain %s, height %d, p2p %s, rpc %s", self.key.public_key.hex()[:12], role,
                 self.chain_id, head.height if head else -1, self.p2p.listen_address, self.rpc.url)
        clean = False
        try:
            async with asyncio.TaskGroup() as tg:
                driver = tg.create_task(self._drive())
                syncer = tg.create_task(self._follow())
                regossip = tg.create_task(self._regossip_loop())
                journal = tg.create_task(self.intake.run())
                watch = tg.create_task(self._stall_watch())
                want = tg.create_task(self._want_loop())
                content = tg.create_task(self.content.run())
                mail = tg.create_task(self.mailbox.run())
                self.post(("work",))
                await stop.wait()
                log.info("shutting down: no new RPC calls; finishing the block in hand")
                with contextlib.suppress(Exception):
                    await self.rpc.stop()
                self.inbox.put_nowait(("stop",))
                await driver
                syncer.cancel()
                regossip.cancel()
                journal.cancel()
                watch.cancel()
                want.cancel()
                content.cancel()
                mail.cancel()
            clean = True
        finally:
            for handle in self._timers.values():
                handle.cancel()
            with contextlib.suppress(Exception):
                await self.rpc.stop()
            with contextlib.suppress(Exception):
                await self.p2p.stop()
            self.query_follower.close()
            self.query_index.close()
            self.snapshots.close()
            self.mailbox.close()
            self.intake.close()
            final = self.store.head()
            self.store.close()
            if clean:
                log.info("stopped cleanly at height %d", final.height if final else -1)

    def post(self, item: tuple[Any, ...]) -> None:
        self.inbox.put_nowait(item)

    def notify_work(self) -> None:
        if not self._work_queued:
            self._work_queued = True
            self.post(("work",))

    async def _drive(self) -> None:
        """The single writer of consensus and chain state."""
        while True:
            item = await self.inbox.get()
            kind = item[0]
            if kind == "stop":
                return
            position = (self.replica.height, self.replica.view)
            try:
                await self._handle(item)
                self._log_view_change(position)
            except StorageError as exc:
                log.exception("storage failed; stopping the node to protect the chain")
                if isinstance(exc, StorageCorruption):
                    log.error("to fix it: %s", remedy(self.cfg.home))
                raise
            except MarketnodeError as exc:
                log.warning("input %s refused: %s", kind, exc)
            except Exception:
                log.exception("unexpected error handling %s", kind)

    def _log_view_change(self, before: tuple[int, int]) -> None:
        """Say when this replica leaves a view at a height (an operator must see a network changing views),
        and offer its proposable txs to the validators at once."""
        height, view = self.replica.height, self.replica.view
        if height == before[0] and view > before[1]:
            # As PBFT's backups forward a request to the primary: the view may be changing because the
            # primary lacks txs this node holds (it held only txs behind their senders' gaps), so offer
            # every sender's run from its next nonce now rather than at the next re-gossip round.
            heads = self.mempool.regossip_batch(self.mempool.admission_seq, MAX_REGOSSIP, REGOSSIP_HEADS_PER_SENDER)
            for payload in tx_batches(tx.encode() for tx in heads):
                self.p2p.broadcast("txs", payload)
            log.warning("view change at height %d: view %d -> %d (new primary %s); %d txs pending, %d senders "
                        "proposable; last refused message: %s", height, before[1], view,
                        self.replica.config.primary(height, view).hex()[:12], len(self.mempool),
                        self.mempool.proposable_senders(), self.replica.last_rejection)

    async def _want_loop(self) -> None:
        """Pull what push missed: while txs here wait behind nonce gaps, ask peers for the missing txs.

        Gossip is pushed and may be shed under load (docs/P2P.md §5.1); a
        primary holding only gapped txs builds no block. A request travels in
        the urgent lane and names exactly the missing (sender, nonce), so the
        gap fillers arrive in one round trip however busy gossip is.
        """
        turn = 0
        while True:
            await asyncio.sleep(WANT_S)
            gaps = self.mempool.gaps(WANT_MAX_SENDERS)
            peers = [p.pubkey for p in self.p2p.peers()]
            if not gaps or not peers:
                continue
            turn += 1
            peer = peers[turn % len(peers)]
            payload = encode_value([[sender, nonce] for sender, nonce in gaps])
            try:
                raws = decode_value(await self.p2p.request(peer, "txwant", payload, 2.0), self.cfg.p2p.max_frame_bytes)
            except (MarketnodeError, TimeoutError) as exc:
                log.debug("want request to %s failed: %s", peer.hex()[:12], exc)
                continue
            if isinstance(raws, list) and all(isinstance(r, bytes) for r in raws):
                await self._on_gossiped_txs(peer, encode_value(raws))
            else:
                self.p2p.penalize(peer, 10, "want answer is not a list of tx bytes")

    def _serve_want(self, payload: bytes) -> bytes:
        """Answer a peer's want: for each (sender, nonce), our consecutive pending txs from there, bounded."""
        wants = decode_value(payload, 64 * 1024)
        if not isinstance(wants, list) or len(wants) > WANT_MAX_SENDERS:
            raise DecodeError(f"a want is a list of at most {WANT_MAX_SENDERS} [sender, nonce] pairs")
        out: list[bytes] = []
        size = 0
        for item in wants:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], bytes) and isinstance(item[1], int)):
                raise DecodeError("a want names [sender bytes, nonce]")
            for tx in self.mempool.run_from(item[0], item[1], WANT_RUN):
                raw = tx.encode()
                if size + len(raw) > MAX_GOSSIP_BYTES:
                    return encode_value(out)
                out.append(raw)
                size += len(raw)
        return encode_value(out)

    async def _stall_watch(self) -> None:
        """Warn, every STALL_WARN_S, while proposable work waits and no block commits: silence is a bug."""
        while True:
            await asyncio.sleep(STALL_WARN_S)
            idle_s = time.monotonic() - self._last_commit_mono
            if self.mempool.has_proposable() and idle_s >= STALL_WARN_S:
                status = self.replica.status()
                log.warning("no block for %.1f s with %d txs pending (%d senders proposable): height %d, view %d, "
                            "in view change %s, timers %s, syncing %s", idle_s, len(self.mempool),
                            self.mempool.proposable_senders(), status["height"], status["view"],
                            status["in_view_change"], sorted(status["timers"]), self.syncer.syncing)

    async def _handle(self, item: tuple[Any, ...]) -> None:
        kind, now = item[0], now_ms()
        if kind == "msg":
            _, sender, msg = item
            actions = self.replica.receive(sender, msg, now)
        elif kind == "timer":
            self._timers.pop(item[1], None)
            actions = self.replica.on_timer(item[1], now)
        elif kind == "work":
            self._work_queued = False
            actions = self.replica.on_work(now)
        elif kind == "restore":
            _, anchor, state, fut = item
            try:
                self._restore(anchor, state)
            except Exception as exc:
                if not fut.done():
                    fut.set_exception(exc)
                return
            if not fut.done():
                fut.set_result(None)
            return
        elif kind == "synced":
            _, batch, fut = item
            applied = 0
            for block, cert in batch:
                head = self.store.head()
                if head is not None and block.height <= head.height:
                    continue
                before = head.height if head else 0
                self._perform(self.replica.on_synced_block(block, cert, now_ms()))
                after = self.store.head()
                if after is None or after.height == before:
                    break
                applied += 1
            if not fut.done():
                fut.set_result(applied)
            return
        else:
            raise AssertionError(f"unknown inbox item {kind}")
        self._perform(actions)

    def _perform(self, actions: Iterable[Any]) -> None:
        queue = deque(actions)
        while queue:
            action = queue.popleft()
            if isinstance(action, PersistLastSigned):
                self.store.save_last_signed(action.record.encode())
            elif isinstance(action, Broadcast):
                if self.misbehaviour is None or not self.misbehaviour.broadcast(action.msg):
                    self.p2p.broadcast("consensus", encode_message(action.msg))
            elif isinstance(action, SendTo):
                self.p2p.send(action.validator, "consensus", encode_message(action.msg))
            elif isinstance(action, SetTimer):
                self._set_timer(action.name, action.deadline_ms)
            elif isinstance(action, CancelTimer):
                handle = self._timers.pop(action.name, None)
                if handle:
                    handle.cancel()
            elif isinstance(action, CommitBlock):
                executed = self._commit(action.block, action.certificate)
                queue.extend(self.replica.on_executed(executed.block.height, now_ms()))
            elif isinstance(action, RequestBlocks):
                self.syncer.request_now()
            elif isinstance(action, RecordEvidence):
                self._record_evidence(action.evidence)

    def _set_timer(self, name: str, deadline_ms: int) -> None:
        old = self._timers.pop(name, None)
        if old:
            old.cancel()
        delay = max(0.0, (deadline_ms - now_ms()) / 1000)
        self._timers[name] = asyncio.get_running_loop().call_later(delay, self.post, ("timer", name))

    def _commit(self, block: Block, cert: Certificate) -> Executed:
        started = time.perf_counter()
        executed = self.executor.execute(block, cert)
        self.mempool.remove_committed(block.txs)
        self.mempool.recheck(self.app.account_nonce)
        rekeyed = {e.attrs["account"] for r in executed.receipts for e in r.events if e.kind == "authority_set"}
        if rekeyed:
            self.mempool.drop_unsigned(rekeyed, self._still_signed)
        for index, receipt in enumerate(executed.receipts):
            self.waiters.resolve(block.txs[index].hash, (block.height, index, receipt))
        executed_at = time.perf_counter()
        for subscriber in self.subscribers:
            try:
                subscriber(executed)
            except Exception:
                log.exception("a block subscriber failed")
        done = time.perf_counter()
        self.app.budget.on_commit(len(block.txs), (done - started) * 1000)
        self._last_commit_mono = time.monotonic()
        log.info("committed block %d: %d txs, view %d, %.1f ms to execute, %.1f ms for subscribers (index, "
                 "notifications)", block.height, len(block.txs), block.header.view,
                 (executed_at - started) * 1000, (done - executed_at) * 1000)
        if self.mempool.has_proposable():
            self.notify_work()
        return executed

    def _record_evidence(self, evidence: Any) -> None:
        self.evidence.append(evidence)
        self.store.save_evidence(evidence)
        log.warning("equivocation by validator %s at height %d recorded", evidence.first.validator.hex()[:12],
                    evidence.first.height)

    async def _follow(self) -> None:
        """Join from a snapshot when so configured and still at the genesis; then follow blocks."""
        head = self.store.head()
        if self.cfg.sync.mode == "snapshot" and head is not None and head.height == 0:
            self.syncer.syncing = True  # wallets are told the node is catching up (node/intake.py)
            client = StateSyncClient(self.p2p, self.chain_id, self.validators, self.cfg.sync,
                                     self.cfg.p2p.max_frame_bytes, self._post_restore, self.syncer.wake,
                                     fresh=lambda: self.store.head().height == 0)  # type: ignore[union-attr]
            try:
                await client.run()
            except (MarketnodeError, OSError) as exc:  # a failed join must not stop the node: replay instead
                log.error("state sync failed (%s); replaying blocks from the genesis instead", exc)
        await self.syncer.run()

    async def _post_restore(self, anchor: Anchor, state: dict[bytes, bytes]) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.post(("restore", anchor, state, fut))
        await fut

    def _restore(self, anchor: Anchor, state: dict[bytes, bytes]) -> None:
        """Install a verified snapshot as the head (driver task only), and restart consensus from it."""
        head = self.store.restore_snapshot(anchor.block, anchor.certificate, state, anchor.state_root)
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        self.replica = self._make_replica()
        self._block_cache.clear()
        self.mempool.recheck(self.app.account_nonce)
        self.query_index.catch_up(self.store)  # rebuilt from the restored state (node/queries/indexer.py)
        log.info("restored the state after block %d from a snapshot (root %s…); blocks below it are not kept",
                 head.height, head.state_root.hex()[:16])

    async def _deliver_synced(self, batch: list[tuple[Block, Certificate]]) -> int:
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.post(("synced", batch, fut))
        return await fut

    # ---- txs ---------------------------------------------------------------

    def _still_signed(self, tx: Tx) -> bool:
        """Do the tx's signers still hold its sender's authority at the head (after a key change)?"""
        reader = self.store.state_reader()
        try:
            check_signers(reader, tx, load_params(reader))
        except RuleError:
            return False
        return True

    def _market_check(self, tx: Tx, next_nonce: int) -> None:
        check_at_head(self.store, tx, next_nonce)

    def submit_tx(self, raw: bytes, gossip: bool = True, allow_gap: bool = True) -> Tx:
        """Admit a tx from a wallet; raises MempoolError or RuleError with a clear message.

        ``allow_gap=False`` refuses a tx behind a nonce gap (node/mempool.py): the RPC path asks for that
        when the node is loaded (node/intake.py ``gaps_allowed``).
        """
        tx = self.mempool.add(raw, self.app.account_nonce, self._market_check, allow_gap=allow_gap)
        if gossip:
            self._gossip_tx(raw)
        self.notify_work()
        return tx

    def _gossip_tx(self, raw: bytes) -> None:
        self._gossip_buffer.append(raw)
        if len(self._gossip_buffer) >= MAX_GOSSIP_BATCH:
            self._flush_gossip()
        elif self._gossip_flush is None:
            self._gossip_flush = asyncio.get_running_loop().call_later(TX_GOSSIP_FLUSH_S, self._flush_gossip)

    async def _regossip_loop(self) -> None:
        """Offer again, every REGOSSIP_S, txs that have waited a whole period: the ones that unblock blocks first.

        Gossip is sent once; a batch queued on a link that was then cut or
        replaced, or dropped by a peer under load, is gone. A peer that lacks
        one tx of a sender holds that sender's later txs behind a nonce gap,
        so each round re-offers every sender's txs from its next nonce on
        (the gap fillers), then continues through the rest of the pool where
        the last round stopped: gossip converges however large the pool is.
        Peers that hold a tx drop it as a duplicate after one hash.
        """
        before = self.mempool.admission_seq
        history: deque[int] = deque(maxlen=int(GAPPED_TTL_S / REGOSSIP_S))  # admission_seq, one per period
        while True:
            await asyncio.sleep(REGOSSIP_S)
            stale = self.mempool.regossip_batch(before, MAX_REGOSSIP, REGOSSIP_HEADS_PER_SENDER)
            before = self.mempool.admission_seq
            if len(history) == history.maxlen:
                expired = self.mempool.expire_gapped(history[0])
                if expired:
                    log.info("dropped %d txs that waited behind a nonce gap for %.0f s", expired, GAPPED_TTL_S)
            history.append(before)
            for payload in tx_batches(tx.encode() for tx in stale):
                self.p2p.broadcast("txs", payload)

    def _flush_gossip(self) -> None:
        if self._gossip_flush is not None:
            self._gossip_flush.cancel()
            self._gossip_flush = None
        if self._gossip_buffer:
            batch, self._gossip_buffer = self._gossip_buffer, []
            for payload in tx_batches(batch):
                self.p2p.broadcast("txs", payload)

    # ---- p2p callbacks -------------------------------------------------------

    async def _on_p2p_message(self, peer: bytes, topic: str, payload: bytes) -> bool:
        if topic == "consensus":
            try:
                msg = decode_message(payload)
            except DecodeError as exc:
                self.p2p.penalize(peer, 10, f"undecodable consensus message: {exc}")
                return False
            self.post(("msg", peer, msg))
            return True
        if topic == "txs":
            return await self._on_gossiped_txs(peer, payload)
        if topic in self.content.TOPICS:
            try:
                return self.content.on_message(peer, topic, payload)
            except DecodeError as exc:
                self.p2p.penalize(peer, 5, f"bad {topic} message: {exc}")
                return False
        if topic in MAIL_TOPICS:
            return self.mailbox.on_gossip(peer, topic, payload)
        self.p2p.penalize(peer, 5, f"unknown topic {topic!r}")
        return False

    async def _on_gossiped_txs(self, peer: bytes, payload: bytes) -> bool:
        """Admit a peer's tx batch and pass on only the txs this node admitted.

        A peer's batch is never forwarded as it came: a relayer would answer
        for every tx in it, and an honest node would be penalised for another's
        bad tx. Verifying a batch takes milliseconds per hundred txs, so it
        yields to the event loop between slices: consensus votes are not held
        up behind a flood of gossip.
        """
        try:
            raws = decode_value(payload, self.cfg.p2p.max_frame_bytes)
        except DecodeError as exc:
            self.p2p.penalize(peer, 10, f"undecodable tx batch: {exc}")
            return False
        if not isinstance(raws, list) or not all(isinstance(r, bytes) for r in raws):
            self.p2p.penalize(peer, 10, "tx batch is not a list of tx bytes")
            return False
        admitted = 0
        for index, raw in enumerate(raws):
            if index and index % GOSSIP_YIELD_EVERY == 0:
                await asyncio.sleep(0)
            try:
                self.mempool.add(raw, self.app.account_nonce, self._market_check)
            except MempoolError as exc:
                if exc.reason in ("decode", "chain_id", "signature", "too_large"):
                    self.p2p.penalize(peer, 5, f"gossiped an invalid tx: {exc}")
                continue
            except MarketnodeError:
                continue
            admitted += 1
            self._gossip_tx(raw)
        if admitted:
            self.notify_work()
        return admitted > 0

    async def _on_p2p_request(self, peer: bytes, topic: str, payload: bytes) -> bytes:
        if topic == "status":
            return serve_status(self.store)
        if topic == "blocks":
            return serve_blocks(self.store, payload)
        if topic in SNAPSHOT_TOPICS:
            height = self.store.head().height  # type: ignore[union-attr]
            if topic != "snapshot_chunk":  # a manifest is one walk of the state: not on the event loop
                await asyncio.to_thread(self.snapshots.prepare, height)
            return self.snapshots.serve(topic, payload, height)
        if topic == "txwant":
            return self._serve_want(payload)
        if topic in self.content.TOPICS:
            return self.content.serve(payload)
        if topic == SYNC_TOPIC:
            return self.mailbox.serve_sync(payload)
        raise DecodeError(f"unknown request topic {topic!r}")

    async def _on_peer_event(self, peer: bytes, connected: bool) -> None:
        if connected:
            self.syncer.request_now()
            self.content.fetcher.peer_joined()
            self._offer_pending_txs(peer)
            self.mailbox.offer_to(peer)

    def _offer_pending_txs(self, peer: bytes) -> None:
        """Send a new peer our pending txs: one admitted while we had no peers would otherwise never spread."""
        for payload in tx_batches(tx.encode() for tx in self.mempool):
            self.p2p.send(peer, "txs", payload)

    # ---- reads -------------------------------------------------------------

    def cached_block(self, height: int) -> Block | None:
        """Committed blocks never change, so RPC reads of recent ones share one decode."""
        block = self._block_cache.get(height)
        if block is None:
            block = self.store.get_block(height)
            if block is None:
                return None
            self._block_cache[height] = block
            while len(self._block_cache) > BLOCK_CACHE_SIZE:
                self._block_cache.popitem(last=False)
        else:
            self._block_cache.move_to_end(height)
        return block

    # ---- status ------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        head = self.store.head()
        assert head is not None
        return {
            "chain_id": self.chain_id,
            "node_id": self.key.public_key.hex(),
            "moniker": self.cfg.moniker,
            "height": head.height,
            "head_hash": head.block_hash.hex(),
            "state_root": head.state_root.hex(),
            "head_time_ms": head.timestamp_ms,
            "view": self.replica.view,
            "primary": self.replica.config.primary(head.height + 1, self.replica.view).hex(),
            "is_validator": self.is_validator,
            "peers": len(self.p2p.peers()),
            "syncing": self.syncer.syncing,
            "sync_target": self.syncer.target,
            "mempool_size": len(self.mempool),
            "uptime_s": (now_ms() - self.started_ms) // 1000,
        }


def _first_marketnode_error(group: BaseExceptionGroup) -> MarketnodeError | None:
    for exc in group.exceptions:
        found = _first_marketnode_error(exc) if isinstance(exc, BaseExceptionGroup) else exc
        if isinstance(found, MarketnodeError):
            return found
    return None


def run_node(cfg: NodeConfig, misbehave: MisbehaviourFactory | None = None) -> None:
    """Run until SIGINT/SIGTERM, then stop accepting, finish the block in hand and close LevelDB."""

    async def main() -> None:
        node = Node(cfg, misbehave=misbehave)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await node.run(stop)

    profile_dir = os.environ.get("MARKETNODE_PROFILE_DIR")
    if not profile_dir:
        try:
            asyncio.run(main())
        except BaseExceptionGroup as group:  # the TaskGroup wraps what stopped it: surface our own error
            error = _first_marketnode_error(group)
            if error is None:
                raise
            raise error from group
        return
    import cProfile  # profiling for `marketnode bench`; see docs/BENCHMARKS.md

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        asyncio.run(main())
    finally:
        profiler.disable()
        profiler.dump_stats(os.path.join(profile_dir, f"{cfg.moniker}.prof"))
