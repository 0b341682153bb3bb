"""The test-only Byzantine behaviours do what they claim, so the real-process tests prove something.

A recording transport stands in for the p2p host (it is not the thing under
test here); the messages it records are decoded and checked like a peer would.
"""

from __future__ import annotations

import pytest

from marketnode.consensus.messages import Prepare, PrePrepare, decode_message
from marketnode.core.errors import ConfigError, DecodeError
from marketnode.core.hashing import digest
from marketnode.core.keys import PrivateKey
from marketnode.core.types import PREPARE, PROPOSE, Block, Vote
from marketnode.tools.byzantine import Misbehaviour

CHAIN = "byz-test"
KEYS = [PrivateKey(bytes([i + 1]) * 32) for i in range(4)]
ME = KEYS[0]


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes | None, bytes]] = []

    def broadcast(self, topic: str, payload: bytes, exclude: bytes | None = None) -> None:
        self.sent.append((None, payload))

    def send(self, peer: bytes, topic: str, payload: bytes) -> bool:
        self.sent.append((peer, payload))
        return True


def misbehaving(mode: str) -> tuple[Misbehaviour, Recorder]:
    recorder = Recorder()
    return Misbehaviour(mode, ME, [k.public_key for k in KEYS], recorder), recorder


def proposal() -> PrePrepare:
    block = Block.build(chain_id=CHAIN, height=5, view=0, timestamp_ms=1_000, parent_hash=digest("header", b"p"),
                        proposer=ME.public_key, state_root=digest("state", b"s"), txs=(), last_cert=None)
    return PrePrepare(block, Vote(CHAIN, PROPOSE, 5, 0, block.hash, ME.public_key).sign(ME))


def test_unknown_modes_are_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="sideways"):
        misbehaving("sideways")


def test_equivocation_sends_two_validly_signed_proposals_and_both_to_one_peer() -> None:
    byz, recorder = misbehaving("equivocate")
    assert byz.broadcast(proposal())
    received: dict[bytes, set[bytes]] = {}
    for peer, payload in recorder.sent:
        msg = decode_message(payload)
        assert isinstance(msg, PrePrepare) and msg.proposal.verify()
        received.setdefault(peer, set()).add(msg.block_hash)
    assert len(set().union(*received.values())) == 2
    assert set(received) == {k.public_key for k in KEYS[1:]}
    assert any(len(hashes) == 2 for hashes in received.values()), "nobody can prove the equivocation"


def test_conflicting_votes_are_validly_signed_for_two_blocks() -> None:
    byz, recorder = misbehaving("conflicting-votes")
    vote = Vote(CHAIN, PREPARE, 5, 0, digest("header", b"b"), ME.public_key).sign(ME)
    assert byz.broadcast(Prepare(vote))
    votes = {decode_message(p).vote for _, p in recorder.sent}
    assert len({v.block_hash for v in votes}) == 2 and all(v.verify() for v in votes)


def test_garbage_alone_is_sent_with_every_broadcast_and_is_malformed_or_unverifiable() -> None:
    byz, recorder = misbehaving("garbage")
    vote = Vote(CHAIN, PREPARE, 5, 0, digest("header", b"b"), ME.public_key).sign(ME)
    assert not byz.broadcast(Prepare(vote))  # the honest message still goes out through the caller
    for _, payload in recorder.sent:
        try:
            msg = decode_message(payload)
        except DecodeError:
            continue
        assert not msg.vote.verify()
