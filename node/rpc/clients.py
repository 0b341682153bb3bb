"""Who a client is, and how many of something each client and all clients together may hold.

One rule for every per-client cap of the RPC server (TCP connections, HTTP
requests in flight, websockets): a global ceiling that protects the node, and
a per-client ceiling below it so that one client cannot take the whole
ceiling from everyone else. Never blocks: a slot is taken or refused at once.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass

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


class ClientSlots:
    """A counted resource with a global ceiling and a per-client ceiling.

    ``take`` returns None when the slot is granted, else a ``Refusal``; every
    granted slot is given back with ``give_back``. The table only holds
    clients that hold a slot, so it is bounded by the global ceiling.
    """

    def __init__(self, what: str, total: int, per_client: int) -> None:
        self.what, self.total, self.per_client = what, total, per_client
        self.held = 0
        self._by_client: Counter[str] = Counter()

    def take(self, client: str) -> Refusal | None:
        if self._by_client[client] >= self.per_client:  # a missing key reads 0 and is not stored
            return Refusal(f"more than {self.per_client} {self.what} from one client address", True)
        if self.held >= self.total:
            return Refusal(f"more than {self.total} {self.what} at once", False)
        self._by_client[client] += 1
        self.held += 1
        return None

    def give_back(self, client: str) -> None:
        if self._by_client[client] <= 1:
            self._by_client.pop(client, None)
        else:
            self._by_client[client] -= 1
        self.held -= 1

    def of(self, client: str) -> int:
        return self._by_client.get(client, 0)
