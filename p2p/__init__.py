"""p2p: authenticated, encrypted websocket transport with gossip (docs/P2P.md).

Layout, from the wire up:
  config     P2PConfig and seed parsing ("host:port" or "pubkeyhex@host:port")
  handshake  sans-IO handshake: chain id, version, signed challenges, X25519 → session keys
  session    ChaCha20-Poly1305 link cipher with an implicit counter nonce per direction
  framing    msg / req / resp / pex frames inside the link (canonical msgpack)
  ratelimit  token buckets;  scoring  penalties and timed bans;  pex  address book, seen-cache
  peer       one connection: read loop, bounded send queue, pending requests, stats
  slots      who gets a peer slot: reserved keys, per-direction/IP/subnet caps, eviction (pure)
  peer_table which links we keep: admission, duplicates, eviction, idle strangers
  inbound    the listening port: bounded sockets and handshakes, per-IP bans
  dialer     one reconnecting task per address, backoff with jitter
  host       P2PHost: composes the three; gossip relay, requests, PEX

Knows nothing of consensus or market rules: it carries (topic, payload) bytes.
"""

from marketnode.core.namespace import require_namespace

require_namespace(__name__)

from marketnode.p2p.config import P2PConfig, PeerAddress, parse_peer_address
from marketnode.p2p.host import P2PHost
from marketnode.p2p.peer import PeerInfo
from marketnode.p2p.stats import P2PStats

__all__ = ["P2PConfig", "P2PHost", "P2PStats", "PeerAddress", "PeerInfo", "parse_peer_address"]
