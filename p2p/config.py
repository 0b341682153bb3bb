"""P2P settings and the parsing of peer addresses ("host:port" or "pubkeyhex@host:port").

Everything here is checked once at construction so the transport never has to
guess what a malformed setting meant; a bad value raises ConfigError.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marketnode.core.errors import ConfigError, ValidationError
from marketnode.core.keys import PUBKEY_SIZE, check_chain_id

MIB = 1024 * 1024
MAX_ADDRESS_CHARS = 255
MAX_TOPIC_BYTES = 64


@dataclass(frozen=True)
class PeerAddress:
    """Where to dial a peer, and optionally which node key it must prove."""

    host: str
    port: int
    pubkey: bytes | None = None

    @property
    def hostport(self) -> str:
        return format_hostport(self.host, self.port)

    def __str__(self) -> str:
        if self.pubkey is None:
            return self.hostport
        return f"{self.pubkey.hex()}@{self.hostport}"


def format_hostport(host: str, port: int) -> str:
    """"host:port", with IPv6 literals in brackets so the port stays unambiguous."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def parse_hostport(text: str) -> tuple[str, int]:
    """Split "host:port" (IPv6 as "[::1]:port"); raise ValidationError if malformed."""
    if not isinstance(text, str) or not text or len(text) > MAX_ADDRESS_CHARS:
        raise ValidationError(f"address {text!r} is not host:port")
    host, sep, port_text = text.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValidationError(f"address {text!r} is not host:port")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    port = int(port_text)
    if not 0 < port < 65536 or not host or any(c.isspace() or c in "/@" for c in host):
        raise ValidationError(f"address {text!r} is not host:port with a port in 1..65535")
    return host, port


def parse_peer_address(text: str) -> PeerAddress:
    """Parse a seed: "host:port" or "pubkeyhex@host:port" (the peer must prove that key)."""
    pubkey: bytes | None = None
    if isinstance(text, str) and "@" in text:
        key_hex, _, text = text.partition("@")
        try:
            pubkey = bytes.fromhex(key_hex)
        except ValueError:
            raise ValidationError(f"peer key {key_hex!r} is not hex") from None
        if len(pubkey) != PUBKEY_SIZE:
            raise ValidationError(f"peer key {key_hex!r} is not {PUBKEY_SIZE} bytes")
    host, port = parse_hostport(text)
    return PeerAddress(host, port, pubkey)


@dataclass(frozen=True, kw_only=True)
class P2PConfig:
    """Transport settings; every limit is explicit (docs/P2P.md, "Limits").

    Keyword-only so the field order can follow the docs. ``listen_port=0`` picks
    a free port (read it back from ``P2PHost.listen_address``).
    """

    chain_id: str
    listen_host: str = "127.0.0.1"
    listen_port: int
    advertise_address: str | None = None
    seeds: tuple[str, ...] = ()
    max_frame_bytes: int = 16 * MIB
    max_peers: int = 50  # links in all; a reserved peer arriving when full evicts a stranger
    max_inbound: int = 40  # inbound stranger links (never more than max_peers)
    max_outbound: int = 10  # outbound stranger links (PEX-learned; seeds and reserved keys are exempt)
    max_inbound_per_ip: int = 4
    max_inbound_per_subnet: int = 8  # per IPv4 /24 or IPv6 /64
    ip_limit_loopback: bool = False  # apply the per-IP/subnet caps to loopback too (a local testnet shares it)
    max_handshakes: int = 32  # websockets in the handshake at once; when full, the oldest is dropped
    max_handshakes_per_ip: int = 8  # beyond it HTTP 503 (loopback exempt unless ip_limit_loopback)
    max_pending_connections: int = 256  # TCP connections yet to send their request; when full, one is closed
    idle_timeout_s: float = 120.0  # a stranger that sends no frame this long is closed (peers pex every pex_interval_s)
    reserved_keys: tuple[bytes, ...] = ()  # node keys that always get a slot: the validator set, persistent peers
    rate_msgs_per_s: float = 1000.0
    rate_bytes_per_s: float = 32 * MIB
    send_queue_max: int = 1000
    ban_seconds: float = 600.0
    ban_threshold: int = 100
    ip_fail_threshold: int = 50
    ip_ban_loopback: bool = False  # loopback is usually a local testnet sharing one IP: never ban it by default
    reconnect_min_ms: int = 200
    reconnect_max_ms: int = 30_000
    handshake_timeout_s: float = 5.0
    heartbeat_s: float = 15.0
    protocol_version: int = 1
    pex: bool = True
    pex_interval_s: float = 30.0
    pex_max_addresses: int = 1000
    relay_topics: tuple[str, ...] = ("tx",)
    bulk_topics: tuple[str, ...] = ()  # sent and delivered in a lane of their own, behind every other frame
    bulk_queue_max: int = 64  # bulk frames read ahead of their handler; beyond it the newest is dropped
    seen_cache_size: int = 100_000
    max_inflight_requests: int = 16
    seed_addresses: tuple[PeerAddress, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            check_chain_id(self.chain_id)
            seeds = tuple(parse_peer_address(s) for s in self.seeds)
            if self.advertise_address is not None:
                parse_hostport(self.advertise_address)
            for topic in (*self.relay_topics, *self.bulk_topics):
                check_topic(topic)
        except ValidationError as exc:
            raise ConfigError(f"p2p config: {exc}") from None
        object.__setattr__(self, "seed_addresses", seeds)
        if not 0 <= self.listen_port < 65536:
            raise ConfigError(f"p2p config: listen_port {self.listen_port} is not in 0..65535")
        self._require_positive(
            "max_frame_bytes", "max_peers", "rate_msgs_per_s", "rate_bytes_per_s", "send_queue_max",
            "ban_seconds", "ban_threshold", "reconnect_min_ms", "handshake_timeout_s", "heartbeat_s",
            "protocol_version", "pex_interval_s", "pex_max_addresses", "seen_cache_size", "max_inflight_requests",
            "max_inbound", "max_outbound", "max_inbound_per_ip", "max_inbound_per_subnet", "max_handshakes",
            "max_handshakes_per_ip", "max_pending_connections", "idle_timeout_s", "bulk_queue_max",
        )
        if self.idle_timeout_s <= self.pex_interval_s:
            raise ConfigError("p2p config: idle_timeout_s must exceed pex_interval_s (peers keep alive with pex frames)")
        if any(not isinstance(k, bytes) or len(k) != PUBKEY_SIZE for k in self.reserved_keys):
            raise ConfigError(f"p2p config: every reserved key must be {PUBKEY_SIZE} bytes")
        if self.max_frame_bytes < 1024:
            raise ConfigError("p2p config: max_frame_bytes must be at least 1024")
        if self.reconnect_max_ms < self.reconnect_min_ms:
            raise ConfigError("p2p config: reconnect_max_ms must be >= reconnect_min_ms")

    def _require_positive(self, *names: str) -> None:
        for name in names:
            if not getattr(self, name) > 0:
                raise ConfigError(f"p2p config: {name} must be positive, got {getattr(self, name)!r}")


def check_topic(topic: object) -> str:
    """A topic is 1..64 bytes of printable ASCII, so it can be logged and keyed safely."""
    if not isinstance(topic, str) or not 0 < len(topic) <= MAX_TOPIC_BYTES or not topic.isprintable():
        raise ValidationError(f"topic {topic!r} is not 1-{MAX_TOPIC_BYTES} printable characters")
    if not topic.isascii():
        raise ValidationError(f"topic {topic!r} is not ASCII")
    return topic
