"""Who may connect: chain id, version, expected key, valid signatures, fresh challenges, bans."""

from __future__ import annotations

import pytest
from p2p_helpers import CHAIN, Network, seed_of
from waiting import wait_for_async

from marketnode.core.encoding import decode, encode
from marketnode.core.errors import P2PError
from marketnode.core.keys import PrivateKey
from marketnode.p2p import probe
from marketnode.p2p.handshake import HandshakeError, Initiator
from marketnode.p2p.probe import RawPeer


async def _assert_still_serves(network: Network, target) -> None:  # type: ignore[no-untyped-def]
    good = await network.start(seeds=(seed_of(target),))
    await wait_for_async(lambda: good.connected_to(target), what="a good peer still connects")
    good.host.send(target.pubkey, "vote", b"ok")
    await wait_for_async(lambda: b"ok" in target.inbox.payloads(), what="good peer's message delivered")


async def test_wrong_chain_id_is_refused_with_a_reason(network: Network) -> None:
    b = await network.start()
    a = await network.start(chain_id="other-chain", seeds=(seed_of(b),))
    await wait_for_async(lambda: b.host.stats.handshakes_failed >= 1 and a.host.stats.handshakes_failed >= 1, what="fail")
    assert a.host.peers() == [] and b.host.peers() == []
    raw = await RawPeer.connect(b.host.listen_address)
    try:
        with pytest.raises(HandshakeError, match="wrong chain id"):
            await raw.handshake(PrivateKey.generate(), chain_id="other-chain")
    finally:
        await raw.close()


async def test_wrong_protocol_version_is_refused(network: Network) -> None:
    b = await network.start()
    a = await network.start(protocol_version=2, seeds=(seed_of(b),))
    await wait_for_async(lambda: a.host.stats.handshakes_failed >= 1, what="refused")
    assert a.host.peers() == [] and b.host.peers() == []


async def test_peer_proving_a_different_key_than_expected_is_refused(network: Network) -> None:
    b = await network.start()
    wrong = PrivateKey.generate().public_key.hex()
    a = await network.start(seeds=(f"{wrong}@{b.host.listen_address}",))
    await wait_for_async(lambda: a.host.stats.handshakes_failed >= 2, what="two refused dials")
    assert a.host.peers() == [] and b.host.peers() == []


async def test_bad_handshake_signature_is_refused(network: Network) -> None:
    b = await network.start()
    outcome = await probe.bad_signature(b.host.listen_address, CHAIN)
    assert outcome.startswith("refused: handshake signature does not verify"), outcome
    await wait_for_async(lambda: b.host.stats.handshakes_failed == 1, what="failure counted")
    assert b.host.peers() == [] and b.host.stats.handshakes_ok == 0
    await _assert_still_serves(network, b)


async def test_signature_by_another_key_than_the_hello_claims_is_refused(network: Network) -> None:
    b = await network.start()
    claimed, actual = PrivateKey.generate(), PrivateKey.generate()
    raw = await RawPeer.connect(b.host.listen_address)
    try:
        initiator = Initiator(claimed, CHAIN, 1)
        await raw.send(initiator.first_message())
        reply = await raw.receive()
        initiator._key = actual  # sign with a key that is not the one announced
        last, _ = initiator.on_reply(reply.data)
        await raw.send(last)
        assert "does not verify" in decode((await raw.receive()).data)["reason"]
    finally:
        await raw.close()
    assert b.host.peers() == []


async def test_replayed_handshake_is_refused(network: Network) -> None:
    b = await network.start()
    outcome = await probe.replayed_handshake(b.host.listen_address, CHAIN)
    assert outcome.startswith("refused: handshake signature does not verify"), outcome
    assert b.host.stats.handshakes_ok == 1  # the genuine recording session only
    await wait_for_async(lambda: b.host.peers() == [], what="no peer left")
    await _assert_still_serves(network, b)


async def test_replayed_listener_reply_is_refused_by_the_dialer() -> None:
    """A fake listener replaying an old reply cannot answer the dialer's fresh challenge."""
    server, client = PrivateKey.generate(), PrivateKey.generate()
    from marketnode.p2p.handshake import Responder

    first = Initiator(client, CHAIN, 1)
    old_reply = Responder(server, CHAIN, 1).on_hello(first.first_message())
    second = Initiator(client, CHAIN, 1)
    second.first_message()
    with pytest.raises(HandshakeError, match="does not verify"):
        second.on_reply(old_reply)


async def test_banned_key_cannot_reconnect_until_the_ban_ends(network: Network) -> None:
    b = await network.start(ban_seconds=0.5)
    a = await network.start(seeds=(seed_of(b),))
    await wait_for_async(lambda: b.connected_to(a), what="connected")
    b.host.penalize(a.pubkey, 1000, "test")
    await wait_for_async(lambda: not b.connected_to(a), what="banned peer disconnected")
    assert b.host.is_banned(a.pubkey)
    await wait_for_async(lambda: b.host.stats.rejected_banned >= 1, what="a redial refused during the ban")
    assert not b.connected_to(a)
    await wait_for_async(lambda: b.connected_to(a), deadline_s=5.0, what="reconnected after the ban")


async def test_a_refused_peer_is_told_why() -> None:
    with pytest.raises(P2PError):
        Initiator(PrivateKey.generate(), CHAIN, 1).on_reply(encode({"type": "reject", "reason": "banned"}))
