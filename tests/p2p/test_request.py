"""Request/response: answers, remote errors, timeouts and disconnects become P2PError."""

from __future__ import annotations

import asyncio

import pytest
from p2p_helpers import Network
from waiting import wait_for_async

from marketnode.core.errors import P2PError


async def _echo(peer: bytes, topic: str, payload: bytes) -> bytes:
    if topic == "fail":
        raise ValueError("no such block")
    if topic == "slow":
        await asyncio.sleep(10)  # a handler that never answers in time: the requester's timeout is under test
    return topic.encode() + b":" + payload


async def test_request_gets_the_answer(network: Network) -> None:
    a, b = await network.pair(on_request=_echo)
    answers = await asyncio.gather(*(a.host.request(b.pubkey, "blocks", bytes([i]), 2.0) for i in range(10)))
    assert answers == [b"blocks:" + bytes([i]) for i in range(10)]


async def test_handler_error_is_a_p2p_error_with_its_message(network: Network) -> None:
    a, b = await network.pair(on_request=_echo)
    with pytest.raises(P2PError, match="no such block"):
        await a.host.request(b.pubkey, "fail", b"", 2.0)


async def test_no_handler_is_refused(network: Network) -> None:
    a, b = await network.pair()
    with pytest.raises(P2PError, match="serves no requests"):
        await a.host.request(b.pubkey, "blocks", b"", 2.0)


async def test_timeout_raises_p2p_error(network: Network) -> None:
    a, b = await network.pair(on_request=_echo)
    with pytest.raises(P2PError, match="timed out"):
        await a.host.request(b.pubkey, "slow", b"", 0.1)


async def test_disconnect_fails_pending_requests(network: Network) -> None:
    a, b = await network.pair(on_request=_echo)
    pending = asyncio.ensure_future(a.host.request(b.pubkey, "slow", b"", 10.0))
    await wait_for_async(lambda: b.host.peers() and b.host.peers()[0].msgs_in >= 1, what="request arrived")
    await b.host.stop()
    with pytest.raises(P2PError, match="disconnected"):
        await asyncio.wait_for(pending, 5.0)


async def test_request_to_unknown_peer_raises(network: Network) -> None:
    a = await network.start()
    with pytest.raises(P2PError, match="not connected"):
        await a.host.request(b"\x02" * 32, "blocks", b"", 1.0)


async def test_a_message_handler_may_await_a_request_to_the_same_peer(network: Network) -> None:
    """Responses are read while the handler waits, so this does not deadlock until the timeout."""
    a, b = await network.pair(on_request=_echo)
    answers: list[bytes] = []

    async def on_message(peer: bytes, topic: str, payload: bytes) -> None:
        answers.append(await a.host.request(peer, "status", payload, 2.0))

    a.host._on_message = on_message
    assert b.host.send(a.pubkey, "announce", b"height=7")
    await wait_for_async(lambda: answers == [b"status:height=7"], deadline_s=1.5, what="request answered inside the handler")


async def test_messages_sent_just_before_a_close_are_delivered(network: Network) -> None:
    a, b = await network.pair()
    for i in range(50):
        assert a.host.send(b.pubkey, "vote", bytes([i]))
    await a.host.stop()
    await wait_for_async(lambda: len(b.inbox.messages) == 50, what="all fifty delivered")
