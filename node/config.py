"""Node configuration: one TOML file per node home, validated on load.

A home directory holds ``config.toml`` and ``node_key`` (both mode 0600:
the config holds the admin token),
``genesis.json`` and ``data/`` (LevelDB). Relative paths in the config are
relative to the home. Every limit the node enforces is set here.
"""

from __future__ import annotations

import os
import secrets
import stat
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from marketnode.core.errors import ConfigError
from marketnode.core.keys import write_secret_file
from marketnode.core.textfile import read_text

CONFIG_FILE = "config.toml"


@dataclass(frozen=True)
class P2PSection:
    listen_host: str = "127.0.0.1"
    listen_port: int = 26656
    advertise_address: str = ""
    seeds: tuple[str, ...] = ()
    max_peers: int = 50
    max_inbound: int = 40
    max_outbound: int = 10
    max_inbound_per_ip: int = 4
    max_inbound_per_subnet: int = 8
    ip_limit_loopback: bool = False
    max_handshakes: int = 32
    max_handshakes_per_ip: int = 8
    max_pending_connections: int = 256
    idle_timeout_s: int = 120
    max_frame_bytes: int = 16 * 1024 * 1024


@dataclass(frozen=True)
class RpcSection:
    listen_host: str = "127.0.0.1"
    listen_port: int = 26657
    admin_token: str = ""
    enable_faucet: bool = False
    max_body_bytes: int = 4 * 1024 * 1024
    max_batch: int = 1000
    max_connections: int = 256
    max_ws_subscriptions: int = 64
    requests_per_s: int = 2000
    # Per client address below the global caps; timeouts; reply sizes (node.rpc.limits.RpcLimits, docs/OPERATIONS.md).
    max_requests_per_client: int = 32
    max_open_connections: int = 1024
    max_connections_per_client: int = 64
    max_ws_connections: int = 256
    max_ws_per_client: int = 16
    max_subscriptions_per_client: int = 256
    idle_timeout_s: int = 15
    body_timeout_s: int = 10
    send_timeout_s: int = 60
    ws_idle_timeout_s: int = 60
    max_response_bytes: int = 16 * 1024 * 1024
    max_batch_response_bytes: int = 8 * 1024 * 1024
    batches_at_once: int = 2
    ws_queue_bytes: int = 16 * 1024 * 1024
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()


@dataclass(frozen=True)
class MempoolSection:
    max_txs: int = 50_000
    max_bytes: int = 64 * 1024 * 1024
    max_tx_bytes: int = 64 * 1024
    max_per_sender: int = 1000
    max_gapped: int = 10000
    min_fee: int = 0
    max_pending_ms: int = 2000
    min_commit_tps: int = 500
    floor_commit_tps: int = 200
    journal_file: str = "mempool.journal"


@dataclass(frozen=True)
class ConsensusSection:
    base_timeout_ms: int = 2000
    max_block_txs: int = 5000
    max_block_bytes: int = 8 * 1024 * 1024
    max_clock_skew_ms: int = 5000
    rotate_every: int = 100
    propose_delay_ms: int = 20
    block_budget_ms: int = 300


@dataclass(frozen=True)
class StorageSection:
    state_versions: int = 100
    index_idle_ms: int = 250  # the query index follows commits this much later (0: in the commit itself)
    index_max_lag_blocks: int = 32  # ... but never more than this many blocks behind


@dataclass(frozen=True)
class SyncSection:
    """How a fresh node joins, and the snapshots a node offers (node/snapshot, docs/OPERATIONS.md "State sync")."""

    mode: str = "replay"  # "snapshot": restore the state from peers' snapshots, then follow blocks
    snapshot_interval: int = 10  # offer the state after every K-th block; 0 = offer none
    snapshots_kept: int = 2
    chunk_bytes: int = 1024 * 1024  # the size a served chunk is cut to
    max_chunk_bytes: int = 4 * 1024 * 1024  # a fetched chunk larger than this is refused
    max_chunks: int = 4096  # a manifest naming more chunks is refused
    max_chunk_attempts: int = 5  # fetches of one chunk before a snapshot is given up
    request_timeout_s: int = 10
    discovery_s: int = 10  # no snapshot offered this long after a peer answered: replay from the genesis


@dataclass(frozen=True)
class ContentSection:
    """The content store's limits (node/content, docs/OPERATIONS.md "Content store")."""

    max_image_bytes: int = 2 * 1024 * 1024
    max_text_bytes: int = 16 * 1024
    max_image_pixels: int = 25_000_000  # width x height; a larger image is refused as a decompression bomb
    auth_window_ms: int = 300_000  # an upload's signed time may be this far from the node's clock
    unreferenced_ttl_s: int = 86_400  # an upload no committed tx references is deleted after this long
    account_pending_bytes: int = 32 * 1024 * 1024  # unreferenced uploads one account may hold on this node
    account_pending_blobs: int = 200
    account_uploads_per_minute: int = 60
    total_pending_bytes: int = 1024 * 1024 * 1024  # unreferenced uploads of all accounts together
    fetch_concurrency: int = 4  # blobs fetched from peers at once
    fetch_timeout_s: int = 20
    max_wanted: int = 100_000  # referenced blobs waiting to be fetched
    thumbnail_cache_bytes: int = 32 * 1024 * 1024
    max_downloads: int = 64  # GET /content requests served at once, all clients together
    max_downloads_per_client: int = 8  # ... and from one client address (HTTP 429 beyond)


@dataclass(frozen=True)
class MailboxSection:
    """Encrypted messages kept and forwarded for accounts (docs/OPERATIONS.md, "Mailboxes")."""

    max_envelope_bytes: int = 8192
    max_messages_per_mailbox: int = 1000
    max_bytes_per_mailbox: int = 4 * 1024 * 1024
    max_per_pair: int = 100
    sender_per_minute: int = 20
    retention_s: int = 30 * 24 * 3600
    max_clock_skew_ms: int = 300_000
    accept_per_s: int = 200
    offer_on_connect: int = 500


@dataclass(frozen=True)
class LogSection:
    level: str = "info"
    format: str = "plain"


@dataclass(frozen=True)
class NodeConfig:
    """Everything a node needs to run, read from ``<home>/config.toml``."""

    home: Path
    moniker: str = "node"
    key_file: str = "node_key"
    genesis_file: str = "genesis.json"
    data_dir: str = "data"
    validator: bool = True
    p2p: P2PSection = field(default_factory=P2PSection)
    rpc: RpcSection = field(default_factory=RpcSection)
    mempool: MempoolSection = field(default_factory=MempoolSection)
    consensus: ConsensusSection = field(default_factory=ConsensusSection)
    content: ContentSection = field(default_factory=ContentSection)
    storage: StorageSection = field(default_factory=StorageSection)
    sync: SyncSection = field(default_factory=SyncSection)
    mailbox: MailboxSection = field(default_factory=MailboxSection)
    log: LogSection = field(default_factory=LogSection)

    def path(self, name: str) -> Path:
        p = Path(name)
        return p if p.is_absolute() else self.home / p

    @property
    def key_path(self) -> Path:
        return self.path(self.key_file)

    @property
    def genesis_path(self) -> Path:
        return self.path(self.genesis_file)

    @property
    def data_path(self) -> Path:
        return self.path(self.data_dir)


_SECTIONS = {"p2p": P2PSection, "rpc": RpcSection, "mempool": MempoolSection, "consensus": ConsensusSection,
             "storage": StorageSection, "sync": SyncSection, "content": ContentSection, "mailbox": MailboxSection, "log": LogSection}


def _build_section(cls: type, raw: dict[str, Any], where: str) -> Any:
    known = {f.name: f for f in fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{where}: unknown setting {key!r} (known: {', '.join(sorted(known))})")
        default = known[key].default
        if isinstance(default, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}.{key}: expected a list of strings")
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}.{key}: expected true or false")
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{where}.{key}: expected a non-negative integer")
        elif isinstance(default, str) and not isinstance(value, str):
            raise ConfigError(f"{where}.{key}: expected a string")
        values[key] = value
    return cls(**values)


def load_config(home: Path) -> NodeConfig:
    """Read and validate ``<home>/config.toml``; errors name the bad setting."""
    home = Path(home).resolve()
    path = home / CONFIG_FILE
    text = read_text(path, "config", f"no config at {path}: run `marketnode init --home {home}` first")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    top: dict[str, Any] = {}
    sections: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{path}: [{key}] must be a table")
            sections[key] = _build_section(_SECTIONS[key], value, key)
        else:
            top[key] = value
    base = _build_section(_TopLevel, top, "config")
    cfg = NodeConfig(home=home, **{f.name: getattr(base, f.name) for f in fields(_TopLevel)}, **sections)
    if cfg.log.level not in ("debug", "info", "warning", "error"):
        raise ConfigError("log.level: expected debug, info, warning or error")
    if cfg.log.format not in ("plain", "json"):
        raise ConfigError("log.format: expected plain or json")
    upload_bytes = 4 * ((cfg.content.max_image_bytes + 2) // 3) + 4096  # base64 of the largest image, and the call
    if upload_bytes > cfg.rpc.max_body_bytes:
        raise ConfigError(f"content.max_image_bytes = {cfg.content.max_image_bytes} needs rpc.max_body_bytes of at least "
                          f"{upload_bytes} (content_put carries the image in base64); raise it or lower the image limit")
    if cfg.storage.state_versions < 2:
        raise ConfigError("storage.state_versions: expected at least 2 (the head's state and the one its header proves)")
    _check_sync(cfg.sync)
    if cfg.storage.index_idle_ms < 0 or cfg.storage.index_max_lag_blocks < 1:
        raise ConfigError("storage.index_idle_ms: expected 0 or more; storage.index_max_lag_blocks: at least 1")
    if cfg.mempool.floor_commit_tps < 1:
        raise ConfigError("mempool.floor_commit_tps: expected at least 1 (the least a measured commit rate counts as)")
    if cfg.mempool.min_commit_tps < 1:
        raise ConfigError("mempool.min_commit_tps: expected at least 1 (the commit rate assumed before one is measured)")
    return cfg


def _check_sync(sync: SyncSection) -> None:
    if sync.mode not in ("replay", "snapshot"):
        raise ConfigError(f"sync.mode: expected \"replay\" or \"snapshot\", got {sync.mode!r}")
    for name in ("chunk_bytes", "max_chunk_bytes", "max_chunks", "max_chunk_attempts", "request_timeout_s"):
        if getattr(sync, name) < 1:
            raise ConfigError(f"sync.{name}: expected at least 1")
    if sync.snapshot_interval < 0 or sync.snapshots_kept < 0 or sync.discovery_s < 0:
        raise ConfigError("sync.snapshot_interval, snapshots_kept and discovery_s: expected 0 or more")


@dataclass(frozen=True)
class _TopLevel:
    moniker: str = "node"
    key_file: str = "node_key"
    genesis_file: str = "genesis.json"
    data_dir: str = "data"
    validator: bool = True


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


_COMMENTS = {
    "moniker": "a name for logs and peers' tables",
    "validator": "false = observer: follows the chain and serves wallets, never votes",
    "listen_host": "0.0.0.0 to accept connections from other hosts",
    "advertise_address": "host:port other nodes should dial (empty: listen address)",
    "seeds": 'peers to dial: "host:port" or "pubkeyhex@host:port" (pins the key)',
    "max_peers": "links in all; validators and seeds always get a slot (a stranger is evicted)",
    "max_inbound_per_subnet": "per IPv4 /24 or IPv6 /64",
    "ip_limit_loopback": "apply the per-IP caps to loopback too (a local testnet shares one address)",
    "idle_timeout_s": "close a stranger that sends nothing this long",
    "admin_token": "bearer token for admin methods; empty disables them",
    "enable_faucet": "dev_faucet RPC method (testnets only)",
    "base_timeout_ms": "view-change timeout; doubles with each failed view",
    "rotate_every": "force a new primary every K blocks",
    "max_gapped": "txs waiting behind a nonce gap, in all (they are not work; beyond it such txs are refused)",
    "min_fee": "smallest fee this node admits to its mempool",
    "max_pending_ms": "refuse wallet txs (busy, retry_after_ms) beyond this much backlog; 0 = off",
    "min_commit_tps": "commit rate assumed before one is measured",
    "floor_commit_tps": "the least a measured commit rate counts as (at most min_commit_tps)",
    "journal_file": "wallet txs fsync'd here before tx_send answers; empty = off",
    "allowed_hosts": "Host names browsers may use besides IP literals and localhost (DNS rebinding); \"*\" = any",
    "allowed_origins": "web origins besides the node's own pages that may call the RPC; \"*\" = any",
    "format": "plain or json",
    "max_image_pixels": "width x height; more is refused as a decompression bomb",
    "unreferenced_ttl_s": "an upload no committed tx references is deleted after this",
    "account_pending_bytes": "unreferenced upload bytes one account may hold here",
    "total_pending_bytes": "unreferenced upload bytes of all accounts together",
    "max_downloads_per_client": "GET /content requests from one client at once (HTTP 429 beyond)",
    "state_versions": "heights whose state stays provable (state_getProof); older tree nodes are pruned",
    "mode": '"replay" (every block since the genesis) or "snapshot" (a fresh node restores peers\' state)',
    "snapshot_interval": "offer the state after every K-th block to joining nodes; 0 = none",
    "max_chunk_bytes": "a snapshot chunk from a peer above this is refused (and the peer penalised)",
    "discovery_s": "with no snapshot offered this long, a snapshot-mode node replays from the genesis",
    "index_idle_ms": "the query index follows commits this much later, off the commit path (0 = at once)",
    "index_max_lag_blocks": "... but never more than this many blocks behind (reads always catch it up first)",
    "max_per_pair": "messages from one sender waiting in one mailbox",
    "sender_per_minute": "messages one account may send per minute of their sent time",
    "offer_on_connect": "latest messages a peer met for the first time pulls; read markers kept for peers",
}


def render_config(cfg: NodeConfig) -> str:
    """The TOML text for ``cfg``, with a comment on the settings people change."""
    lines = ["# marketnode node config. Paths are relative to this file's directory.", ""]
    for f in fields(_TopLevel):
        lines.append(_line(f.name, getattr(cfg, f.name)))
    for name in _SECTIONS:
        section = getattr(cfg, name)
        lines += ["", f"[{name}]"]
        for f in fields(section):
            lines.append(_line(f.name, getattr(section, f.name)))
    return "\n".join(lines) + "\n"


def _line(name: str, value: Any) -> str:
    line = f"{name} = {_toml_value(value)}"
    comment = _COMMENTS.get(name)
    return f"{line:<44} # {comment}" if comment else line


def new_admin_token() -> str:
    return secrets.token_hex(16)


def write_config(cfg: NodeConfig) -> Path:
    """Write ``<home>/config.toml`` for ``cfg``, mode 0600 from the start: it holds ``rpc.admin_token``."""
    path = cfg.home / CONFIG_FILE
    write_secret_file(path, render_config(cfg).encode())
    return path


def tighten_config_mode(home: Path) -> str | None:
    """Make an existing ``config.toml`` owner-only (0600); a warning saying what was wrong, or None if nothing was."""
    path = Path(home) / CONFIG_FILE
    mode = stat.S_IMODE(path.stat().st_mode)
    if not mode & 0o077:
        return None
    try:
        os.chmod(path, mode & 0o700)
    except OSError as exc:
        return (f"{path} is readable by other users (mode {mode:04o}) and could not be changed ({exc.strerror}); "
                "it holds rpc.admin_token: run chmod 600 on it")
    return f"{path} was readable by other users (mode {mode:04o}); now {mode & 0o700:04o}: it holds rpc.admin_token"
