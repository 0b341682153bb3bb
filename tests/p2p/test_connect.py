"""Two and three hosts connect, prove their keys, exchange messages and keep one link per pair."""

from __future__ import annotations

from p2p_helpers import Network, free_ports, seed_of
from waiting import wait_for_async


async def test_two_hosts_connect_and_exchange_messages(network: Network) -> None:
    b = await network.start()
    a = await network.start(seeds=(seed_of(b),))
    await wait_for_async(lambda: a.connected_to(b) and b.connected_to(a), what="a and b connected")

    assert a.host.send(b.pubkey, "vote", b"from a")
    assert b.host.send(a.pubkey, "vote", b"from b")
    await wait_for_async(lambda: b.inbox.messages and a.inbox.messages, what="both messages delivered")
    assert b.inbox.messages == [(a.pubkey, "vote", b"from a")]
    assert a.inbox.messages == [(b.pubkey, "vote", b"from b")]

    [info] = a.host.peers()
    assert info.pubkey == b.pubkey
    assert info.direction == "outbound"
    assert info.address == b.host.listen_address
    assert info.msgs_out >= 1 and info.bytes_out > 0
    assert b.host.peers()[0].direction == "inbound"


async def test_send_to_unknown_peer_returns_false(network: Network) -> None:
    a = await network.start()
    assert a.host.send(b"\x01" * 32, "vote", b"x") is False


async def test_seed_that_is_ourselves_is_dropped(network: Network) -> None:
    [port] = free_ports(1)
    a = await network.start(listen_port=port, seeds=(f"127.0.0.1:{port}",))
    await wait_for_async(lambda: not a.host._dialer.targets, what="the self target given up")
    assert a.host.peers() == []
    assert a.host.stats.handshakes_ok == 0


async def test_mutual_seeds_keep_exactly_one_link(network: Network) -> None:
    # Both hosts run before either dials, and then both dial at once, so two links always form (with
    # seeds at start-up, the first host's dial can fail and back off while the second's succeeds alone).
    a = await network.start()
    b = await network.start()
    a.host.connect(b.host.listen_address)
    b.host.connect(a.host.listen_address)
    await wait_for_async(lambda: a.connected_to(b) and b.connected_to(a), what="connected", deadline_s=15)
    await wait_for_async(lambda: a.host.stats.duplicates_dropped + b.host.stats.duplicates_dropped >= 1, what="dup",
                   deadline_s=15)
    await wait_for_async(lambda: len(a.host.peers()) == 1 and len(b.host.peers()) == 1, what="one link each", deadline_s=15)
    assert len(a.host.peers()) == 1 and len(b.host.peers()) == 1
    a_dir = a.host.peers()[0].direction
    b_dir = b.host.peers()[0].direction
    assert {a_dir, b_dir} == {"inbound", "outbound"}
    # the kept link was dialed by the smaller key
    dialer = a if a_dir == "outbound" else b
    assert dialer.pubkey == min(a.pubkey, b.pubkey)
    assert a.host.send(b.pubkey, "t", b"still works")
    await wait_for_async(lambda: b.inbox.messages, what="message over the kept link")
