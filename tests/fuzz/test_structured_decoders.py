"""Structure-aware fuzzing of every decoder that faces a peer or a wallet.

tests/core/test_decode_fuzz.py and tests/p2p/test_units.py throw random
bytes at the decoders; most of those die in the msgpack layer. Here the
inputs are well-formed msgpack maps with the right keys and wrong values
(and valid messages with one field replaced), which reach the field checks,
the constructors' invariants and the signature code. The rule is the same:
a clear, named error (DecodeError, MempoolError, HandshakeError, FrameError)
and nothing else.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from chain_samples import VALIDATOR_KEYS, block, certificate, evidence, nested_tx, vote
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketnode.consensus.messages import Commit, CommitNotice, Prepare, PrePrepare, decode_message, encode_message
from marketnode.core.encoding import decode, encode
from marketnode.core.errors import DecodeError
from marketnode.core.keys import PrivateKey
from marketnode.core.types import PREPARE, PROPOSE
from marketnode.node.mempool.pool import Mempool, MempoolError, MempoolLimits
from marketnode.p2p.framing import FrameError, decode_frame
from marketnode.p2p.handshake import HandshakeError, Initiator, Responder

CHAIN = "marketnode-testnet"
FUZZ = settings(max_examples=int(os.environ.get("MARKETNODE_FUZZ_EXAMPLES", "400")), deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Values of every msgpack kind our encoding admits, including edge sizes and wrong types.
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1), st.binary(max_size=70),
    st.text(max_size=70), st.sampled_from([b"", b"\x00" * 32, b"\xff" * 64, "", CHAIN, 2**64 - 1, -1, 0]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                      max_leaves=12)


def _messages() -> list[bytes]:
    """One valid encoding of each message kind that carries signed parts."""
    b = block()
    proposal = vote(signer=VALIDATOR_KEYS[1], phase=PROPOSE, height=4, view=1, block_hash=b.hash)
    samples = [PrePrepare(b, proposal), Prepare(vote(phase=PREPARE)), Commit(vote()), CommitNotice(certificate())]
    return [encode_message(m) for m in samples]


def _replace_somewhere(obj: Any, path: list[Any], new: Any) -> Any:
    """A copy of ``obj`` with the value at ``path`` (keys/indexes; wrapped around) replaced by ``new``."""
    if not path or not isinstance(obj, dict | list) or not obj:
        return new
    if isinstance(obj, dict):
        key = sorted(obj, key=repr)[path[0] % len(obj)]
        return {**obj, key: _replace_somewhere(obj[key], path[1:], new)}
    index = path[0] % len(obj)
    return [*obj[:index], _replace_somewhere(obj[index], path[1:], new), *obj[index + 1:]]


paths = st.lists(st.integers(0, 50), min_size=1, max_size=5)


# ---- consensus messages -------------------------------------------------------------------

MESSAGES = _messages()


@FUZZ
@given(st.sampled_from(MESSAGES), paths, values)
def test_a_consensus_message_with_any_field_replaced_decodes_or_raises_decode_error(raw, path, new):
    mutated = encode(_replace_somewhere(decode(raw), path, new))
    with contextlib.suppress(DecodeError):
        message = decode_message(mutated)
        assert encode_message(message) == mutated  # what decodes is canonical: re-encodes to the same bytes


@FUZZ
@given(st.dictionaries(st.sampled_from(["type", "vote", "block", "proposal", "certificate", "view", "height",
                                        "view_changes", "pre_prepare", "prepared", "sig", "validator", "chain_id"]),
                       values, max_size=9),
       st.sampled_from(["pre-prepare", "prepare", "commit", "view-change", "new-view", "commit-notice"]))
def test_a_map_of_consensus_keys_with_random_values_raises_only_decode_error(fields, kind):
    with contextlib.suppress(DecodeError):
        decode_message(encode({**fields, "type": kind}))


# ---- txs as the mempool sees them ----------------------------------------------------------

TX_SAMPLES = [nested_tx().encode(), evidence().encode()]


def _pool() -> Mempool:
    return Mempool(MempoolLimits(max_txs=100, max_bytes=1 << 20, max_tx_bytes=64 * 1024, max_per_sender=10, min_fee=0),
                   nested_tx().chain_id)


@FUZZ
@given(st.sampled_from(TX_SAMPLES), paths, values)
def test_a_tx_with_any_field_replaced_is_admitted_or_refused_with_a_mempool_error(raw, path, new):
    mutated = encode(_replace_somewhere(decode(raw), path, new))
    with contextlib.suppress(MempoolError):
        tx = _pool().add(mutated, lambda sender: 0)
        assert tx.encode() == mutated


# ---- the p2p handshake and frames -----------------------------------------------------------

HELLO_KEYS = ["type", "chain_id", "version", "node_key", "eph_key", "challenge", "advertise"]


def _valid_hello() -> dict[str, Any]:
    return decode(Initiator(PrivateKey(b"\x02" * 32), CHAIN, 1).first_message())


@FUZZ
@given(st.dictionaries(st.sampled_from(HELLO_KEYS), values, max_size=7), st.booleans())
def test_a_hello_with_random_field_values_raises_only_handshake_error(fields, start_valid):
    hello = {**_valid_hello(), **fields} if start_valid else fields
    responder = Responder(PrivateKey(b"\x01" * 32), CHAIN, 1)
    with contextlib.suppress(HandshakeError):
        responder.on_hello(encode(hello))


@FUZZ
@given(values, st.one_of(st.none(), st.binary(min_size=64, max_size=64)))
def test_any_auth_after_a_good_hello_raises_only_handshake_error(junk, sig):
    initiator = Initiator(PrivateKey(b"\x02" * 32), CHAIN, 1)
    responder = Responder(PrivateKey(b"\x01" * 32), CHAIN, 1)
    responder.on_hello(initiator.first_message())
    message = {"type": "auth", "sig": sig} if sig is not None else junk
    try:
        responder.on_auth(encode(message))
    except HandshakeError:
        return
    raise AssertionError("an auth message not signed over this handshake's transcript was accepted")


@FUZZ
@given(st.dictionaries(st.sampled_from(["type", "topic", "payload", "id", "ok", "peers", "node_key", "address"]),
                       values, max_size=6),
       st.sampled_from(["msg", "req", "resp", "pex", "nope"]))
def test_a_frame_map_with_random_values_raises_only_frame_error(fields, kind):
    with contextlib.suppress(FrameError):
        decode_frame(encode({**fields, "type": kind}), 1 << 20)
