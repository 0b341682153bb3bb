"""Who a client is, and how many of something each client and all clients together may hold.

One rule for every per-client cap of the RPC server (TCP connections, HTTP
requests in flight, websockets): a global ceiling that protects the node, a
per-client ceiling below it so that one client cannot take the whole ceiling
from everyone else, and eviction from the biggest holder when the global
ceiling is full. Never blocks: a slot is taken or refused at once.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass
from typing import Protocol

IPV6_CLIENT_PREFIX = 64  # one IPv6 host owns a whole /64; counting single addresses would be no limit


def client_key(remote: str | None) -> str:
    """The key limits count under: the IPv4 address, or the /64 of an IPv6 one ("?" when unknown)."""
    if not remote:
        return "?"
    try:
        address = ipaddress.ip_address(remote)
    except ValueError:
        return remote
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a slot was refused; ``per_client``: the client's own cap (HTTP 429), else the global one (503)."""

    reason: str
    per_client: bool

    @property
    def http_status(self) -> int:
        return 429 if self.per_client else 503


class Holder(Protocol):
    """Whoever holds a slot and can be made to give it up (close its connection)."""

    def evictable(self) -> bool:
        """True when closing it now costs nothing but the hog's own waiting (idle, or stalled on its client)."""
        ...

    def evict(self) -> None:
        """Close it soon; its slot comes back through ``give_back`` when it is gone. Never waits."""
        ...


class ClientSlots:
    """A counted resource with a global ceiling and a per-client ceiling, fair when full.

    ``take`` returns None when the slot is granted, else a ``Refusal``; every
    granted slot is given back with ``give_back``. When the global ceiling is
    reached, a newcomer still gets in if some client holds at least two more
    slots than the newcomer: one of that client's evictable holders is closed
    for it (as Bitcoin Core evicts from the netgroup with the most peers), so
    many addresses together cannot keep out one more. The table only holds
    clients that hold a slot, so it is bounded by the global ceiling.
    """

    def __init__(self, what: str, total: int, per_client: int) -> None:
        self.what, self.total, self.per_client = what, total, per_client
        self.held = 0
        self.evicted = 0
        self._by_client: Counter[str] = Counter()
        self._holders: dict[str, set[Holder]] = {}

    def take(self, client: str, holder: Holder | None = None) -> Refusal | None:
        mine = self._by_client[client]  # a missing key reads 0 and is not stored
        if mine >= self.per_client:
            return Refusal(f"more than {self.per_client} {self.what} from one client address", True)
        if self.held >= self.total and not self._evict_for(mine):
            return Refusal(f"more than {self.total} {self.what} at once", False)
        self._by_client[client] += 1
        self.held += 1
        if holder is not None:
            self._holders.setdefault(client, set()).add(holder)
        return None

    def _evict_for(self, newcomer_holds: int) -> bool:
        """Close one evictable holder of the client holding the most, if it holds 2+ more than the newcomer."""
        for client, count in self._by_client.most_common():
            if count < newcomer_holds + 2:
                return False
            for holder in list(self._holders.get(client, ())):
                if holder.evictable():
                    self._holders[client].discard(holder)  # never picked twice while it goes
                    holder.evict()
                    self.evicted += 1
                    return True
        return False

    def give_back(self, client: str, holder: Holder | None = None) -> None:
        if self._by_client[client] <= 1:
            self._by_client.pop(client, None)
            self._holders.pop(client, None)
        else:
            self._by_client[client] -= 1
            if holder is not None and client in self._holders:
                self._holders[client].discard(holder)
        self.held -= 1

    def of(self, client: str) -> int:
        return self._by_client.get(client, 0)
