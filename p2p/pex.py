"""Peer exchange bookkeeping: which node keys were advertised at which addresses, bounded.

Pure data (no I/O): the host feeds it PEX frames and asks it whom to dial;
the address a peer is shared under and the gossip dedupe key live here too,
since both decide what travels between peers, not how.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections import OrderedDict

from marketnode.p2p.config import format_hostport, parse_hostport
from marketnode.p2p.slots import is_loopback_host

_WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})


def gossip_id(topic: str, payload: bytes) -> bytes:
    """Local dedupe key of a message (never sent or signed, so no protocol hash tag)."""
    return hashlib.blake2b(len(topic).to_bytes(1, "big") + topic.encode() + payload, digest_size=20).digest()


def dialable_address(advertised: str | None, remote_ip: str | None) -> str | None:
    """The address to share for an inbound peer: its advertised host:port, with a wildcard host
    (or a loopback one, when it reached us from elsewhere) replaced by the IP it connected from."""
    if advertised is None:
        return None
    host, port = parse_hostport(advertised)
    if remote_ip is None:
        return None if host in _WILDCARD_HOSTS else advertised
    try:
        remote_is_loopback = ipaddress.ip_address(remote_ip).is_loopback
    except ValueError:
        return advertised
    if host in _WILDCARD_HOSTS or (is_loopback_host(host) and not remote_is_loopback):
        return format_hostport(remote_ip, port)
    return advertised


class AddressBook:
    """Learned (node key → advertised host:port), oldest evicted first beyond ``max_entries``."""

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._entries: OrderedDict[bytes, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def learn(self, node_key: bytes, address: str) -> bool:
        """Record an address; True when it is new or changed (worth dialing)."""
        if self._entries.get(node_key) == address:
            self._entries.move_to_end(node_key)
            return False
        self._entries[node_key] = address
        self._entries.move_to_end(node_key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return True

    def forget(self, node_key: bytes) -> None:
        self._entries.pop(node_key, None)

    def address_of(self, node_key: bytes) -> str | None:
        return self._entries.get(node_key)

    def items(self) -> list[tuple[bytes, str]]:
        return list(self._entries.items())


class SeenCache:
    """A bounded set of recent gossip ids (insertion order eviction), for dedupe."""

    def __init__(self, max_entries: int) -> None:
        self._max_entries = max_entries
        self._ids: OrderedDict[bytes, None] = OrderedDict()

    def __contains__(self, item: bytes) -> bool:
        return item in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, item: bytes) -> bool:
        """Remember ``item``; True if it was not seen before."""
        if item in self._ids:
            return False
        self._ids[item] = None
        if len(self._ids) > self._max_entries:
            self._ids.popitem(last=False)
        return True
