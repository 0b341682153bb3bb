"""The transport's counters, in one value every part of the host increments.

A module of its own because the inbound gate, the dialer and the peer table
each count their own events into the same ``P2PStats`` the node exports.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class P2PStats:
    """Counters for metrics and tests (monotonic over the host's life)."""

    handshakes_ok: int = 0
    handshakes_failed: int = 0
    duplicates_dropped: int = 0
    gossip_duplicates: int = 0
    violations: int = 0
    bans: int = 0
    rejected_banned: int = 0
    refused_full: int = 0  # authenticated strangers refused a slot (caps of docs/P2P.md §5.2)
    evictions: int = 0  # strangers closed to make room for a reserved peer or a less crowded network
    idle_closed: int = 0
    handshakes_dropped: int = 0  # pending handshakes closed to make room for a newer one
