"""Who may take a peer slot, and whom to evict for them: a pure policy over snapshots of the peer table.

Strangers must never be able to keep the nodes that need each other apart
(docs/P2P.md §5.2). So reserved peers (the validator set and operator-given
persistent peers, as the node declares them) never compete with strangers for
a slot: when the table is full, a stranger is evicted to make room. Strangers
are capped per direction, per IP and per subnet, and an inbound stranger may
only evict from a network group larger than its own, so a crowd from one
place can displace only itself (Bitcoin Core's netgroup protection).

No I/O, clock or randomness: the host passes the table in and acts on the verdict.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

Direction = Literal["inbound", "outbound"]
K = TypeVar("K", bound=Hashable)

UNKNOWN_GROUP = "?"


@dataclass(frozen=True)
class SlotLimits:
    """The caps of docs/P2P.md §5.2 (all counts of stranger links unless said otherwise)."""

    max_peers: int  # every link but the reserved ones beyond it
    max_inbound: int
    max_outbound: int
    max_inbound_per_ip: int
    max_inbound_per_subnet: int
    limit_loopback: bool  # apply the per-IP and per-subnet caps to 127.0.0.0/8 and ::1 too


@dataclass(frozen=True)
class Slot:
    """One connected peer (or the newcomer), as the policy sees it."""

    key: bytes
    direction: Direction
    reserved: bool
    ip: str | None = None
    score: float = 0.0
    idle_s: float = 0.0  # seconds since its last frame
    age_s: float = 0.0  # seconds since it connected


@dataclass(frozen=True)
class Verdict:
    """Admit (after closing ``evict``, if set), or refuse with ``reason``."""

    admit: bool
    evict: bytes | None = None
    reason: str = ""


def _parse_ip(ip: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address, with an IPv4-mapped IPv6 address as the IPv4 one it carries; None if not an IP."""
    try:
        address = ipaddress.ip_address(ip) if ip is not None else None
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def netgroup(ip: str | None) -> str:
    """The network a peer's address belongs to: its IPv4 /24 or IPv6 /64 (an IPv4-mapped IPv6 counts as IPv4)."""
    address = _parse_ip(ip)
    if address is None:
        return UNKNOWN_GROUP
    prefix = 24 if address.version == 4 else 64
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def is_loopback_ip(ip: str | None) -> bool:
    address = _parse_ip(ip)
    return address is not None and address.is_loopback


def is_loopback_host(host: str) -> bool:
    """A loopback IP or the name ``localhost``: what an advertised or remote host may be."""
    return host == "localhost" or is_loopback_ip(host)


def ip_is_limited(limits: SlotLimits, ip: str | None) -> bool:
    """Whether per-address caps apply to ``ip``: loopback is usually a local testnet sharing one address."""
    return limits.limit_loopback or not is_loopback_ip(ip)


def decide(limits: SlotLimits, table: Sequence[Slot], newcomer: Slot) -> Verdict:
    """Admit ``newcomer`` to ``table`` (live, non-closing links with other keys), evict one, or refuse."""
    strangers = [s for s in table if not s.reserved]
    full = len(table) >= limits.max_peers
    if newcomer.reserved:
        if not full:
            return Verdict(True)
        inbound = [s for s in strangers if s.direction == "inbound"]  # outbound strangers we chose: evict last
        return Verdict(True, evict=choose_victim(inbound) or choose_victim([s for s in strangers if s not in inbound]))
    if newcomer.direction == "outbound":
        if full or sum(s.direction == "outbound" for s in strangers) >= limits.max_outbound:
            return Verdict(False, reason="too many outbound peers")
        return Verdict(True)
    inbound = [s for s in strangers if s.direction == "inbound"]
    if ip_is_limited(limits, newcomer.ip):
        if sum(s.ip == newcomer.ip for s in inbound) >= limits.max_inbound_per_ip:
            return Verdict(False, reason="too many peers from your address")
        group = netgroup(newcomer.ip)
        if sum(netgroup(s.ip) == group for s in inbound) >= limits.max_inbound_per_subnet:
            return Verdict(False, reason="too many peers from your network")
    if not full and len(inbound) < limits.max_inbound:
        return Verdict(True)
    victim = choose_victim(inbound, newcomer_group=netgroup(newcomer.ip))
    if victim is None:
        return Verdict(False, reason="too many peers")
    return Verdict(True, evict=victim)


def choose_victim(candidates: Sequence[Slot], newcomer_group: str | None = None) -> bytes | None:
    """The stranger to evict: from the largest network group, the lowest score, then the idlest, then the newest.

    With ``newcomer_group`` (an inbound stranger asking), only a crowded group
    (two or more links) strictly larger than the newcomer's own may lose a
    member: a crowd from one network displaces only itself, and strangers from
    many networks cannot churn diverse peers out, only fill free slots.
    """
    if not candidates:
        return None
    sizes = Counter(netgroup(s.ip) for s in candidates)
    largest = max(sizes.values())
    if newcomer_group is not None and (largest < 2 or largest <= sizes.get(newcomer_group, 0)):
        return None
    pool = [s for s in candidates if sizes[netgroup(s.ip)] == largest]
    return min(pool, key=lambda s: (s.score, -s.idle_s, s.age_s, s.key)).key


def oldest_of_busiest(entries: Iterable[tuple[K, str | None]]) -> K:
    """Of (item, address) pairs given oldest first, the oldest from the address with the most items.

    What to drop when connections that have not proven anything yet are full:
    a crowd from a few addresses loses its own, not the lone newcomer elsewhere.
    """
    items = list(entries)
    counts = Counter(ip for _, ip in items)
    busiest = max(counts.values())
    return next(item for item, ip in items if counts[ip] == busiest)
