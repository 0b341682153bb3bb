"""Wire messages: canonical round trips, DecodeError on anything bad, LastSigned's signing rule."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from replica_harness import CHAIN, GENESIS, KEYS, NOW, FakeApp, make_config, propose

from marketnode.consensus.messages import (
    Commit,
    CommitNotice,
    NewView,
    Prepare,
    PreparedCert,
    ViewChange,
    decode_message,
    encode_message,
)
from marketnode.consensus.records import LastSigned
from marketnode.consensus.replica import Replica
from marketnode.core.encoding import encode
from marketnode.core.errors import ConsensusError, DecodeError
from marketnode.core.types import COMMIT, PREPARE, PROPOSE, Certificate, Vote


def vote(phase: int, i: int = 0, block_hash: bytes = b"\x01" * 32, view: int = 0, height: int = 1) -> Vote:
    return Vote(CHAIN, phase, height, view, block_hash, KEYS[i].public_key).sign(KEYS[i])


def prepared(block_hash: bytes, view: int = 0) -> PreparedCert:
    return PreparedCert(tuple(vote(PREPARE, i, block_hash, view) for i in range(3)))


PP = propose()
VC = ViewChange(CHAIN, 1, 1, KEYS[1].public_key, prepared(PP.block_hash), PP.block).sign(KEYS[1])
CERT = Certificate.from_votes([vote(COMMIT, i) for i in range(3)])

MESSAGES = [
    PP,
    Prepare(vote(PREPARE)),
    Commit(vote(COMMIT)),
    VC,
    ViewChange(CHAIN, 1, 2, KEYS[2].public_key, None, None).sign(KEYS[2]),
    NewView(1, 1, (VC.without_block(),), propose(PP.block, view=1)),
    NewView(1, 3, (), None),
    CommitNotice(CERT),
]


@pytest.mark.parametrize("msg", MESSAGES, ids=lambda m: type(m).__name__)
def test_every_message_round_trips_through_canonical_bytes(msg: object) -> None:
    data = encode_message(msg)  # type: ignore[arg-type]
    assert decode_message(data) == msg
    assert encode_message(decode_message(data)) == data


def test_pre_prepare_caches_its_block_hash() -> None:
    assert PP.block_hash == PP.block.hash == PP.proposal.block_hash


BAD_INPUTS = [
    ("empty", b""),
    ("not msgpack", b"\xc1\xc1"),
    ("not a map", encode([1, 2])),
    ("unknown type", encode({"type": "gossip"})),
    ("missing field", encode({"type": "prepare"})),
    ("extra field", encode({"type": "prepare", "vote": vote(PREPARE).to_obj(), "x": 1})),
    ("prepare holding a commit vote", encode({"type": "prepare", "vote": vote(COMMIT).to_obj()})),
    ("commit holding a prepare vote", encode({"type": "commit", "vote": vote(PREPARE).to_obj()})),
    ("proposal signing another block", encode({
        "type": "pre-prepare", "block": PP.block.to_obj(),
        "proposal": vote(PROPOSE, 0, b"\x02" * 32).to_obj(),
    })),
    ("view change to view 0", encode(ViewChange(CHAIN, 1, 1, KEYS[1].public_key, None, None).to_obj() | {"view": 0})),
    ("new view carrying blocks", encode(NewView(1, 1, (), None).to_obj() | {"view_changes": [VC.to_obj()]})),
    ("truncated", encode_message(PP)[:-3]),
]


@pytest.mark.parametrize(("why", "data"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_bytes_raise_decode_error(why: str, data: bytes) -> None:
    with pytest.raises(DecodeError):
        decode_message(data)


def test_prepared_certificate_refuses_mixed_votes() -> None:
    with pytest.raises(ConsensusError):
        PreparedCert((vote(PREPARE, 0, b"\x01" * 32), vote(PREPARE, 1, b"\x02" * 32)))
    with pytest.raises(ConsensusError):
        PreparedCert((vote(PREPARE, 0), vote(PREPARE, 0)))


def test_view_change_signature_covers_what_it_reports() -> None:
    assert VC.verify()
    assert not ViewChange(CHAIN, 1, 2, VC.validator, VC.prepared, VC.block, VC.sig).verify()
    assert VC.without_block().verify()


SIGNING_RULE = [
    # last signed (height, view, phase), then candidate (height, view, phase, same block?) -> allowed
    ((5, 0, PREPARE), (5, 0, COMMIT, False), True),
    ((5, 0, PREPARE), (5, 0, PREPARE, True), True),
    ((5, 0, PREPARE), (5, 0, PREPARE, False), False),
    ((5, 0, COMMIT), (5, 0, PREPARE, True), False),
    ((5, 1, None), (5, 0, COMMIT, True), False),
    ((5, 1, None), (5, 1, PROPOSE, False), True),
    ((5, 2, PREPARE), (5, 3, None, False), True),
    ((5, 2, PREPARE), (6, 0, PROPOSE, False), True),
    ((5, 2, PREPARE), (4, 9, COMMIT, False), False),
]


@pytest.mark.parametrize(("last", "candidate", "allowed"), SIGNING_RULE)
def test_last_signed_allows_only_later_steps_or_the_same_vote(last, candidate, allowed) -> None:  # type: ignore[no-untyped-def]
    record = LastSigned(*last, b"\x01" * 32)
    height, view, phase, same = candidate
    assert record.allows(height, view, phase, b"\x01" * 32 if same else b"\x02" * 32) is allowed


def test_last_signed_round_trips_with_its_prepared_block() -> None:
    record = LastSigned(1, 0, COMMIT, PP.block_hash, prepared(PP.block_hash), PP.block)
    assert LastSigned.decode(record.encode()) == record
    bare = LastSigned(3, 2, None, bytes(32))
    assert LastSigned.decode(bare.encode()) == bare
    with pytest.raises(DecodeError):
        LastSigned.decode(encode(bare.to_obj() | {"phase": 7}))



@settings(max_examples=300, deadline=None)
@given(st.sampled_from(MESSAGES), st.data())
def test_mutated_bytes_decode_or_raise_decode_error_only(msg: object, data: st.DataObject) -> None:
    raw = bytearray(encode_message(msg))  # type: ignore[arg-type]
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    for candidate in (bytes(raw), bytes(raw[:cut])):
        try:
            decoded = decode_message(candidate)
        except DecodeError:
            continue
        replica = Replica(make_config(), KEYS[1], FakeApp(), GENESIS, None)
        replica.receive(KEYS[0].public_key, decoded, NOW)  # must not raise, whatever it holds
