"""Garbage on the p2p port never crashes the host: it is refused, scored, banned, and good peers are still served."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import struct

import aiohttp
import pytest
from p2p_helpers import CHAIN, Network, Node, seed_of
from waiting import wait_for_async

from marketnode.core.encoding import encode
from marketnode.core.errors import P2PError
from marketnode.core.keys import PrivateKey
from marketnode.p2p import probe
from marketnode.p2p.framing import MsgFrame, encode_frame
from marketnode.p2p.peer import CLOSE_BANNED, PENALTY_BAD_FRAME
from marketnode.p2p.probe import RawPeer


async def _still_serves(network: Network, target: Node) -> None:
    good = await network.start(seeds=(seed_of(target),))
    await wait_for_async(lambda: good.connected_to(target) and target.connected_to(good), what="a good peer connects")
    assert good.host.send(target.pubkey, "vote", b"still alive")
    await wait_for_async(lambda: b"still alive" in target.inbox.payloads(), what="the good peer's message")


async def test_every_probe_is_refused_and_the_host_keeps_serving(network: Network) -> None:
    b = await network.start(max_frame_bytes=64 * 1024)
    outcomes = await probe.run_all(b.host.listen_address, CHAIN, oversized_bytes=100_000)
    assert outcomes["random_bytes"].startswith("answered HTTP/1.") and " 400 " in outcomes["random_bytes"], outcomes
    assert outcomes["plain_http"] == "http 400", outcomes
    assert outcomes["garbage_hello"].startswith("refused: handshake message does not decode"), outcomes
    assert outcomes["wrong_chain"].startswith("refused: wrong chain id"), outcomes
    assert outcomes["bad_signature"].startswith("refused: handshake signature does not verify"), outcomes
    assert outcomes["replayed_handshake"].startswith("refused: handshake signature does not verify"), outcomes
    assert outcomes["oversized_frame"].startswith("closed 1009"), outcomes
    assert b.host.peers() == []
    await _still_serves(network, b)


async def test_more_plain_http_gets_errors_not_crashes(network: Network) -> None:
    b = await network.start()
    async with aiohttp.ClientSession() as session:
        async with session.post(f"http://{b.host.listen_address}/p2p", data=os.urandom(1000)) as response:
            assert response.status >= 400
        async with session.get(f"http://{b.host.listen_address}/") as response:
            assert response.status == 404
    for _ in range(5):
        await probe.random_bytes(b.host.listen_address)
    await _still_serves(network, b)


@pytest.mark.parametrize(
    "hello",
    [os.urandom(64), b"", encode({"type": "hello"}), encode([1, 2, 3]), b"\xc1" * 10, encode({"type": "auth", "sig": b""})],
)
async def test_garbage_hello_over_websocket_is_refused(network: Network, hello: bytes) -> None:
    b = await network.start()
    async with await RawPeer.connect(b.host.listen_address) as raw:
        await raw.send(hello)
        assert probe.describe(await raw.receive()).startswith("refused: ")
    await wait_for_async(lambda: b.host.stats.handshakes_failed == 1, what="handshake failure counted")
    await _still_serves(network, b)


async def test_text_frame_and_silence_fail_the_handshake(network: Network) -> None:
    b = await network.start(handshake_timeout_s=0.2)
    async with await RawPeer.connect(b.host.listen_address) as text, await RawPeer.connect(b.host.listen_address):
        await text.ws.send_str("hello?")
        await wait_for_async(lambda: b.host.stats.handshakes_failed == 2, what="both refused (one by timeout)")
    await _still_serves(network, b)


async def test_oversized_frame_after_the_handshake_is_penalized(network: Network) -> None:
    b = await network.start(max_frame_bytes=4096)
    key = PrivateKey.generate()
    raw = await RawPeer.connect(b.host.listen_address)
    try:
        await raw.handshake(key, CHAIN)
        await wait_for_async(lambda: len(b.host.peers()) == 1, what="raw peer admitted")
        await raw.send_sealed(encode_frame(MsgFrame("vote", os.urandom(10_000))))
        await wait_for_async(lambda: b.host.peers() == [], what="oversized sender disconnected")
    finally:
        await raw.close()
    assert b.host._key_scores.score(key.public_key, b.host._now()) < 0
    await _still_serves(network, b)


async def test_undecodable_sealed_frames_are_dropped_and_scored(network: Network) -> None:
    b = await network.start()
    key = PrivateKey.generate()
    raw = await RawPeer.connect(b.host.listen_address)
    try:
        await raw.handshake(key, CHAIN)
        for bad in (os.urandom(50), encode({"type": "nope"}), encode({"type": "msg", "topic": "", "payload": b""})):
            await raw.send_sealed(bad)
        await raw.send_sealed(encode_frame(MsgFrame("vote", b"valid")))
        await wait_for_async(lambda: b.inbox.payloads() == [b"valid"], what="the valid frame after the bad ones")
        [info] = b.host.peers()
        assert info.score <= -3 * PENALTY_BAD_FRAME + 1
    finally:
        await raw.close()


async def test_forged_or_replayed_sealed_frame_ends_the_link(network: Network) -> None:
    b = await network.start()
    raw = await RawPeer.connect(b.host.listen_address)
    try:
        await raw.handshake(PrivateKey.generate(), CHAIN)
        assert raw.cipher is not None
        sealed = raw.cipher.seal(encode_frame(MsgFrame("vote", b"once")))
        await raw.ws.send_bytes(sealed)
        await raw.ws.send_bytes(sealed)  # replay: the receive counter has moved on
        await wait_for_async(lambda: b.host.peers() == [], what="link closed on the replay")
    finally:
        await raw.close()
    assert b.inbox.payloads() == [b"once"]
    await _still_serves(network, b)


async def test_flood_above_the_rate_is_dropped_then_banned(network: Network) -> None:
    b = await network.start(rate_msgs_per_s=20.0, ban_threshold=30, ban_seconds=30.0)
    key = PrivateKey.generate()
    raw = await RawPeer.connect(b.host.listen_address)
    try:
        await raw.handshake(key, CHAIN)
        for i in range(200):
            await raw.send_sealed(encode_frame(MsgFrame("tx", i.to_bytes(4, "big"))))
        await wait_for_async(lambda: b.host.is_banned(key.public_key), what="flooder banned")
        await wait_for_async(lambda: b.host.peers() == [], what="flooder disconnected")
    finally:
        await raw.close()
    assert len(b.inbox.messages) <= 40  # the 1 s burst at most; the rest dropped, the backlog discarded on the ban
    again = await RawPeer.connect(b.host.listen_address)
    try:
        await again.handshake(key, CHAIN)
        refusal = await again.receive()
        assert refusal.type == aiohttp.WSMsgType.CLOSE and refusal.data == CLOSE_BANNED
    finally:
        await again.close()
    await _still_serves(network, b)


async def test_bytes_above_the_rate_are_dropped(network: Network) -> None:
    b = await network.start(max_frame_bytes=1024, rate_bytes_per_s=2000.0)
    async with await RawPeer.connect(b.host.listen_address) as raw:
        await raw.handshake(PrivateKey.generate(), CHAIN)
        for i in range(10):
            await raw.send_sealed(encode_frame(MsgFrame("tx", bytes([i]) * 900)))
        await wait_for_async(lambda: b.host.stats.violations >= 5, what="over-rate frames scored")
    assert 1 <= len(b.inbox.messages) <= 3


async def test_repeated_handshake_failures_ban_the_ip_for_a_while(network: Network) -> None:
    b = await network.start(ip_fail_threshold=3, ban_seconds=0.5, ip_ban_loopback=True)
    for attempt in range(1, 4):
        raw = await RawPeer.connect(b.host.listen_address)
        await raw.send(b"junk")
        await raw.receive()
        await raw.close()
        await wait_for_async(lambda n=attempt: b.host.stats.handshakes_failed == n, what="failure counted")
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await RawPeer.connect(b.host.listen_address)
    assert refused.value.status == 403
    await wait_for_async(lambda: not b.host._inbound.ip_scores.is_banned("127.0.0.1", b.host._now()), what="ban over")
    await _still_serves(network, b)


async def test_loopback_is_not_ip_banned_by_default(network: Network) -> None:
    b = await network.start(ip_fail_threshold=2)
    for attempt in range(1, 4):
        assert (await probe.garbage_hello(b.host.listen_address)).startswith("refused")
        await wait_for_async(lambda n=attempt: b.host.stats.handshakes_failed == n, what="failure counted")
    await _still_serves(network, b)


async def test_max_peers_refuses_the_extra_peer(network: Network) -> None:
    a, b = await network.pair(max_peers=1)
    c = await network.start(seeds=(seed_of(b),))
    await wait_for_async(lambda: c.host.stats.handshakes_failed >= 1 or b.host.stats.handshakes_failed >= 1, what="refused")
    assert not c.connected_to(b)
    assert [p.pubkey for p in b.host.peers()] == [a.pubkey]


async def test_full_send_queue_drops_instead_of_blocking(network: Network) -> None:
    b = await network.start()
    a = await network.start(send_queue_max=5, seeds=(seed_of(b),))
    await wait_for_async(lambda: a.connected_to(b) and b.connected_to(a), what="connected")
    results = [a.host.send(b.pubkey, "vote", i.to_bytes(4, "big")) for i in range(50)]  # no await: writer can't drain
    assert results == [True] * 5 + [False] * 45
    assert a.host.peers()[0].dropped_out == 45
    await wait_for_async(lambda: len(b.inbox.messages) == 5, what="the five queued messages delivered")


def _random_frame(rng: random.Random) -> bytes:
    """Mostly well-formed-looking frames with wrong or random fields, some raw garbage."""
    choice = rng.randrange(4)
    if choice == 0:
        return rng.randbytes(rng.randrange(1, 200))
    junk: list[object] = [None, True, -1, 2**63, "", "x" * 70, b"", rng.randbytes(40), [1], {"a": 1}]
    kind = rng.choice(["msg", "req", "resp", "pex", "hello", "", "MSG"])
    fields = rng.sample(["topic", "payload", "id", "ok", "peers", "node_key", "address"], rng.randrange(0, 4))
    value: dict[str, object] = {"type": kind, **{name: rng.choice(junk) for name in fields}}
    if choice == 1 and kind == "req":
        value = {"type": "req", "id": rng.randrange(2**63), "topic": "blocks", "payload": rng.randbytes(10)}
    if choice == 2 and kind == "resp":
        value = {"type": "resp", "id": rng.randrange(2**63), "ok": rng.random() < 0.5, "payload": b""}
    return encode(value)


async def test_random_sealed_frames_never_crash_the_host(network: Network) -> None:
    b = await network.start(ban_threshold=10**9, on_request=lambda peer, topic, payload: asyncio.sleep(0, b"ok"))
    rng = random.Random(1234)
    async with await RawPeer.connect(b.host.listen_address) as raw:
        await raw.handshake(PrivateKey.generate(), CHAIN)
        for _ in range(500):
            await raw.send_sealed(_random_frame(rng))
        await raw.send_sealed(encode_frame(MsgFrame("vote", b"last")))
        await wait_for_async(lambda: b"last" in b.inbox.payloads(), what="the final valid frame")
    assert b.host.stats.violations > 100
    await _still_serves(network, b)


async def test_an_answer_above_the_frame_limit_becomes_an_error(network: Network) -> None:
    async def huge(peer: bytes, topic: str, payload: bytes) -> bytes:
        return b"x" * 5000

    a, b = await network.pair(max_frame_bytes=4096, on_request=huge)
    with pytest.raises(P2PError, match="too large"):
        await a.host.request(b.pubkey, "blocks", b"", 2.0)


async def test_a_peer_that_dies_abruptly_is_not_penalized(network: Network) -> None:
    b = await network.start()
    key = PrivateKey.generate()
    for _ in range(3):  # a validator SIGKILLed three times must not be banned for it
        raw = await RawPeer.connect(b.host.listen_address)
        await raw.handshake(key, CHAIN)
        await raw.receive()  # welcome
        await wait_for_async(lambda: len(b.host.peers()) == 1, what="admitted")
        await raw.send_sealed(encode_frame(MsgFrame("vote", b"x")))
        transport = raw.ws._response.connection.transport  # type: ignore[union-attr]
        assert transport is not None
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST
        transport.abort()  # no close frame, as from a SIGKILLed process
        await raw.session.close()
        await wait_for_async(lambda: b.host.peers() == [], what="dead link noticed")
    assert b.host._key_scores.score(key.public_key, b.host._now()) == 0
    assert not b.host.is_banned(key.public_key)


async def test_a_paused_peer_is_dropped_by_heartbeat_without_penalty(network: Network) -> None:
    b = await network.start(heartbeat_s=0.2)
    key = PrivateKey.generate()
    async with await RawPeer.connect(b.host.listen_address) as raw:
        await raw.handshake(key, CHAIN)  # then never reads again, like a SIGSTOPped process: pings go unanswered
        await wait_for_async(lambda: len(b.host.peers()) == 1, what="admitted")
        await wait_for_async(lambda: b.host.peers() == [], deadline_s=5.0, what="heartbeat dropped the silent peer")
    assert b.host._key_scores.score(key.public_key, b.host._now()) == 0
