"""The Node: the composition root that wires storage, mempool, consensus, p2p, sync and RPC.

It owns no logic of its own beyond wiring and routing. The consensus driver
(node/chain/driver.py) is the single writer of consensus and chain state; tx
gossip (node/mempool/gossip.py) spreads and repairs the pool; the services (query
index, content, mailbox, RPC) read the node through the Protocols of
node/boundary.py. ``Node.open`` does the I/O (key, genesis, the data
directory, the services' stores); the constructor only wires; ``run`` runs
every task under one TaskGroup and closes everything in reverse on the way out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from marketnode.consensus.replica import Replica
from marketnode.core.errors import MarketnodeError, RuleError
from marketnode.core.keys import PrivateKey
from marketnode.core.types import Block, Tx
from marketnode.market.authority import check_signers
from marketnode.market.engine import load_params
from marketnode.market.genesis import Genesis
from marketnode.node.api.wiring import attach_query_services
from marketnode.node.chain.app import ChainApplication
from marketnode.node.chain.driver import (
    BroadcastFilter,
    CommitWaiters,
    ConsensusDriver,
    DriverHooks,
    Stop,
)
from marketnode.node.chain.executor import BlockExecutor, Executed
from marketnode.node.chain.sync import Syncer
from marketnode.node.clock import now_ms
from marketnode.node.config import NodeConfig
from marketnode.node.content.service import ContentService
from marketnode.node.datadir import open_checked
from marketnode.node.mailbox.service import MailboxService, attach_mailbox
from marketnode.node.mempool.gossip import TxGossip
from marketnode.node.mempool.intake import TxIntake
from marketnode.node.mempool.pool import Mempool
from marketnode.node.mempool.rules import check_at_head
from marketnode.node.p2p_routes import on_message, on_peer_event, on_request
from marketnode.node.queries.follower import IndexFollower
from marketnode.node.queries.indexer import QueryIndex
from marketnode.node.rpc.server import RpcServer
from marketnode.node.rpc_service import start_rpc, subscription_hub
from marketnode.node.serving import serve
from marketnode.node.snapshot.client import StateSyncClient
from marketnode.node.snapshot.offers import SnapshotOffers
from marketnode.node.startup import ensure_genesis, load_genesis, make_replica, mempool_limits, p2p_config, validates
from marketnode.node.storage.block_cache import BlockCache
from marketnode.node.storage.chainstore import ChainStore
from marketnode.node.storage.level import LevelKV
from marketnode.p2p.host import P2PHost

log = logging.getLogger("marketnode.node")

# Builds a BroadcastFilter from the node's key, the validator set and its transport; the CLI passes one for
# `run --byzantine`, so production code never imports the test behaviours.
MisbehaviourFactory = Callable[[PrivateKey, list[bytes], P2PHost], BroadcastFilter]


class Node:
    """One marketnode process: validator or observer."""

    syncer: Syncer  # built after the driver it feeds, which wakes it
    # The services with stores of their own, opened by Node.open once the node is wired (_open_services).
    query_index: QueryIndex
    query_follower: IndexFollower
    intake: TxIntake
    content: ContentService
    mailbox: MailboxService

    @classmethod
    def open(cls, cfg: NodeConfig, *, misbehave: MisbehaviourFactory | None = None) -> Node:
        """Open the node's home: key, genesis, the checked chain, then the services' own stores.

        Raises ConfigError or StorageError (with the remedy) when the home is
        not usable; the database is closed again before the error leaves.
        """
        key = PrivateKey.load(cfg.key_path)
        genesis = load_genesis(cfg)
        is_validator = validates(cfg, key, genesis)
        cfg.data_path.mkdir(parents=True, exist_ok=True)
        kv, store, _ = open_checked(cfg.data_path, cfg.home, partial(ensure_genesis, cfg, genesis),
                                    recover=not is_validator)
        try:
            mempool = Mempool(mempool_limits(cfg), genesis.chain_id)
            app = ChainApplication(store, mempool, cfg.mempool.max_tx_bytes, cfg.consensus.block_budget_ms)
            replica = make_replica(cfg, genesis, store, app, key if is_validator else None)  # reads the head
            node = cls(cfg, key, genesis, kv, store, app, replica, misbehave=misbehave)
            node._open_services()
        except BaseException:
            store.close()  # the node will not start: release the database lock
            raise
        return node

    def __init__(self, cfg: NodeConfig, key: PrivateKey, genesis: Genesis, kv: LevelKV, store: ChainStore,
                 app: ChainApplication, replica: Replica, *, misbehave: MisbehaviourFactory | None = None) -> None:
        """Wire the components around an open store and a resumed replica: no I/O (Node.open does it)."""
        self.cfg, self.key, self.genesis, self.kv, self.store = cfg, key, genesis, kv, store
        self.chain_id = genesis.chain_id
        self.validators = [v.public_key for v in genesis.validators]
        self.is_validator = validates(cfg, key, genesis)
        store.versions_kept = cfg.storage.state_versions
        self.app, self.mempool = app, app.mempool
        self.executor = BlockExecutor(store, self.chain_id)
        self.p2p = P2PHost(p2p_config(cfg, self.chain_id, self.validators), key, partial(on_message, self),
                           partial(on_request, self), partial(on_peer_event, self))
        self.gossip = TxGossip(self.mempool, self.p2p, self._admit_gossiped, self.notify_work, cfg.p2p.max_frame_bytes)
        self.waiters = CommitWaiters()
        s = cfg.sync  # state sync: the snapshots this node offers, and whether it joins from one (node/snapshot)
        self.snapshots = SnapshotOffers(kv, s.snapshot_interval, s.snapshots_kept, s.chunk_bytes)
        self.subscribers: list[Callable[[Executed], None]] = [
            lambda e: self.snapshots.on_commit(e.head.height, e.head.state_root)]
        resume = partial(make_replica, cfg, genesis, store, app, key if self.is_validator else None)  # after a restore
        hooks = DriverHooks(request_blocks=lambda: self.syncer.request_now(), offer_heads=self.gossip.offer_heads,
                            syncing=lambda: self.syncer.syncing, still_signed=self._still_signed,
                            on_restored=self._on_restored)
        self.driver = ConsensusDriver(replica, resume, store, self.executor, self.mempool, self.app, self.p2p,
                                      hooks, self.subscribers, self.waiters, cfg.home,
                                      misbehave(key, self.validators, self.p2p) if misbehave else None)
        self.syncer = Syncer(self.p2p, store, self.driver.apply_synced, cfg.p2p.max_frame_bytes)
        self.started_ms = now_ms()
        self.block_cache = BlockCache(store)
        self.rpc: RpcServer | None = None
        self.hub = subscription_hub(cfg.rpc)  # websocket subscriptions: fed by blocks and the mailbox, served by RPC

    def _open_services(self) -> None:
        """The services with stores of their own: the query index (SQLite), the content store, the mailbox."""
        # SQLite query index + websocket notifications
        self.query_index, self.query_follower = attach_query_services(self.cfg, self.store, self, self.hub)
        # Wallet txs: overload bound and mempool journal.
        self.intake = TxIntake(self.cfg, self.mempool, catching_up=lambda: self.syncer.syncing,
                               account_nonce=self.app.account_nonce)
        self.subscribers.append(self.intake.on_block)
        self.content = ContentService(self, now_ms)  # blobs the chain references, served and fetched (node/content)
        self.mailbox = attach_mailbox(self, now_ms, self.hub)  # encrypted messages: node/mailbox/service.py

    # ---- run ---------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set (or a task fails): p2p, RPC and every loop are tasks of one TaskGroup.

        On the way out RPC stops first (no new calls), the driver finishes the
        event in hand, then every other task is cancelled and, once the group
        has exited, the stores close.
        """
        clean = False
        try:
            async with asyncio.TaskGroup() as tg:
                p2p_up: asyncio.Future[P2PHost] = asyncio.get_running_loop().create_future()
                tasks: list[asyncio.Task[Any]] = [tg.create_task(serve(self._start_p2p, P2PHost.stop, p2p_up))]
                await p2p_up
                self.intake.replay(self.submit_tx)  # before RPC: what was acknowledged before a crash goes back in
                rpc_up: asyncio.Future[RpcServer] = asyncio.get_running_loop().create_future()
                rpc = tg.create_task(serve(partial(start_rpc, self, self.hub), RpcServer.stop, rpc_up))
                self.rpc = await rpc_up
                head = self.store.head()
                log.info("node %s (%s) up: chain %s, height %d, p2p %s, rpc %s", self.key.public_key.hex()[:12],
                         "validator" if self.is_validator else "observer", self.chain_id,
                         head.height if head else -1, self.p2p.listen_address, self.rpc.url)
                driver = tg.create_task(self.driver.run())
                for loop in (self._follow(), self.gossip.regossip_loop(), self.gossip.want_loop(), self.intake.run(),
                             self.driver.stall_watch(), self.content.run(), self.mailbox.run()):
                    tasks.append(tg.create_task(loop))
                self.driver.notify_work()
                stopping = tg.create_task(stop.wait())
                tasks.append(stopping)
                await asyncio.wait([driver, stopping], return_when=asyncio.FIRST_COMPLETED)
                log.info("shutting down: no new RPC calls; finishing the block in hand")
                rpc.cancel()
                await asyncio.wait([rpc])
                self.rpc = None
                self.driver.post(Stop())
                await driver
                for task in tasks:
                    task.cancel()
            clean = True
        finally:
            self.rpc = None
            final = self.store.head()
            self.close()
            if clean:
                log.info("stopped cleanly at height %d", final.height if final else -1)

    async def _start_p2p(self) -> P2PHost:
        await self.p2p.start()
        return self.p2p

    def close(self) -> None:
        """Close every store the node opened (``run`` does this on the way out; a node never run calls it)."""
        self.driver.cancel_timers()
        self.query_follower.close()
        self.query_index.close()
        self.snapshots.close()
        self.mailbox.close()
        self.intake.close()
        self.store.close()

    def notify_work(self) -> None:
        self.driver.notify_work()

    async def _follow(self) -> None:
        """Join from a snapshot when so configured and still at the genesis; then follow blocks."""
        head = self.store.head()
        if self.cfg.sync.mode == "snapshot" and head is not None and head.height == 0:
            self.syncer.syncing = True  # wallets are told the node is catching up (node/mempool/intake.py)
            client = StateSyncClient(self.p2p, self.chain_id, self.validators, self.cfg.sync,
                                     self.cfg.p2p.max_frame_bytes, self.driver.restore, self.syncer.wake,
                                     fresh=lambda: self.store.head().height == 0)  # type: ignore[union-attr]
            try:
                await client.run()
            except (MarketnodeError, OSError) as exc:  # a failed join must not stop the node: replay instead
                log.error("state sync failed (%s); replaying blocks from the genesis instead", exc)
        await self.syncer.run()

    def _on_restored(self) -> None:
        self.block_cache.clear()
        self.query_index.catch_up(self.store)  # rebuilt from the restored state (node/queries/indexer.py)

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

        ``allow_gap=False`` refuses a tx behind a nonce gap (node/mempool/pool.py): the RPC path asks for that
        when the node is loaded (node/mempool/intake.py ``gaps_allowed``).
        """
        tx = self.mempool.add(raw, self.app.account_nonce, self._market_check, allow_gap=allow_gap)
        if gossip:
            self.gossip.publish(raw)
        self.notify_work()
        return tx

    def _admit_gossiped(self, raw: bytes) -> Tx:
        return self.mempool.add(raw, self.app.account_nonce, self._market_check)

    # ---- reads -------------------------------------------------------------

    def cached_block(self, height: int) -> Block | None:
        return self.block_cache.get(height)

    def status(self) -> dict[str, Any]:
        head = self.store.head()
        assert head is not None
        replica = self.driver.replica
        return {
            "chain_id": self.chain_id,
            "node_id": self.key.public_key.hex(),
            "moniker": self.cfg.moniker,
            "height": head.height,
            "head_hash": head.block_hash.hex(),
            "state_root": head.state_root.hex(),
            "head_time_ms": head.timestamp_ms,
            "view": replica.view,
            "primary": replica.config.primary(head.height + 1, replica.view).hex(),
            "is_validator": self.is_validator,
            "peers": len(self.p2p.peers()),
            "syncing": self.syncer.syncing,
            "sync_target": self.syncer.target,
            "mempool_size": len(self.mempool),
            "uptime_s": (now_ms() - self.started_ms) // 1000,
        }
