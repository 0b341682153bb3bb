"""The peer table: which authenticated links we keep, one per node key, within the slot caps.

Admission is decided here and only here, the same way for a link we dialed
and one that dialed us: a banned key is refused, a duplicate link resolves to
the one both ends prefer, and a new key gets a slot under the policy of
``slots.py`` (reserved keys always, strangers within the caps, eviction of a
stranger when a reserved key or a less crowded network needs the room).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from marketnode.p2p.peer import CLOSE_BANNED, CLOSE_DUPLICATE, CLOSE_EVICTED, CLOSE_IDLE, CLOSE_TOO_MANY_PEERS, Peer
from marketnode.p2p.scoring import Scoreboard
from marketnode.p2p.slots import Slot, SlotLimits, decide
from marketnode.p2p.stats import P2PStats

log = logging.getLogger("marketnode.p2p")


class PeerTable:
    """Live links by node key; ``reserved`` are the keys that always get a slot."""

    def __init__(
        self,
        node_key: bytes,
        limits: SlotLimits,
        key_scores: Scoreboard,
        reserved: set[bytes],
        stats: P2PStats,
        on_new_key: Callable[[bytes], None],
    ) -> None:
        """``on_new_key`` hears of a key that had no link before (not of a duplicate replacing one)."""
        self.node_key = node_key
        self.limits = limits
        self.reserved = reserved
        self.peers: dict[bytes, Peer] = {}
        self._key_scores = key_scores
        self._stats = stats
        self._on_new_key = on_new_key

    def admit(self, peer: Peer, now: float) -> tuple[int, str] | None:
        """Add the peer to the table, or say why not (a close code and reason).

        Duplicate rule, the same at both ends: keep the link dialed by the
        smaller node key; between two links of the same direction keep the newer.
        """
        if self._key_scores.is_banned(peer.node_key, now):
            self._stats.rejected_banned += 1
            return CLOSE_BANNED, "banned"
        peer.reserved = peer.node_key in self.reserved
        existing = self.peers.get(peer.node_key)
        if existing is None or existing.closing:  # an evicted or idle key coming straight back needs a slot again
            verdict = decide(self.limits, self.slots(now), self._slot(peer, now))
            if not verdict.admit:
                self._stats.refused_full += 1
                log.info("refusing %s peer %s from %s: %s", peer.direction, peer.short_id, peer.ip, verdict.reason)
                return CLOSE_TOO_MANY_PEERS, verdict.reason
            if verdict.evict is not None:
                self._evict(verdict.evict, peer)
            self.peers[peer.node_key] = peer
            if existing is None:  # else the key never lost its link as far as on_peer_event knows
                self._on_new_key(peer.node_key)
            return None
        self._stats.duplicates_dropped += 1
        if self._preferred(existing) and not self._preferred(peer):
            return CLOSE_DUPLICATE, "duplicate connection"
        self.peers[peer.node_key] = peer
        existing.disconnect("replaced by a duplicate connection", CLOSE_DUPLICATE)
        return None

    def remove(self, peer: Peer) -> bool:
        """Forget the link if it is still the one for its key; True when the key lost its link."""
        if self.peers.get(peer.node_key) is not peer:
            return False
        del self.peers[peer.node_key]
        return True

    def slots(self, now: float) -> list[Slot]:
        """The live links (not closing), as the slot policy sees them."""
        return [self._slot(p, now) for p in self.peers.values() if not p.closing]

    def close_idle(self, now: float, timeout_s: float) -> None:
        """Close strangers that sent nothing for ``timeout_s``: a silent link would hold its slot forever."""
        for peer in list(self.peers.values()):
            if not peer.reserved and not peer.closing and now - peer.last_frame_at > timeout_s:
                self._stats.idle_closed += 1
                peer.disconnect(f"idle: no frame for {timeout_s:g}s", CLOSE_IDLE)

    def _slot(self, peer: Peer, now: float) -> Slot:
        return Slot(
            key=peer.node_key,
            direction=peer.direction,
            reserved=peer.reserved,
            ip=peer.ip,
            score=self._key_scores.score(peer.node_key, now),
            idle_s=now - peer.last_frame_at,
            age_s=now - peer.opened_at,
        )

    def _evict(self, key: bytes, newcomer: Peer) -> None:
        victim = self.peers[key]
        self._stats.evictions += 1
        why = "a reserved peer" if newcomer.reserved else "a peer from a less crowded network"
        log.info("evicting stranger %s (%s) to make room for %s", victim.short_id, victim.ip, why)
        victim.disconnect(f"evicted to make room for {why}", CLOSE_EVICTED)

    def _preferred(self, peer: Peer) -> bool:
        """True if this link was dialed by the smaller of the two node keys (both ends agree)."""
        return (peer.direction == "outbound") == (self.node_key < peer.node_key)
