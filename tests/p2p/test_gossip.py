"""Gossip: dedupe by (topic, payload), relay only for relay topics, and a veto from on_message."""

from __future__ import annotations

from p2p_helpers import Network, Node, seed_of
from waiting import wait_for_async


async def _line(network: Network) -> tuple[Node, Node, Node]:
    """a - b - c with no a-c link (PEX off), so anything c gets from a was relayed by b."""
    b = await network.start(pex=False)
    a = await network.start(pex=False, seeds=(seed_of(b),))
    c = await network.start(pex=False, seeds=(seed_of(b),))
    await wait_for_async(lambda: len(b.host.peers()) == 2 and a.host.peers() and c.host.peers(), what="line a-b-c")
    assert not a.connected_to(c)
    return a, b, c


async def test_relay_topic_reaches_a_peer_two_hops_away_exactly_once(network: Network) -> None:
    a, b, c = await _line(network)
    a.host.broadcast("tx", b"tx-1")
    await wait_for_async(lambda: c.inbox.payloads("tx") == [b"tx-1"], what="relayed tx at c")
    assert c.inbox.messages[0][0] == b.pubkey  # delivered by the relaying neighbour
    assert b.inbox.payloads("tx") == [b"tx-1"]
    assert a.inbox.messages == []  # b's relay does not echo back to the sender


async def test_non_relay_topic_stops_at_the_first_hop(network: Network) -> None:
    a, b, c = await _line(network)
    a.host.broadcast("vote", b"v")
    a.host.broadcast("tx", b"marker")  # same link, same order: once c has the marker, a relayed vote would be there
    await wait_for_async(lambda: c.inbox.payloads("tx") == [b"marker"], what="marker at c")
    assert b.inbox.payloads("vote") == [b"v"]
    assert c.inbox.payloads("vote") == []


async def test_same_relay_message_twice_is_delivered_once(network: Network) -> None:
    a, b, _ = await _line(network)
    assert a.host.send(b.pubkey, "tx", b"same")
    assert a.host.send(b.pubkey, "tx", b"same")
    assert a.host.send(b.pubkey, "tx", b"other")
    await wait_for_async(lambda: b.inbox.payloads("tx")[-1:] == [b"other"], what="last message")
    assert b.inbox.payloads("tx") == [b"same", b"other"]
    assert b.host.stats.gossip_duplicates == 1


async def test_direct_topics_are_not_deduplicated_so_resends_get_through(network: Network) -> None:
    a, b, _ = await _line(network)
    a.host.broadcast("vote", b"new-view")
    assert a.host.send(b.pubkey, "vote", b"new-view")  # consensus helping a laggard re-sends the same bytes
    await wait_for_async(lambda: len(b.inbox.payloads("vote")) == 2, what="both copies delivered")


async def test_on_message_returning_false_stops_the_relay(network: Network) -> None:
    a, b, c = await _line(network)
    b.inbox.verdict = False  # b judges the tx invalid
    a.host.broadcast("tx", b"bad tx")
    await wait_for_async(lambda: b.inbox.payloads("tx") == [b"bad tx"], what="b got it")
    b.inbox.verdict = None
    a.host.broadcast("tx", b"good tx")
    await wait_for_async(lambda: c.inbox.payloads("tx") == [b"good tx"], what="only the good tx at c")


async def test_broadcast_excludes_a_peer_and_echoes_are_dropped(network: Network) -> None:
    a, b, c = await _line(network)
    b.host.broadcast("vote", b"not for a", exclude=a.pubkey)
    b.host.broadcast("tx", b"for all")
    await wait_for_async(lambda: a.inbox.payloads("tx") == [b"for all"] and c.inbox.payloads(), what="delivery")
    assert a.inbox.payloads("vote") == []
    assert c.inbox.payloads("vote") == [b"not for a"]
    # c and a relay "for all" back to b's neighbours; b never delivers its own broadcast to itself
    assert b.inbox.messages == []


async def test_on_message_that_raises_does_not_kill_the_link(network: Network) -> None:
    a, b, _ = await _line(network)

    def explode(peer: bytes, topic: str, payload: bytes) -> None:
        if payload == b"boom":
            raise RuntimeError("handler bug")
        b.inbox(peer, topic, payload)

    b.host._on_message = explode
    a.host.send(b.pubkey, "vote", b"boom")
    a.host.send(b.pubkey, "vote", b"after")
    await wait_for_async(lambda: b.inbox.payloads() == [b"after"], what="message after a handler error")
    assert b.connected_to(a)


async def test_async_on_message_is_awaited(network: Network) -> None:
    a, b, _ = await _line(network)
    got: list[bytes] = []

    async def handler(peer: bytes, topic: str, payload: bytes) -> None:
        got.append(payload)

    b.host._on_message = handler
    a.host.send(b.pubkey, "vote", b"x")
    await wait_for_async(lambda: got == [b"x"], what="async handler ran")
