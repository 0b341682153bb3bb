"""Tx gossip on a real mempool: a relayer answers only for what it admitted, and repairs are bounded."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import pytest

from marketnode.core.encoding import decode, encode
from marketnode.core.errors import DecodeError
from marketnode.core.keys import PrivateKey
from marketnode.core.types import Tx
from marketnode.node.mempool.gossip import MAX_GOSSIP_BATCH, RELAYER_FAULTS, TOPIC, TxGossip, tx_batches
from marketnode.node.mempool.pool import Mempool, MempoolLimits

CHAIN = "gossip-test"
A, B = PrivateKey(b"\x01" * 32), PrivateKey(b"\x02" * 32)
PEER = b"\x07" * 32


def signed(key: PrivateKey, nonce: int = 0, chain: str = CHAIN) -> Tx:
    return Tx(chain, key.public_key, nonce, "transfer", {"amount": 1}, 1).sign(key)


@dataclasses.dataclass(frozen=True)
class Peer:
    pubkey: bytes


class RecordingTransport:
    """The p2p calls tx gossip makes, recorded (the transport is not what these tests test)."""

    def __init__(self) -> None:
        self.broadcasts: list[list[bytes]] = []
        self.sent: list[tuple[bytes, list[bytes]]] = []
        self.penalties: list[tuple[bytes, int, str]] = []

    def broadcast(self, topic: str, payload: bytes, exclude: bytes | None = None) -> None:
        assert topic == TOPIC
        self.broadcasts.append(decode(payload))

    def send(self, peer: bytes, topic: str, payload: bytes) -> bool:
        self.sent.append((peer, decode(payload)))
        return True

    def penalize(self, peer: bytes, points: int, reason: str) -> None:
        self.penalties.append((peer, points, reason))

    def peers(self) -> Iterable[Peer]:
        return [Peer(PEER)]

    async def request(self, peer: bytes, topic: str, payload: bytes, timeout_s: float) -> bytes:
        raise TimeoutError


def gossip() -> tuple[TxGossip, Mempool, RecordingTransport, list[int]]:
    mempool = Mempool(MempoolLimits(), CHAIN)
    transport = RecordingTransport()
    work: list[int] = []
    component = TxGossip(mempool, transport, lambda raw: mempool.add(raw, lambda sender: 0),
                         lambda: work.append(1), max_frame_bytes=4 * 1024 * 1024)
    return component, mempool, transport, work


async def test_a_batch_with_a_bad_signature_penalises_its_sender_and_only_the_good_tx_goes_on() -> None:
    component, mempool, transport, work = gossip()
    good = signed(A)
    forged = dataclasses.replace(signed(B), sig=bytes(64))  # B's tx with a signature nobody made
    assert await component.on_batch(PEER, encode([good.encode(), forged.encode()]))
    component.flush()
    assert transport.broadcasts == [[good.encode()]], "a relayer forwards exactly what it admitted"
    assert [(peer, reason.startswith("gossiped an invalid tx")) for peer, _, reason in transport.penalties] == [
        (PEER, True)]
    assert good.hash in mempool and forged.hash not in mempool and work == [1]


async def test_txs_refused_for_the_pools_own_reasons_do_not_penalise_the_relayer() -> None:
    component, _, transport, work = gossip()
    first = signed(A)
    assert await component.on_batch(PEER, encode([first.encode()]))
    # A duplicate is what an honest relayer sends when its peers gossiped the tx to us first.
    assert not await component.on_batch(PEER, encode([first.encode()]))
    component.flush()
    assert transport.penalties == [] and transport.broadcasts == [[first.encode()]] and work == [1]


@pytest.mark.parametrize("payload", [b"\xc1", encode({"not": "a list"}), encode([b"ok", 3])])
async def test_a_batch_that_is_not_a_list_of_tx_bytes_penalises_the_peer(payload: bytes) -> None:
    component, _, transport, work = gossip()
    assert not await component.on_batch(PEER, payload)
    assert len(transport.penalties) == 1 and transport.broadcasts == [] and work == []


def test_the_reasons_that_blame_a_relayer_are_those_a_tx_fails_on_its_own_bytes() -> None:
    assert set(RELAYER_FAULTS) == {"decode", "chain_id", "signature", "too_large"}


def test_batches_stay_under_the_count_and_byte_bounds() -> None:
    raws = [bytes([n % 256]) * 600 for n in range(MAX_GOSSIP_BATCH + 10)]
    batches = [decode(payload) for payload in tx_batches(raws)]
    assert [raw for batch in batches for raw in batch] == raws
    assert all(len(batch) <= MAX_GOSSIP_BATCH for batch in batches) and len(batches) >= 2


def test_a_want_is_answered_with_each_senders_run_and_refused_when_malformed() -> None:
    component, mempool, _, _ = gossip()
    txs = [signed(A, nonce) for nonce in range(3)]
    for tx in txs:
        mempool.add(tx.encode(), lambda sender: 0)
    assert decode(component.serve_want(encode([[A.public_key, 1], [B.public_key, 0]]))) == [
        tx.encode() for tx in txs[1:]]
    with pytest.raises(DecodeError):
        component.serve_want(encode([[A.public_key, "one"]]))
