"""Peer slots against a crowd of strangers (issue 13, item 2): reserved keys always get in.

The attack: fresh keys pass the handshake, so strangers from one IP took 47
of 50 slots on every validator, and a restarted validator was refused
(HTTP 503 before its handshake) by all the others: the chain halted. Each
test floods a real host with strangers that complete the real handshake.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import aiohttp
import pytest
from p2p_helpers import CHAIN, Network, free_ports, seed_of
from waiting import wait_for_async

from marketnode.core.keys import PrivateKey
from marketnode.p2p.framing import PexFrame, encode_frame
from marketnode.p2p.probe import RawPeer


@dataclass
class Stranger:
    raw: RawPeer
    key: bytes

    async def close(self) -> None:
        await self.raw.close()


async def flood(address: str, count: int, local_host: str | None = None) -> list[Stranger]:
    """``count`` strangers, each with a fresh key, that complete the handshake and then hold on."""
    strangers = []
    for _ in range(count):
        try:
            raw = await RawPeer.connect(address, local_host=local_host)
        except aiohttp.ClientError:
            continue
        key = PrivateKey.generate()
        strangers.append(Stranger(raw, key.public_key))
        with contextlib.suppress(Exception):  # refused: it stays in the list so the test closes it
            await raw.handshake(key, CHAIN)
    return strangers


async def close_all(strangers: list) -> None:
    for stranger in strangers:
        await stranger.close()


def has(node, key: bytes) -> bool:
    return any(p.pubkey == key for p in node.host.peers())


async def test_a_validator_gets_in_past_strangers_holding_every_slot(network: Network) -> None:
    validator_key = PrivateKey.generate()
    v = await network.start(max_peers=6, max_inbound=6, reserved_keys=(validator_key.public_key,))
    strangers = await flood(v.host.listen_address, 12)
    try:
        await wait_for_async(lambda: len(v.host.peers()) == 6, what="strangers to take every slot")
        other = await network.start(key=validator_key, seeds=(seed_of(v),))
        await wait_for_async(lambda: v.connected_to(other) and other.connected_to(v), what="the validator to get in")
        assert v.host.stats.evictions >= 1
        await wait_for_async(lambda: len(v.host.peers()) == 6, what="the evicted stranger to be gone")
    finally:
        await close_all(strangers)


async def test_a_restarted_validator_gets_back_in_while_strangers_wait_for_its_slot(network: Network) -> None:
    key = PrivateKey.generate()
    v = await network.start(max_peers=5, max_inbound=5, reserved_keys=(key.public_key,))
    first = await network.start(key=key, seeds=(seed_of(v),))
    await wait_for_async(lambda: v.connected_to(first), what="the validators to connect")
    strangers = await flood(v.host.listen_address, 10)
    try:
        await first.host.stop()
        await wait_for_async(lambda: not v.connected_to(first), what="the validator to go")
        # the strangers that were refused come back for the freed slot
        strangers += await flood(v.host.listen_address, 3)
        await wait_for_async(lambda: len(v.host.peers()) == 5, what="strangers to take the freed slot")
        again = await network.start(key=key, seeds=(seed_of(v),))
        await wait_for_async(lambda: v.connected_to(again) and again.connected_to(v), what="the restarted validator")
    finally:
        await close_all(strangers)


async def test_a_validator_dialed_by_the_full_host_gets_a_slot_too(network: Network) -> None:
    key = PrivateKey.generate()
    other = await network.start(key=key)
    v = await network.start(max_peers=4, max_inbound=4, reserved_keys=(key.public_key,))
    strangers = await flood(v.host.listen_address, 6)
    try:
        await wait_for_async(lambda: len(v.host.peers()) == 4, what="strangers to take every slot")
        v.host.connect(seed_of(other, with_key=True))
        await wait_for_async(lambda: v.connected_to(other) and other.connected_to(v), what="the outbound reserved link")
    finally:
        await close_all(strangers)


async def test_inbound_strangers_stop_at_max_inbound_and_leave_room_for_the_rest(network: Network) -> None:
    key = PrivateKey.generate()
    v = await network.start(max_peers=10, max_inbound=3, reserved_keys=(key.public_key,))
    strangers = await flood(v.host.listen_address, 5)
    try:
        await wait_for_async(lambda: v.host.stats.refused_full == 2, what="the 4th and 5th strangers to be refused")
        assert len(v.host.peers()) == 3
        validator = await network.start(key=key, seeds=(seed_of(v),))
        await wait_for_async(lambda: v.connected_to(validator), what="the reserved peer, with no eviction needed")
        assert v.host.stats.evictions == 0
    finally:
        await close_all(strangers)


async def test_per_ip_cap_at_the_edge(network: Network) -> None:
    v = await network.start(max_inbound_per_ip=2, ip_limit_loopback=True)
    strangers = await flood(v.host.listen_address, 2, local_host="127.0.0.2")
    try:
        await wait_for_async(lambda: len(v.host.peers()) == 2, what="two strangers from one address")
        strangers += await flood(v.host.listen_address, 1, local_host="127.0.0.2")
        await wait_for_async(lambda: v.host.stats.refused_full == 1, what="the third from that address to be refused")
        strangers += await flood(v.host.listen_address, 1, local_host="127.0.0.3")
        await wait_for_async(lambda: len(v.host.peers()) == 3, what="another address to get in")
    finally:
        await close_all(strangers)


async def test_per_subnet_cap_at_the_edge(network: Network) -> None:
    v = await network.start(max_inbound_per_ip=2, max_inbound_per_subnet=3, ip_limit_loopback=True)
    strangers = await flood(v.host.listen_address, 2, local_host="127.0.9.1")
    strangers += await flood(v.host.listen_address, 2, local_host="127.0.9.2")
    try:
        await wait_for_async(lambda: v.host.stats.refused_full == 1, what="the 4th from 127.0.9.0/24 to be refused")
        assert len(v.host.peers()) == 3
        strangers += await flood(v.host.listen_address, 1, local_host="127.0.10.1")
        await wait_for_async(lambda: len(v.host.peers()) == 4, what="another /24 to get in")
    finally:
        await close_all(strangers)


async def test_loopback_is_exempt_from_address_caps_by_default(network: Network) -> None:
    v = await network.start(max_inbound_per_ip=1, max_inbound_per_subnet=1)
    strangers = await flood(v.host.listen_address, 3)
    try:
        await wait_for_async(lambda: len(v.host.peers()) == 3, what="three local peers despite a cap of one per IP")
    finally:
        await close_all(strangers)


async def test_a_crowded_network_loses_a_slot_to_a_newcomer_from_elsewhere_but_not_to_itself(network: Network) -> None:
    v = await network.start(max_peers=4, max_inbound=4, ip_limit_loopback=True)
    crowd = await flood(v.host.listen_address, 4, local_host="127.0.11.1")
    try:
        await wait_for_async(lambda: len(v.host.peers()) == 4, what="one network to take every slot")
        crowd += await flood(v.host.listen_address, 1, local_host="127.0.11.2")
        await wait_for_async(lambda: v.host.stats.refused_full == 1, what="the same network to be refused")
        assert v.host.stats.evictions == 0
        newcomer = await flood(v.host.listen_address, 1, local_host="127.0.12.1")
        crowd += newcomer
        await wait_for_async(lambda: v.host.stats.evictions == 1, what="a member of the crowd to be evicted")
        await wait_for_async(lambda: len(v.host.peers()) == 4, what="the table to settle at four")
        assert has(v, newcomer[0].key)
    finally:
        await close_all(crowd)


async def test_a_silent_stranger_is_closed_but_a_quiet_honest_peer_is_kept(network: Network) -> None:
    v = await network.start(idle_timeout_s=0.6, pex_interval_s=0.2)
    honest = await network.start(seeds=(seed_of(v),), pex=False, pex_interval_s=0.2)  # sends empty pex frames
    await wait_for_async(lambda: v.connected_to(honest), what="the honest peer")
    silent = await flood(v.host.listen_address, 1)
    try:
        await wait_for_async(lambda: len(v.host.peers()) == 2, what="the silent stranger to get in")
        await wait_for_async(lambda: v.host.stats.idle_closed == 1, what="the silent stranger to be closed as idle")
        await wait_for_async(lambda: len(v.host.peers()) == 1, what="the silent stranger to be gone")
        assert v.connected_to(honest)
    finally:
        await close_all(silent)


async def test_a_stranger_that_keeps_talking_is_not_idle(network: Network) -> None:
    v = await network.start(idle_timeout_s=0.6, pex_interval_s=0.2)
    [talker] = await flood(v.host.listen_address, 1)
    await wait_for_async(lambda: has(v, talker.key), what="the talker to get in")

    async def talk() -> None:
        while True:
            await talker.raw.send_sealed(encode_frame(PexFrame(())))
            await asyncio.sleep(0.1)  # pacing of the traffic, not a wait for the host

    talking = asyncio.ensure_future(talk())
    [silent] = await flood(v.host.listen_address, 1)
    try:
        await wait_for_async(lambda: v.host.stats.idle_closed == 1, what="the silent one to be closed as idle")
        await wait_for_async(lambda: not has(v, silent.key), what="the silent one to be gone")
        assert has(v, talker.key), "a stranger that sends frames was closed as idle"
    finally:
        talking.cancel()
        await asyncio.gather(talking, return_exceptions=True)
        await close_all([talker, silent])


async def test_half_open_websockets_cannot_keep_a_validator_out(network: Network) -> None:
    key = PrivateKey.generate()
    v = await network.start(max_handshakes=3, handshake_timeout_s=30.0, reserved_keys=(key.public_key,))
    stallers = [await RawPeer.connect(v.host.listen_address) for _ in range(3)]  # upgrade, then say nothing
    try:
        validator = await network.start(key=key, seeds=(seed_of(v),))
        await wait_for_async(lambda: v.connected_to(validator), what="the validator past the stalled handshakes")
        assert v.host.stats.handshakes_dropped >= 1
    finally:
        await close_all(stallers)


async def test_handshakes_in_progress_are_capped_per_address(network: Network) -> None:
    v = await network.start(max_handshakes_per_ip=2, handshake_timeout_s=30.0, ip_limit_loopback=True)
    stallers = [await RawPeer.connect(v.host.listen_address, local_host="127.0.0.4") for _ in range(2)]
    try:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await RawPeer.connect(v.host.listen_address, local_host="127.0.0.4")
        assert refused.value.status == 503
        stallers.append(await RawPeer.connect(v.host.listen_address, local_host="127.0.0.5"))
    finally:
        await close_all(stallers)


@pytest.mark.parametrize("first_bytes", [b"", b"GET /p2p HTTP/1.1\r\nHost: x\r\n"], ids=["silent", "partial-headers"])
async def test_a_tcp_connection_that_never_upgrades_is_closed_after_the_handshake_timeout(
    network: Network, first_bytes: bytes
) -> None:
    v = await network.start(handshake_timeout_s=0.5)
    host, port = v.host.listen_address.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(first_bytes)
        await writer.drain()
        async with asyncio.timeout(5.0):  # aiohttp's default keeps such a socket for an hour
            while await reader.read(4096):
                pass  # whatever it answers, the server must then close
    finally:
        writer.close()


async def test_an_established_link_outlives_the_pre_upgrade_timeout(network: Network) -> None:
    b = await network.start(handshake_timeout_s=0.3)  # b listens with the short timeout
    a = await network.start(seeds=(seed_of(b),), pex_interval_s=0.05, idle_timeout_s=1.0)
    await wait_for_async(lambda: a.connected_to(b) and b.connected_to(a), what="a and b connected")
    since = b.host.peers()[0].connected_since
    # a's pex loop sends a frame every 0.05 s: ten of them take over 0.5 s, above the 0.3 s timeout
    await wait_for_async(lambda: b.host.peers() and b.host.peers()[0].msgs_in >= 10, what="ten keepalive frames")
    assert b.host.peers()[0].connected_since == since and a.connected_to(b)


async def test_addresses_from_a_stranger_fill_only_the_outbound_slots_but_a_validator_is_always_dialed(
    network: Network,
) -> None:
    validator_key = PrivateKey.generate()
    v = await network.start(max_outbound=2, reserved_keys=(validator_key.public_key,), reconnect_min_ms=5000, reconnect_max_ms=10_000)
    [stranger] = await flood(v.host.listen_address, 1)
    dead = free_ports(6)  # nothing listens: the dials fail slowly enough to stay targets during the test
    fake = tuple((PrivateKey.generate().public_key, f"127.0.0.1:{port}") for port in dead)
    await stranger.raw.send_sealed(encode_frame(PexFrame(fake)))
    await wait_for_async(lambda: len(v.host._book) == 6, what="the six addresses to be learned")
    assert len(v.host._dialer.targets) == 2, "a stranger's addresses took more than max_outbound dial slots"
    validator = await network.start(key=validator_key)
    await stranger.raw.send_sealed(encode_frame(PexFrame(((validator_key.public_key, seed_of(validator)),))))
    await wait_for_async(lambda: v.connected_to(validator), what="the announced validator to be dialed despite full slots")
    await stranger.close()


async def test_an_address_refused_a_slot_again_and_again_is_banned_for_a_while(network: Network) -> None:
    v = await network.start(max_inbound=1, ip_ban_loopback=True, ip_fail_threshold=3)
    strangers = await flood(v.host.listen_address, 1)  # takes the only inbound slot
    try:
        strangers += await flood(v.host.listen_address, 3)
        await wait_for_async(lambda: v.host.stats.refused_full == 3 and v.host.stats.bans == 1, what="three refusals, a ban")
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await RawPeer.connect(v.host.listen_address)
        assert refused.value.status == 403
    finally:
        await close_all(strangers)


async def test_the_dropped_handshake_comes_from_the_busiest_address(network: Network) -> None:
    v = await network.start(max_handshakes=3, handshake_timeout_s=30.0)
    lone = await RawPeer.connect(v.host.listen_address, local_host="127.0.0.7")  # the oldest, alone on its address
    stallers = [lone] + [await RawPeer.connect(v.host.listen_address, local_host="127.0.0.6") for _ in range(2)]
    try:
        await wait_for_async(lambda: len(v.host._inbound.pending) == 3, what="three handshakes in progress")
        stallers.append(await RawPeer.connect(v.host.listen_address, local_host="127.0.0.8"))
        await wait_for_async(lambda: v.host.stats.handshakes_dropped == 1, what="one handshake dropped")
        await wait_for_async(lambda: sorted(p.ip for p in v.host._inbound.pending.values()) == ["127.0.0.6", "127.0.0.7", "127.0.0.8"],
                       what="the lone address kept, one of the busy address's two dropped")
    finally:
        await close_all(stallers)


async def test_a_learned_address_refused_by_our_own_full_table_is_given_up(network: Network) -> None:
    other = await network.start()
    v = await network.start(max_peers=1, max_inbound=1, max_outbound=1)
    [stranger] = await flood(v.host.listen_address, 1)  # the only slot
    try:
        await wait_for_async(lambda: has(v, stranger.key), what="the stranger to take the only slot")
        await stranger.raw.send_sealed(encode_frame(PexFrame(((other.pubkey, seed_of(other)),))))
        await wait_for_async(lambda: v.host.stats.refused_full >= 1, what="the dialed peer refused by v's full table")
        await wait_for_async(lambda: not v.host._dialer.targets, what="v to stop redialing an address it has no room for")
    finally:
        await stranger.close()


async def open_silent(address: str, count: int, local_host: str | None = None) -> list[asyncio.StreamWriter]:
    host, port = address.rsplit(":", 1)
    writers = []
    for _ in range(count):
        _, writer = await asyncio.open_connection(host, int(port), local_addr=(local_host, 0) if local_host else None)
        writers.append(writer)
    return writers


async def test_silent_tcp_connections_are_capped_and_a_validator_still_gets_in(network: Network) -> None:
    key = PrivateKey.generate()
    v = await network.start(max_pending_connections=4, handshake_timeout_s=30.0, reserved_keys=(key.public_key,))
    writers = await open_silent(v.host.listen_address, 10)
    try:
        await wait_for_async(lambda: v.host._inbound.server.dropped >= 6, what="six silent sockets closed")
        assert v.host._inbound.server.waiting <= 4
        validator = await network.start(key=key, seeds=(seed_of(v),))
        await wait_for_async(lambda: v.connected_to(validator), what="the validator past the silent sockets")
    finally:
        for writer in writers:
            writer.close()


async def test_the_silent_socket_closed_comes_from_the_busiest_address(network: Network) -> None:
    v = await network.start(max_pending_connections=4, handshake_timeout_s=30.0)
    writers = await open_silent(v.host.listen_address, 1, "127.0.0.7")
    writers += await open_silent(v.host.listen_address, 3, "127.0.0.6")
    try:
        await wait_for_async(lambda: v.host._inbound.server.waiting == 4, what="four waiting sockets")
        writers += await open_silent(v.host.listen_address, 1, "127.0.0.8")
        await wait_for_async(lambda: v.host._inbound.server.dropped == 1, what="one socket closed")
        ips = sorted(ip for ip, _ in v.host._inbound.server._waiting.values())
        assert ips == ["127.0.0.6", "127.0.0.6", "127.0.0.7", "127.0.0.8"]
    finally:
        for writer in writers:
            writer.close()


async def test_a_plain_http_answer_closes_the_connection(network: Network) -> None:
    v = await network.start(handshake_timeout_s=30.0)  # so only the explicit close can end it in time
    host, port = v.host.listen_address.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        await writer.drain()
        async with asyncio.timeout(5.0):
            answer = await reader.read()  # to EOF: the server must close after answering
        assert answer.startswith(b"HTTP/1.1 404")
    finally:
        writer.close()


async def test_many_connections_with_one_stranger_key_hold_one_slot(network: Network) -> None:
    v = await network.start()
    key = PrivateKey.generate()
    raws = []
    try:
        for _ in range(10):
            raw = await RawPeer.connect(v.host.listen_address)
            raws.append(raw)
            await raw.handshake(key, CHAIN)
        await wait_for_async(lambda: v.host.stats.duplicates_dropped >= 9, what="each newer link to replace the older")
        await wait_for_async(lambda: len(v.host.peers()) == 1, what="one link for the one key")
    finally:
        await close_all(raws)
