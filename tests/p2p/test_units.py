"""The sans-IO pieces on their own: config parsing, handshake, session cipher, frames, buckets, scores."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketnode.core.encoding import decode, encode
from marketnode.core.errors import ConfigError, P2PError, ValidationError
from marketnode.core.keys import PrivateKey
from marketnode.p2p.config import P2PConfig, parse_peer_address
from marketnode.p2p.framing import FrameError, MsgFrame, PexFrame, ReqFrame, RespFrame, decode_frame, encode_frame
from marketnode.p2p.handshake import HandshakeError, Initiator, Responder, SelfConnectionError, derive_session
from marketnode.p2p.pex import AddressBook, SeenCache
from marketnode.p2p.ratelimit import TokenBucket
from marketnode.p2p.scoring import Scoreboard
from marketnode.p2p.session import SessionCipher

CHAIN = "unit-chain"


def _handshake(initiator: Initiator, responder: Responder):  # type: ignore[no-untyped-def]
    reply = responder.on_hello(initiator.first_message())
    last, client = initiator.on_reply(reply)
    return client, responder.on_auth(last)


# ---- config ---------------------------------------------------------------


def test_seed_with_and_without_a_key() -> None:
    key = PrivateKey.generate().public_key
    assert parse_peer_address("10.0.0.1:26656").pubkey is None
    parsed = parse_peer_address(f"{key.hex()}@node.example:9000")
    assert (parsed.host, parsed.port, parsed.pubkey) == ("node.example", 9000, key)
    assert parse_peer_address("[::1]:80").hostport == "[::1]:80"


@pytest.mark.parametrize("bad", ["", "host", "host:0", "host:99999", ":80", "zz@h:1", "ab@h:1", "h h:1", "h:x"])
def test_malformed_seed_is_refused(bad: str) -> None:
    with pytest.raises(ValidationError):
        parse_peer_address(bad)


def test_config_refuses_bad_values() -> None:
    with pytest.raises(ConfigError):
        P2PConfig(chain_id="Bad Chain", listen_port=1)
    with pytest.raises(ConfigError):
        P2PConfig(chain_id="c", listen_port=1, seeds=("nope",))
    with pytest.raises(ConfigError):
        P2PConfig(chain_id="c", listen_port=1, max_peers=0)
    with pytest.raises(ConfigError):
        P2PConfig(chain_id="c", listen_port=1, reconnect_min_ms=10, reconnect_max_ms=5)
    config = P2PConfig(chain_id="c", listen_port=0, seeds=("127.0.0.1:1",))
    assert config.seed_addresses[0].port == 1


# ---- handshake ------------------------------------------------------------


def test_handshake_gives_matching_ciphers_and_proven_keys() -> None:
    a, b = PrivateKey.generate(), PrivateKey.generate()
    client, server = _handshake(Initiator(a, CHAIN, 1, "10.0.0.1:1"), Responder(b, CHAIN, 1, "10.0.0.2:2"))
    assert client.peer_key == b.public_key and server.peer_key == a.public_key
    assert server.peer_advertise == "10.0.0.1:1" and client.peer_advertise == "10.0.0.2:2"
    assert server.cipher.open(client.cipher.seal(b"ping")) == b"ping"
    assert client.cipher.open(server.cipher.seal(b"pong")) == b"pong"


def test_handshake_is_fresh_every_time() -> None:
    a = PrivateKey.generate()
    first = Initiator(a, CHAIN, 1).first_message()
    second = Initiator(a, CHAIN, 1).first_message()
    assert decode(first)["challenge"] != decode(second)["challenge"]
    assert decode(first)["eph_key"] != decode(second)["eph_key"]


def test_responder_signature_cannot_be_reflected_as_initiator_auth() -> None:
    a, b = PrivateKey.generate(), PrivateKey.generate()
    initiator, responder = Initiator(a, CHAIN, 1), Responder(b, CHAIN, 1)
    reply = decode(responder.on_hello(initiator.first_message()))
    with pytest.raises(HandshakeError, match="does not verify"):
        responder.on_auth(encode({"type": "auth", "sig": reply["sig"]}))


def test_man_in_the_middle_swapping_the_ephemeral_key_fails() -> None:
    a, b = PrivateKey.generate(), PrivateKey.generate()
    initiator, responder = Initiator(a, CHAIN, 1), Responder(b, CHAIN, 1)
    hello = decode(initiator.first_message())
    hello["eph_key"] = Initiator(PrivateKey.generate(), CHAIN, 1).hello.eph_key  # the attacker's key
    reply = responder.on_hello(encode(hello))
    with pytest.raises(HandshakeError, match="does not verify"):
        initiator.on_reply(reply)


def test_expected_key_mismatch_and_self_connection() -> None:
    a, b = PrivateKey.generate(), PrivateKey.generate()
    initiator = Initiator(a, CHAIN, 1, expected_peer_key=PrivateKey.generate().public_key)
    with pytest.raises(HandshakeError, match="expected"):
        initiator.on_reply(Responder(b, CHAIN, 1).on_hello(initiator.first_message()))
    me = Initiator(a, CHAIN, 1)
    with pytest.raises(SelfConnectionError):
        me.on_reply(Responder(a, CHAIN, 1).on_hello(me.first_message()))


@pytest.mark.parametrize("point", [bytes(32), b"\x01" + bytes(31)])
def test_low_order_ephemeral_key_is_refused(point: bytes) -> None:
    with pytest.raises(HandshakeError, match="exchange"):
        derive_session(b"\x07" * 32, point, b"t" * 32, initiator=True)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_as_a_hello_raise_only_handshake_errors(data: bytes) -> None:
    responder = Responder(PrivateKey(b"\x01" * 32), CHAIN, 1)
    with contextlib.suppress(HandshakeError):
        responder.on_hello(data)


# ---- session --------------------------------------------------------------


def test_session_rejects_replay_reorder_and_tampering() -> None:
    k1, k2 = b"\x01" * 32, b"\x02" * 32
    sender, receiver = SessionCipher(k1, k2), SessionCipher(k2, k1)
    one, two, three = sender.seal(b"1"), sender.seal(b"2"), sender.seal(b"3")
    assert receiver.open(one) == b"1"
    with pytest.raises(P2PError):
        receiver.open(one)  # replay
    with pytest.raises(P2PError):
        receiver.open(three)  # reorder (skips two)
    tampered = bytes([two[0] ^ 1]) + two[1:]
    with pytest.raises(P2PError):
        receiver.open(tampered)
    assert receiver.open(two) == b"2"
    with pytest.raises(P2PError):
        receiver.open(b"short")


# ---- frames ---------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        MsgFrame("tx", b"\x00" * 10),
        ReqFrame(7, "blocks", b"range"),
        RespFrame(7, False, b"no"),
        PexFrame(((b"\x05" * 32, "10.0.0.1:26656"),)),
    ],
)
def test_frames_round_trip(frame: object) -> None:
    assert decode_frame(encode_frame(frame), 1 << 20) == frame  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        {"type": "msg", "topic": "tx"},
        {"type": "msg", "topic": "x" * 65, "payload": b""},
        {"type": "msg", "topic": "tx", "payload": "str"},
        {"type": "msg", "topic": "tx", "payload": b"", "extra": 1},
        {"type": "req", "id": -1, "topic": "t", "payload": b""},
        {"type": "resp", "id": 1, "ok": 1, "payload": b""},
        {"type": "pex", "peers": [{"node_key": b"short", "address": "h:1"}]},
        {"type": "pex", "peers": [{"node_key": b"\x00" * 32, "address": "no-port"}]},
        {"type": "pex", "peers": [{"node_key": b"\x00" * 32, "address": "h:1"}] * 65},
        {"type": "hello"},
        [1, 2],
    ],
)
def test_malformed_frames_raise_frame_error(value: object) -> None:
    with pytest.raises(FrameError):
        decode_frame(encode(value), 1 << 20)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_as_a_frame_raise_only_frame_errors(data: bytes) -> None:
    with contextlib.suppress(FrameError):
        decode_frame(data, 1 << 20)


# ---- buckets, scores, caches ---------------------------------------------


def test_token_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=10, capacity=10, now=0.0)
    assert all(bucket.take(1, 0.0) for _ in range(10))
    assert not bucket.take(1, 0.0)
    assert bucket.take(1, 0.1)
    assert not bucket.take(1, 0.1)
    assert bucket.take(10, 5.0)  # capped at capacity
    assert not bucket.take(1, 5.0)


def test_scoreboard_bans_at_the_threshold_and_recovers() -> None:
    board = Scoreboard(threshold=10, ban_seconds=60, recovery_per_s=1)
    assert not board.penalize("k", 6, now=0)
    assert board.score("k", now=2) == -4
    assert not board.penalize("k", 5, now=2)  # -9
    assert board.penalize("k", 1, now=2)  # -10 → banned
    assert board.is_banned("k", now=59) and not board.is_banned("k", now=62)
    assert board.score("k", now=62) == 0


def test_seen_cache_and_address_book_are_bounded() -> None:
    seen = SeenCache(3)
    assert [seen.add(bytes([i])) for i in (1, 2, 1, 3, 4)] == [True, True, False, True, True]
    assert len(seen) == 3 and b"\x01" not in seen
    book = AddressBook(2)
    assert book.learn(b"a", "h:1") and not book.learn(b"a", "h:1")
    book.learn(b"b", "h:2")
    book.learn(b"c", "h:3")
    assert [k for k, _ in book.items()] == [b"b", b"c"]
