"""The mempool and multi-signature txs: each signature costs the node's minimum fee, every one is verified,
and a key change in a block drops the pending txs its old keys signed."""

from __future__ import annotations

from dataclasses import replace

import pytest

from marketnode.core.keys import PrivateKey
from marketnode.core.types import Tx
from marketnode.node.mempool.pool import Mempool, MempoolError, MempoolLimits

CHAIN = "mempool-test"
OWNER, PHONE, OTHER = (PrivateKey(bytes([n]) * 32) for n in (1, 2, 3))


def two_signed(nonce: int = 0, fee: int = 2) -> Tx:
    return Tx(CHAIN, OWNER.public_key, nonce, "transfer", {"amount": 1}, fee).cosign(OWNER).cosign(PHONE)


def pool() -> Mempool:
    return Mempool(MempoolLimits(min_fee=1), CHAIN)


def test_the_node_minimum_fee_is_per_signature() -> None:
    mp = pool()
    with pytest.raises(MempoolError) as info:
        mp.add(two_signed(fee=1).encode(), lambda s: 0)
    assert info.value.reason == "fee" and "per signature" in str(info.value)
    assert mp.add(two_signed(fee=2).encode(), lambda s: 0).sigs


def test_one_bad_signature_among_several_is_refused() -> None:
    tx = two_signed()
    (k1, s1), (k2, _) = tx.sigs
    forged = replace(tx, sigs=((k1, s1), (k2, s1)))
    with pytest.raises(MempoolError) as info:
        pool().add(forged.encode(), lambda s: 0)
    assert info.value.reason == "signature"


def test_a_key_change_drops_only_the_txs_its_old_keys_signed() -> None:
    mp = pool()
    old = mp.add(Tx(CHAIN, OWNER.public_key, 0, "transfer", {"amount": 1}, 1).sign(OWNER).encode(), lambda s: 0)
    new = mp.add(Tx(CHAIN, OWNER.public_key, 1, "transfer", {"amount": 2}, 1).cosign(OTHER).encode(), lambda s: 0,
                 allow_gap=True)
    other = mp.add(Tx(CHAIN, PHONE.public_key, 0, "transfer", {"amount": 1}, 1).sign(PHONE).encode(), lambda s: 0)
    dropped = mp.drop_unsigned([OWNER.public_key], lambda tx: OWNER.public_key not in tx.signers())
    assert dropped == [old] and old.hash not in mp and new.hash in mp and other.hash in mp


def test_more_signatures_replace_fewer_at_the_same_nonce() -> None:
    """A thief's one-key tx cannot squat the nonce a 2-of-2 owner's threshold-signed tx needs."""
    mp = pool()
    thief = mp.add(Tx(CHAIN, OWNER.public_key, 0, "transfer", {"amount": 9}, 1).cosign(PHONE).encode(), lambda s: 0)
    owner = mp.add(two_signed(nonce=0).encode(), lambda s: 0)
    assert thief.hash not in mp and owner.hash in mp and len(mp) == 1 and mp.executable_count() == 1
    with pytest.raises(MempoolError) as info:  # the thief cannot take it back, nor replay the old one
        mp.add(thief.encode(), lambda s: 0)
    assert info.value.reason == "duplicate"
    one = Tx(CHAIN, OWNER.public_key, 0, "transfer", {"amount": 8}, 1).cosign(PHONE)
    with pytest.raises(MempoolError) as info:
        mp.add(one.encode(), lambda s: 0)
    assert info.value.reason == "duplicate"


def test_a_replacement_must_pass_the_market_check() -> None:
    mp = pool()
    mp.add(Tx(CHAIN, OWNER.public_key, 0, "transfer", {"amount": 9}, 1).cosign(PHONE).encode(), lambda s: 0)

    def refuse(tx: Tx, next_nonce: int) -> None:
        raise MempoolError("signature", "a key outside the account's set")

    with pytest.raises(MempoolError):
        mp.add(two_signed(nonce=0).encode(), lambda s: 0, refuse)
    assert len(mp) == 1


def test_a_batch_counts_each_signature_against_the_tx_budget() -> None:
    """Verification work per block stays bounded: a 2-signature tx takes two of max_txs."""
    mp = pool()
    keys = [PrivateKey(bytes([n]) * 32) for n in range(10, 16)]
    for key in keys:
        tx = Tx(CHAIN, key.public_key, 0, "transfer", {"amount": 1}, 2).cosign(key).cosign(OTHER)
        mp.add(tx.encode(), lambda s: 0)
    batch = mp.take_batch(5, 10**6, lambda s: 0)
    assert len(batch) == 2 and sum(len(tx.sigs) for tx in batch) == 4
