"""Bulk lanes: tx gossip can neither crowd votes out of a send queue nor hold them up behind a slow handler."""

from __future__ import annotations

import asyncio

from p2p_helpers import Network, fast_config, seed_of
from waiting import wait_for_async

from marketnode.core.keys import PrivateKey
from marketnode.p2p.host import P2PHost


async def test_bulk_frames_have_their_own_send_bound(network: Network) -> None:
    b = await network.start(bulk_topics=("txs",))
    a = await network.start(send_queue_max=5, bulk_topics=("txs",), seeds=(seed_of(b),))
    await wait_for_async(lambda: a.connected_to(b) and b.connected_to(a), what="connected")
    bulk = [a.host.send(b.pubkey, "txs", i.to_bytes(4, "big")) for i in range(20)]  # no await: nothing drains
    votes = [a.host.send(b.pubkey, "vote", i.to_bytes(4, "big")) for i in range(5)]
    assert bulk == [True] * 5 + [False] * 15
    assert votes == [True] * 5, "a full bulk lane must not refuse a vote"
    await wait_for_async(lambda: len(b.inbox.payloads("vote")) == 5 and len(b.inbox.payloads("txs")) == 5, what="delivery")


async def test_a_slow_bulk_handler_does_not_hold_up_votes_and_sheds_its_own_backlog(network: Network) -> None:
    release = asyncio.Event()
    votes: list[bytes] = []
    bulk_seen: list[bytes] = []

    async def on_message(peer: bytes, topic: str, payload: bytes) -> None:
        if topic == "txs":
            bulk_seen.append(payload)
            await release.wait()  # a handler busy verifying a huge tx batch
        else:
            votes.append(payload)

    key = PrivateKey.generate()
    receiver = P2PHost(fast_config(bulk_topics=("txs",), bulk_queue_max=4), key, on_message)
    await receiver.start()
    try:
        a = await network.start(bulk_topics=("txs",), seeds=(receiver.listen_address,))
        await wait_for_async(lambda: any(p.pubkey == key.public_key for p in a.host.peers()), what="connected")
        for i in range(40):
            a.host.send(key.public_key, "txs", b"batch-%d" % i)
        await wait_for_async(lambda: len(bulk_seen) == 1, what="the first bulk frame reaching its handler")
        a.host.send(key.public_key, "vote", b"prepare")
        await wait_for_async(lambda: votes == [b"prepare"], what="the vote delivered while the bulk handler is stuck")
        def dropped() -> int:
            return sum(p.dropped_in for p in receiver.peers())

        await wait_for_async(lambda: dropped() >= 40 - 1 - 5, what="the bulk backlog beyond bulk_queue_max shed")
        release.set()
        await wait_for_async(lambda: len(bulk_seen) + dropped() == 40, what="every kept bulk frame delivered")
        assert len(bulk_seen) <= 1 + 5
    finally:
        await receiver.stop()
