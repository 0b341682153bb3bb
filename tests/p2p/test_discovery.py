"""Peer exchange and reconnection: knowing one peer is enough, and a restarted peer is redialed."""

from __future__ import annotations

import pytest
from p2p_helpers import Network, Node, seed_of
from waiting import wait_for_async

from marketnode.p2p.pex import dialable_address


async def test_pex_a_knows_b_b_knows_c_so_a_connects_to_c(network: Network) -> None:
    c = await network.start()
    b = await network.start(seeds=(seed_of(c),))
    await wait_for_async(lambda: b.connected_to(c), what="b-c")
    a = await network.start(seeds=(seed_of(b),))
    await wait_for_async(lambda: a.connected_to(c) and c.connected_to(a), what="a found c through b")
    assert {p.pubkey for p in a.host.peers()} == {b.pubkey, c.pubkey}


async def test_pex_finds_a_peer_that_joins_later(network: Network) -> None:
    b = await network.start()
    a = await network.start(seeds=(seed_of(b),))
    await wait_for_async(lambda: a.connected_to(b), what="a-b")
    c = await network.start(seeds=(seed_of(b),))
    await wait_for_async(lambda: a.connected_to(c), what="a learned of c after it joined b")


async def test_pex_off_learns_nothing(network: Network) -> None:
    c = await network.start(pex=False)
    b = await network.start(pex=False, seeds=(seed_of(c),))
    a = await network.start(pex=False, seeds=(seed_of(b),))
    await wait_for_async(lambda: a.connected_to(b) and b.connected_to(c), what="chain")
    a.host.broadcast("tx", b"m")
    await wait_for_async(lambda: c.inbox.payloads() == [b"m"], what="relay through b")
    assert not a.connected_to(c)


async def test_reconnects_after_the_peer_restarts(network: Network) -> None:
    b = await network.start()
    port = int(b.host.listen_address.rsplit(":", 1)[1])
    a = await network.start(seeds=(seed_of(b, with_key=True),))
    await wait_for_async(lambda: a.connected_to(b), what="first connection")
    await b.host.stop()
    await wait_for_async(lambda: not a.connected_to(b), what="a noticed b left")

    b2 = await network.start(key=b.key, listen_port=port)
    await wait_for_async(lambda: a.connected_to(b2) and b2.connected_to(a), deadline_s=5.0, what="redialed after restart")
    assert a.host.send(b2.pubkey, "vote", b"hello again")
    await wait_for_async(lambda: b2.inbox.payloads() == [b"hello again"], what="message after reconnect")


async def test_stop_is_clean_and_idempotent(network: Network) -> None:
    b = await network.start()
    a = await network.start(seeds=(seed_of(b),))
    await wait_for_async(lambda: a.connected_to(b), what="connected")
    await a.host.stop()
    await a.host.stop()
    assert a.host._tasks == set()
    await wait_for_async(lambda: not b.connected_to(a), what="b saw a leave")


async def test_a_wildcard_listener_is_shared_under_the_ip_it_connects_from(network: Network) -> None:
    c = await network.start()
    b = await network.start(listen_host="0.0.0.0", seeds=(seed_of(c),))
    assert b.host.advertise_address.startswith("0.0.0.0:")
    await wait_for_async(lambda: c.connected_to(b), what="b dialed c")
    [b_at_c] = c.host.peers()
    assert b_at_c.address == "127.0.0.1:" + b.host.listen_address.rsplit(":", 1)[1]
    a = await network.start(seeds=(seed_of(c),))
    await wait_for_async(lambda: a.connected_to(b), what="a dialed b at the address c observed")


@pytest.mark.parametrize(
    ("advertised", "remote", "shared"),
    [
        ("10.0.0.5:26656", "10.0.0.5", "10.0.0.5:26656"),
        ("0.0.0.0:26656", "10.0.0.5", "10.0.0.5:26656"),
        ("[::]:26656", "fd00::5", "[fd00::5]:26656"),
        ("127.0.0.1:26656", "10.0.0.5", "10.0.0.5:26656"),
        ("127.0.0.1:26656", "127.0.0.1", "127.0.0.1:26656"),
        ("node.example:26656", "10.0.0.5", "node.example:26656"),
        (None, "10.0.0.5", None),
        ("0.0.0.0:26656", None, None),
    ],
)
def test_dialable_address(advertised: str | None, remote: str | None, shared: str | None) -> None:
    assert dialable_address(advertised, remote) == shared


async def test_star_of_seeds_becomes_a_full_mesh_and_gossip_reaches_everyone_once(network: Network) -> None:
    hub = await network.start()
    spokes = [await network.start(seeds=(seed_of(hub),)) for _ in range(4)]
    everyone = [hub, *spokes]
    await wait_for_async(lambda: all(len(n.host.peers()) == 4 for n in everyone), what="full mesh of five")
    spokes[0].host.broadcast("tx", b"to all")
    await wait_for_async(lambda: all(n.inbox.payloads("tx") == [b"to all"] for n in everyone[1:] if n is not spokes[0]),
                   what="everyone else got it")
    assert spokes[0].inbox.payloads() == []
    assert all(len(n.inbox.payloads("tx")) <= 1 for n in everyone)


async def test_peer_events_say_connected_and_disconnected(network: Network) -> None:
    events: list[tuple[bytes, bool]] = []
    b = await network.start()
    b.host._on_peer_event = lambda key, up: events.append((key, up))
    a = await network.start(seeds=(seed_of(b),))
    await wait_for_async(lambda: events == [(a.pubkey, True)], what="connected event")
    await a.host.stop()
    await wait_for_async(lambda: events == [(a.pubkey, True), (a.pubkey, False)], what="disconnected event")


async def _restart_with_one_link(network: Network, a: Node, b: Node) -> Node:
    """Wait for exactly one a-b link, then restart b (same key and port, seeding a)."""
    await wait_for_async(lambda: a.connected_to(b) and b.connected_to(a), what="one link")
    assert len(a.host.peers()) == 1 and len(b.host.peers()) == 1
    b_port = int(b.host.listen_address.rsplit(":", 1)[1])
    await b.host.stop()
    await wait_for_async(lambda: not a.connected_to(b), what="a saw b go")
    return await network.start(key=b.key, listen_port=b_port, seeds=(seed_of(a),))


async def test_mutual_seeds_reconnect_to_one_link_after_either_side_restarts(network: Network) -> None:
    a0 = await network.start()
    b = await network.start(seeds=(seed_of(a0),))
    a_port = int(a0.host.listen_address.rsplit(":", 1)[1])
    await a0.host.stop()
    a = await network.start(key=a0.key, listen_port=a_port, seeds=(seed_of(b),))  # now each seeds the other
    for _ in range(2):
        b = await _restart_with_one_link(network, a, b)
    await wait_for_async(lambda: a.connected_to(b) and b.connected_to(a), what="one link after restarts")
    assert a.host.send(b.pubkey, "vote", b"x") and b.host.send(a.pubkey, "vote", b"y")
    await wait_for_async(lambda: b.inbox.payloads() == [b"x"] and a.inbox.payloads() == [b"y"], what="both ways")
