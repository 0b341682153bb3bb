"""Peer exchange bookkeeping: which node keys were advertised at which addresses, bounded.

Pure data (no I/O): the host feeds it PEX frames and asks it whom to dial.
"""

from __future__ import annotations

from collections import OrderedDict


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
