"""What a node reads from its home before it can run: genesis, the chain on disk, where consensus resumes.

The functions that read do so on purpose, so that ``Node.__init__`` need not:
``Node.open`` calls them in order and hands the results to the constructor.
"""

from __future__ import annotations

import logging

from marketnode.consensus.records import Head as ReplicaHead
from marketnode.consensus.records import LastSigned
from marketnode.consensus.replica import RECENT_BLOCKS, Replica, ReplicaConfig
from marketnode.core.errors import ConsensusError, DecodeError, StorageCorruption, StorageError
from marketnode.core.keys import PrivateKey
from marketnode.core.textfile import read_text
from marketnode.market.engine import init_genesis
from marketnode.market.genesis import Genesis
from marketnode.market.state import StateOverlay
from marketnode.node.chain.app import ChainApplication
from marketnode.node.config import NodeConfig
from marketnode.node.datadir import remedy
from marketnode.node.mailbox.service import MAIL_TOPICS
from marketnode.node.mempool.gossip import TOPIC as TX_TOPIC
from marketnode.node.mempool.pool import MempoolLimits
from marketnode.node.storage.chainstore import ChainStore
from marketnode.p2p.config import P2PConfig

log = logging.getLogger("marketnode.node")


def load_genesis(cfg: NodeConfig) -> Genesis:
    return Genesis.from_json(read_text(cfg.genesis_path, "genesis"))


def validates(cfg: NodeConfig, key: PrivateKey, genesis: Genesis) -> bool:
    """Does this node vote? Only when configured to and its key is in the genesis validator set."""
    return cfg.validator and key.public_key in {v.public_key for v in genesis.validators}


def ensure_genesis(cfg: NodeConfig, genesis: Genesis, store: ChainStore) -> None:
    """Write the genesis state into an empty store; refuse a store that holds another chain."""
    genesis_hash = genesis.hash
    stored = store.genesis_hash()
    if stored is not None:
        if stored != genesis_hash:
            raise StorageError(
                f"{cfg.data_path} holds the chain with genesis {stored.hex()[:16]}… but "
                f"{cfg.genesis_path} hashes to {genesis_hash.hex()[:16]}…: if that file was changed, "
                "restore it; if the data belongs to another chain, use another data directory")
        return
    overlay = StateOverlay(store.state_reader())
    init_genesis(overlay, genesis)
    store.init_genesis(genesis_hash, overlay.changes(), genesis.genesis_time_ms)
    log.info("wrote genesis %s for chain %s", genesis_hash.hex()[:16], genesis.chain_id)


def replica_head(store: ChainStore) -> ReplicaHead:
    head = store.head()
    assert head is not None, "open_checked wrote or verified the genesis"
    if head.height == 0:
        return ReplicaHead(0, head.block_hash, head.timestamp_ms, None, 0)
    block = store.get_block(head.height)
    assert block is not None, "verify_head checked the head block is stored"
    return ReplicaHead(head.height, head.block_hash, head.timestamp_ms, store.get_certificate(head.height),
                       block.header.view)


def make_replica(cfg: NodeConfig, genesis: Genesis, store: ChainStore, app: ChainApplication,
                 key: PrivateKey | None) -> Replica:
    """The replica resumed from the stored head and the validator's last-signed record (``key`` None: observer).

    A damaged last-signed record is never guessed: signing without it could
    contradict an earlier vote, so the node refuses to start and says how to recover.
    """
    c = cfg.consensus
    config = ReplicaConfig(
        chain_id=genesis.chain_id, validators=tuple(v.public_key for v in genesis.validators),
        base_timeout_ms=c.base_timeout_ms, max_block_txs=c.max_block_txs, max_block_bytes=c.max_block_bytes,
        max_clock_skew_ms=c.max_clock_skew_ms, rotate_every=c.rotate_every,
    )
    raw = store.load_last_signed()
    try:
        last_signed = LastSigned.decode(raw) if raw else None
    except (DecodeError, ConsensusError) as exc:
        raise StorageCorruption(
            f"the validator's last-signed record (double-sign guard) in {cfg.data_path} is damaged: {exc}. "
            f"To fix it: {remedy(cfg.home)}, with validator = false in config.toml until it has caught up "
            "past the height it last voted on (docs/OPERATIONS.md, 'A damaged database')"
        ) from exc
    head = replica_head(store)
    # The blocks' times before the head (genesis's own time counts), so that a restarted replica paces
    # its view timeouts exactly like one that never stopped.
    times = [genesis.genesis_time_ms] + [
        block.header.timestamp_ms
        for block in map(store.get_block, range(max(1, head.height - RECENT_BLOCKS), head.height))
        if block is not None
    ]
    times = times[-RECENT_BLOCKS:] if head.height > 0 else []
    try:
        return Replica(config, key, app, head, last_signed, tuple(times))
    except StorageCorruption as exc:  # the recent blocks it reads were not in the start-up check's walk
        if remedy(cfg.home) in str(exc):
            raise
        raise StorageCorruption(f"{exc}. To fix it: {remedy(cfg.home)}") from exc


def mempool_limits(cfg: NodeConfig) -> MempoolLimits:
    m = cfg.mempool
    return MempoolLimits(max_txs=m.max_txs, max_bytes=m.max_bytes, max_tx_bytes=m.max_tx_bytes,
                         max_per_sender=m.max_per_sender, max_gapped=m.max_gapped, min_fee=m.min_fee)


def p2p_config(cfg: NodeConfig, chain_id: str, validators: list[bytes]) -> P2PConfig:
    p = cfg.p2p
    return P2PConfig(
        chain_id=chain_id, listen_host=p.listen_host, listen_port=p.listen_port,
        advertise_address=p.advertise_address or None, seeds=p.seeds, max_peers=p.max_peers,
        max_inbound=p.max_inbound, max_outbound=p.max_outbound,
        max_inbound_per_ip=p.max_inbound_per_ip, max_inbound_per_subnet=p.max_inbound_per_subnet,
        ip_limit_loopback=p.ip_limit_loopback, max_handshakes=p.max_handshakes,
        max_handshakes_per_ip=p.max_handshakes_per_ip, max_pending_connections=p.max_pending_connections,
        idle_timeout_s=float(p.idle_timeout_s),
        reserved_keys=tuple(validators),  # the validator set always reaches itself
        max_frame_bytes=p.max_frame_bytes, relay_topics=MAIL_TOPICS, bulk_topics=(TX_TOPIC,),
        rate_msgs_per_s=5000.0, send_queue_max=10_000)
