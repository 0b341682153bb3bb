"""Sync asks the validators for heights before any stranger (issue 13 item 2, the same class elsewhere).

A stranger holding a slot can claim any height and then never serve a block;
asked first, each such liar cost a 10 s request timeout before the syncer
reached a validator, and the claimed height made node_health say "syncing".
The p2p transport is faked here (the syncer under test is real): peers()
and request() answer as an honest validator and a lying stranger would.
"""

from __future__ import annotations

from marketnode.core.encoding import encode
from marketnode.node.chain.sync import Syncer
from marketnode.p2p.peer import PeerInfo

VALIDATOR = b"\x01" * 32
STRANGER = b"\x02" * 32


def info(key: bytes, reserved: bool) -> PeerInfo:
    return PeerInfo(key, None, "inbound", 0.0, 0.0, 0, 0, 0, 0, 0, reserved=reserved)


class FakeP2P:
    def __init__(self, peers: list[PeerInfo], heights: dict[bytes, int]) -> None:
        self._peers = peers
        self.heights = heights
        self.asked: list[tuple[bytes, str]] = []

    def peers(self) -> list[PeerInfo]:
        return self._peers

    async def request(self, peer: bytes, topic: str, payload: bytes, timeout_s: float) -> bytes:
        self.asked.append((peer, topic))
        return encode({"hash": b"\x00" * 32, "height": self.heights[peer]})


class FakeStore:
    def __init__(self, height: int) -> None:
        self.height = height

    def head(self):
        return self

    @property
    def block_hash(self) -> bytes:
        return b"\x00" * 32


def syncer(p2p: FakeP2P, height: int) -> Syncer:
    async def deliver(batch):  # never reached: nothing to fetch in these tests
        raise AssertionError("the syncer fetched blocks")

    return Syncer(p2p, FakeStore(height), deliver, 1 << 20)  # type: ignore[arg-type]


async def test_a_stranger_claiming_a_higher_height_is_not_asked_while_a_validator_answers():
    p2p = FakeP2P([info(STRANGER, False), info(VALIDATOR, True)], {STRANGER: 10**9, VALIDATOR: 7})
    s = syncer(p2p, height=7)
    assert await s._peer_heights() == [(7, VALIDATOR)]
    await s._round()
    assert not s.syncing and s.target != 10**9
    assert all(peer == VALIDATOR for peer, _ in p2p.asked)


async def test_without_a_reserved_peer_any_peer_is_asked():
    p2p = FakeP2P([info(STRANGER, False)], {STRANGER: 4})
    assert await syncer(p2p, height=4)._peer_heights() == [(4, STRANGER)]


async def test_a_silent_validator_lets_the_syncer_fall_back_to_the_others():
    class SilentValidator(FakeP2P):
        async def request(self, peer, topic, payload, timeout_s):
            if peer == VALIDATOR:
                raise TimeoutError
            return await super().request(peer, topic, payload, timeout_s)

    p2p = SilentValidator([info(VALIDATOR, True), info(STRANGER, False)], {STRANGER: 5})
    assert await syncer(p2p, height=5)._peer_heights() == [(5, STRANGER)]
