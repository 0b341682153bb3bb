"""The slot policy (p2p/slots.py) at its edges: pure, so every rule is a table row."""

from __future__ import annotations

import pytest

from marketnode.core.errors import ConfigError
from marketnode.p2p.config import P2PConfig
from marketnode.p2p.slots import Slot, SlotLimits, Verdict, choose_victim, decide, netgroup

LIMITS = SlotLimits(max_peers=6, max_inbound=4, max_outbound=2, max_inbound_per_ip=2, max_inbound_per_subnet=3,
                    limit_loopback=False)


def key(n: int) -> bytes:
    return n.to_bytes(32, "big")


def inbound(n: int, ip: str, **kw) -> Slot:
    return Slot(key(n), "inbound", False, ip, **kw)


@pytest.mark.parametrize(
    "ip, group",
    [
        ("203.0.113.7", "203.0.113.0/24"),
        ("::ffff:203.0.113.7", "203.0.113.0/24"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("127.0.0.1", "127.0.0.0/24"),
        ("not an ip", "?"),
        (None, "?"),
    ],
)
def test_netgroup(ip, group):
    assert netgroup(ip) == group


def test_a_reserved_peer_is_admitted_into_a_full_table_by_evicting_an_inbound_stranger():
    table = [inbound(i, f"198.51.100.{i}") for i in range(4)] + [Slot(key(10 + i), "outbound", False) for i in range(2)]
    verdict = decide(LIMITS, table, Slot(key(99), "inbound", True, "198.51.100.200"))
    assert verdict.admit and verdict.evict in {key(i) for i in range(4)}


def test_a_reserved_peer_in_a_table_of_reserved_peers_is_admitted_beyond_max_peers():
    table = [Slot(key(i), "outbound", True) for i in range(6)]
    assert decide(LIMITS, table, Slot(key(99), "inbound", True, "10.0.0.1")) == Verdict(True)  # nobody to evict


def test_a_reserved_peer_with_room_evicts_nobody():
    assert decide(LIMITS, [inbound(1, "10.0.0.1")], Slot(key(99), "inbound", True, "10.0.0.1")).evict is None


def test_per_ip_cap_counts_inbound_strangers_only():
    table = [inbound(1, "10.0.0.1"), Slot(key(2), "inbound", True, "10.0.0.1")]
    assert decide(LIMITS, table, inbound(3, "10.0.0.1")).admit  # 1 stranger there: the 2nd is the cap
    table.append(inbound(3, "10.0.0.1"))
    assert decide(LIMITS, table, inbound(4, "10.0.0.1")).reason == "too many peers from your address"


def test_per_subnet_cap():
    table = [inbound(1, "10.0.0.1"), inbound(2, "10.0.0.2"), inbound(3, "10.0.0.3")]
    assert decide(LIMITS, table, inbound(4, "10.0.0.4")).reason == "too many peers from your network"
    assert decide(LIMITS, table, inbound(4, "10.0.1.4")).admit


def test_loopback_is_exempt_from_address_caps_unless_configured():
    table = [inbound(1, "127.0.0.1"), inbound(2, "127.0.0.1")]
    assert decide(LIMITS, table, inbound(3, "127.0.0.1")).admit
    strict = SlotLimits(**{**LIMITS.__dict__, "limit_loopback": True})
    assert not decide(strict, table, inbound(3, "127.0.0.1")).admit


def test_inbound_full_evicts_only_from_a_larger_crowded_group():
    crowd = [inbound(1, "10.0.0.1"), inbound(2, "10.0.0.2"), inbound(3, "10.0.1.1"), inbound(4, "10.0.2.1")]
    verdict = decide(LIMITS, crowd, inbound(5, "10.0.9.1"))
    assert verdict.admit and verdict.evict in {key(1), key(2)}
    assert decide(LIMITS, crowd, inbound(5, "10.0.0.3")).reason == "too many peers"  # same size as its own group
    diverse = [inbound(i, f"10.0.{i}.1") for i in range(4)]
    assert decide(LIMITS, diverse, inbound(5, "10.0.9.1")).reason == "too many peers"  # no crowd: nobody churned


def test_outbound_strangers_are_capped_separately():
    table = [Slot(key(1), "outbound", False), Slot(key(2), "outbound", False)]
    assert decide(LIMITS, table, Slot(key(3), "outbound", False)).reason == "too many outbound peers"
    assert decide(LIMITS, table, inbound(3, "10.0.0.1")).admit
    assert decide(LIMITS, table, Slot(key(3), "outbound", True)).admit


def test_victim_is_lowest_score_then_idlest_then_newest():
    a = inbound(1, "10.0.0.1", score=-5.0)
    b = inbound(2, "10.0.0.2", idle_s=50.0)
    c = inbound(3, "10.0.0.3", age_s=1.0)
    d = inbound(4, "10.0.0.4", age_s=100.0)
    assert choose_victim([a, b, c, d]) == key(1)
    assert choose_victim([b, c, d]) == key(2)
    assert choose_victim([c, d]) == key(3)
    assert choose_victim([]) is None


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"max_inbound": 0}, "max_inbound must be positive"),
        ({"max_inbound_per_ip": 0}, "max_inbound_per_ip must be positive"),
        ({"max_handshakes": 0}, "max_handshakes must be positive"),
        ({"idle_timeout_s": 30.0, "pex_interval_s": 30.0}, "idle_timeout_s must exceed pex_interval_s"),
        ({"reserved_keys": (b"short",)}, "reserved key must be 32 bytes"),
    ],
)
def test_bad_slot_settings_are_refused(overrides, message):
    with pytest.raises(ConfigError, match=message):
        P2PConfig(chain_id="c", listen_port=0, **overrides)


def test_smallest_valid_slot_settings():
    P2PConfig(chain_id="c", listen_port=0, max_peers=1, max_inbound=1, max_outbound=1, max_inbound_per_ip=1,
              max_inbound_per_subnet=1, max_handshakes=1, max_handshakes_per_ip=1, idle_timeout_s=30.001,
              pex_interval_s=30.0, reserved_keys=(key(1),))
