"""Regression: a mempool full of txs stuck behind a nonce gap refused the tx that fills the gap, forever.

Found by tests/reliability/test_load.py. A full pool must still refuse new
work clearly, but a tx that can execute next evicts gapped txs (furthest from
executable first); an executable tx is never evicted.
"""

from __future__ import annotations

import pytest

from marketnode.core.keys import PrivateKey
from marketnode.core.types import Tx
from marketnode.node.mempool.pool import Mempool, MempoolError, MempoolLimits

CHAIN = "mempool-full-test"
A, B = PrivateKey(b"\x01" * 32), PrivateKey(b"\x02" * 32)


def raw(key: PrivateKey, nonce: int) -> bytes:
    return Tx(CHAIN, key.public_key, nonce, "transfer", {"amount": 1}, 0).sign(key).encode()


def next_nonce(sender: bytes) -> int:
    return 0


def full_of_gapped_txs() -> Mempool:
    pool = Mempool(MempoolLimits(max_txs=5), CHAIN)
    for nonce in range(1, 6):  # nonce 0 missing: none of these can execute
        pool.add(raw(A, nonce), next_nonce)
    return pool


def test_a_full_pool_refuses_another_gapped_tx_clearly() -> None:
    pool = full_of_gapped_txs()
    with pytest.raises(MempoolError, match="holds its limit") as info:
        pool.add(raw(B, 3), next_nonce)
    assert info.value.reason == "full" and len(pool) == 5


def test_the_tx_that_fills_the_gap_gets_in_by_evicting_the_furthest_gapped_tx() -> None:
    pool = full_of_gapped_txs()
    filler = pool.add(raw(A, 0), next_nonce)
    assert filler.hash in pool and len(pool) == 5
    assert Tx.decode(raw(A, 5)).hash not in pool  # the furthest from executable went
    assert [tx.nonce for tx in pool.take_batch(10, 1 << 20, next_nonce)] == [0, 1, 2, 3, 4]


def test_executable_txs_are_never_evicted() -> None:
    pool = Mempool(MempoolLimits(max_txs=3), CHAIN)
    for nonce in range(3):
        pool.add(raw(A, nonce), next_nonce)
    with pytest.raises(MempoolError, match="holds its limit"):
        pool.add(raw(B, 0), next_nonce)
    assert len(pool) == 3
