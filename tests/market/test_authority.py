"""Key rotation and multi-key accounts: who may sign for an account, and the attacks on it.

Attacks first: a stolen key used after rotation, a rotation racing a tx in
one block, one key of a 2-of-2 pair, outsider keys, signature stuffing, a
rotation to a key nobody holds, value smuggled past an ``above`` limit.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest
from market_harness import CHAIN_ID, Chain, make_genesis

import marketnode.market.codes as codes
from marketnode.core.keys import PrivateKey
from marketnode.core.types import MAX_TX_SIGS, Tx
from marketnode.market import keys
from marketnode.market.authority import authority_of
from marketnode.market.engine import check_tx, load_params
from marketnode.market.params import DAY_MS
from marketnode.market.state import StateOverlay


def fresh(name: str) -> PrivateKey:
    return PrivateKey(hashlib.sha256(b"authority-test:" + name.encode()).digest())


NEW, PHONE, THIEF = fresh("new"), fresh("phone"), fresh("thief")


def rotate_alice(chain: Chain, new: PrivateKey = NEW) -> None:
    chain.signing["alice"] = [chain.keys["alice"], new]  # the current key and the new one (proof of possession)
    chain.ok("alice", "account_rotate", new_key=new.public_key)
    chain.signing["alice"] = [new]


def two_of_two(chain: Chain, **policy: object) -> None:
    """alice: her address key and PHONE, both needed (or as ``policy`` says)."""
    chain.signing["alice"] = [chain.keys["alice"], PHONE]
    chain.ok("alice", "account_set_authority", keys=[chain.acct("alice"), PHONE.public_key], threshold=2, **policy)


def transfer_body(chain: Chain, amount: int = 10, asset: str = "MKT") -> dict:
    return dict(to=chain.acct("bob"), asset=asset, amount=amount)


# -- attacks ------------------------------------------------------------------

def test_a_rotated_out_key_is_refused_without_fee_or_nonce(chain: Chain) -> None:
    rotate_alice(chain)
    chain.signing["alice"] = [chain.keys["alice"]]  # the thief holds the old key
    before = chain.state.items()
    receipt = chain.send("alice", "transfer", **transfer_body(chain))
    assert (receipt.ok, receipt.code, receipt.fee_paid) == (False, codes.BAD_SIGNERS, 0)
    after = chain.state.items()
    after.pop(keys.receipts_root(chain.height))
    assert after == before


def test_rotation_keeps_address_balances_shop_and_reputation(chain: Chain) -> None:
    shop, listing = chain.market()
    order = chain.shipped(listing)
    chain.ok("bob", "order_confirm", order=order)
    chain.ok("bob", "review", order=order, ratings={r: 5 for r in ("overall", "quality", "accuracy", "delivery",
                                                                  "service")}, text_hash=bytes(32))
    rating, usd = chain.load(keys.seller_rating(chain.acct("alice"))), chain.balance("alice")
    rotate_alice(chain)
    assert chain.load(keys.seller_rating(chain.acct("alice"))) == rating and chain.balance("alice") == usd
    chain.ok("alice", "shop_update", shop=shop, name="Same shop, new key")
    chain.ok("alice", "transfer", **transfer_body(chain))
    assert authority_of(chain.state, chain.acct("alice")).keys == (NEW.public_key,)


def test_a_rotation_landing_first_in_a_block_refuses_the_old_keys_later_tx(chain: Chain) -> None:
    """Admission saw the old key valid; execution re-checks and refuses the tx cleanly, the block goes on."""
    alice = chain.keys["alice"]
    rotate = Tx(CHAIN_ID, alice.public_key, 0, "account_rotate", {"new_key": NEW.public_key}, 2).cosign(alice).cosign(NEW)
    stolen = Tx(CHAIN_ID, alice.public_key, 1, "transfer", transfer_body(chain, 500_000), 1).sign(alice)
    after = chain.tx("bob", "transfer", to=chain.acct("carol"), asset="MKT", amount=1)
    receipts = chain.block([rotate, stolen, after])
    assert [(r.ok, r.code, r.fee_paid) for r in receipts] == [(True, codes.OK, 2), (False, codes.BAD_SIGNERS, 0),
                                                              (True, codes.OK, 1)]
    assert chain.balance("alice", "MKT") == 1_000_000 - 2


def test_admission_reads_the_key_set_at_the_head(chain: Chain) -> None:
    rotate_alice(chain)
    old = Tx(CHAIN_ID, chain.acct("alice"), 1, "transfer", transfer_body(chain), 1).sign(chain.keys["alice"])
    with pytest.raises(Exception) as refused:
        check_tx(chain.state, old, load_params(chain.state))
    assert getattr(refused.value, "code", None) == codes.BAD_SIGNERS
    check_tx(chain.state, Tx(CHAIN_ID, chain.acct("alice"), 1, "transfer", transfer_body(chain), 1).cosign(NEW),
             load_params(chain.state))


def test_one_key_of_a_two_of_two_account_is_refused(chain: Chain) -> None:
    two_of_two(chain)
    for signer in (chain.keys["alice"], PHONE):
        chain.signing["alice"] = [signer]
        receipt = chain.send("alice", "transfer", **transfer_body(chain))
        assert (receipt.code, receipt.fee_paid) == (codes.BAD_SIGNERS, 0)
    chain.signing["alice"] = [chain.keys["alice"], PHONE]
    chain.ok("alice", "transfer", fee=2, **transfer_body(chain))


def test_an_outsider_key_cannot_join_the_signatures(chain: Chain) -> None:
    chain.signing["alice"] = [chain.keys["alice"], THIEF]
    assert chain.send("alice", "transfer", fee=2, **transfer_body(chain)).code == codes.BAD_SIGNERS
    two_of_two(chain)
    chain.signing["alice"] = [PHONE, THIEF]  # the thief's key does not count towards 2
    assert chain.send("alice", "transfer", fee=2, **transfer_body(chain)).code == codes.BAD_SIGNERS


def test_a_rotation_to_a_key_that_did_not_sign_is_refused(chain: Chain) -> None:
    """No one can lock an account onto a key nobody holds (a typo, or an attacker's grief)."""
    receipt = chain.send("alice", "account_rotate", new_key=NEW.public_key)
    assert (receipt.code, receipt.fee_paid) == (codes.BAD_SIGNERS, 0)
    chain.signing["alice"] = [chain.keys["alice"], PHONE]
    receipt = chain.send("alice", "account_set_authority", fee=2, threshold=2,
                         keys=[chain.acct("alice"), PHONE.public_key, NEW.public_key])
    assert receipt.code == codes.BAD_SIGNERS


def test_one_key_cannot_change_the_key_set_whatever_the_policy(chain: Chain) -> None:
    two_of_two(chain, kinds=[])  # one key is enough for everything ... except authority kinds
    chain.signing["alice"] = [PHONE]
    chain.ok("alice", "transfer", **transfer_body(chain))
    chain.signing["alice"] = [PHONE, NEW]
    assert chain.send("alice", "account_rotate", fee=2, new_key=NEW.public_key,
                      old_key=chain.acct("alice")).code == codes.BAD_SIGNERS
    chain.signing["alice"] = [PHONE]
    assert chain.send("alice", "account_set_guardians", guardians=[chain.acct("bob")], threshold=1,
                      delay_ms=60_000).code == codes.BAD_SIGNERS


def test_signature_count_is_capped_at_the_edge() -> None:
    chain = Chain(make_genesis(max_tx_signers=3, max_account_keys=4))
    extra = [fresh(f"k{i}") for i in range(3)]
    chain.signing["alice"] = [chain.keys["alice"], *extra]
    receipt = chain.send("alice", "account_set_authority", fee=4, threshold=2,
                         keys=[chain.acct("alice"), *(k.public_key for k in extra)])
    assert receipt.code == codes.BAD_SIGNERS  # 4 signatures > 3
    chain.signing["alice"] = [chain.keys["alice"], *extra[:2]]
    chain.ok("alice", "account_set_authority", fee=3, threshold=2,
             keys=[chain.acct("alice"), *(k.public_key for k in extra[:2])])


def test_each_signature_costs_min_fee() -> None:
    chain = Chain()
    two_of_two(chain)
    chain.signing["alice"] = [chain.keys["alice"], PHONE]
    assert chain.send("alice", "transfer", fee=1, **transfer_body(chain)).code == codes.FEE_TOO_LOW
    assert chain.send("alice", "transfer", fee=2, **transfer_body(chain)).ok


def test_a_tx_carries_at_most_max_tx_sigs() -> None:
    tx = Tx(CHAIN_ID, NEW.public_key, 0, "transfer", {}, 0)
    for i in range(MAX_TX_SIGS):
        tx = tx.cosign(fresh(f"s{i}"))
    with pytest.raises(Exception, match="at most"):
        tx.cosign(fresh("one too many"))


# -- value threshold ---------------------------------------------------------------

def test_one_key_moves_up_to_above_per_period_fees_included(chain: Chain) -> None:
    two_of_two(chain, above=100)
    chain.signing["alice"] = [PHONE]
    chain.ok("alice", "transfer", **transfer_body(chain, 99))  # 99 + fee 1 = the whole allowance
    receipt = chain.send("alice", "transfer", **transfer_body(chain, 1))
    assert (receipt.code, receipt.fee_paid) == (codes.BAD_SIGNERS, 0)  # even the fee no longer fits
    chain.advance(DAY_MS)
    before = chain.balance("alice", "MKT")
    receipt = chain.fails(codes.THRESHOLD_REQUIRED, "alice", "transfer", **transfer_body(chain, 100))
    assert receipt.fee_paid == 1 and chain.balance("alice", "MKT") == before - 1
    chain.fails(codes.THRESHOLD_REQUIRED, "alice", "transfer", **transfer_body(chain, 1, "USD"))
    chain.ok("alice", "transfer", **transfer_body(chain, 97))  # 3 fees and 97: the new day's 100
    chain.signing["alice"] = [chain.keys["alice"], PHONE]
    chain.ok("alice", "transfer", **transfer_body(chain, 5_000))  # both keys: no allowance applies
    chain.ok("alice", "transfer", **transfer_body(chain, 5_000, "USD"))


def test_a_thief_with_one_key_cannot_drain_in_small_txs(chain: Chain) -> None:
    """The allowance is per period, not per tx: splitting a theft into many small txs gains nothing."""
    two_of_two(chain, above=50)
    start = chain.balance("alice", "MKT")
    chain.signing["alice"] = [PHONE]
    for _ in range(40):
        chain.send("alice", "transfer", **transfer_body(chain, 10))
    assert start - chain.balance("alice", "MKT") <= 50


def test_a_huge_fee_by_one_key_is_refused_before_it_is_paid(chain: Chain) -> None:
    two_of_two(chain, above=100)
    chain.signing["alice"] = [PHONE]
    before = chain.balance("alice", "MKT")
    receipt = chain.send("alice", "register", fee=900_000, name="Thief", commitment=bytes(32))
    assert (receipt.code, receipt.fee_paid, chain.balance("alice", "MKT")) == (codes.BAD_SIGNERS, 0, before)


def test_value_into_escrow_counts_against_above(chain: Chain) -> None:
    _shop, listing = chain.market()
    chain.signing["bob"] = [chain.keys["bob"], PHONE]
    chain.ok("bob", "account_set_authority", fee=2, keys=[chain.acct("bob"), PHONE.public_key], threshold=2, above=50)
    chain.signing["bob"] = [PHONE]
    chain.fails(codes.THRESHOLD_REQUIRED, "bob", "order_place", listing=listing, quantity=1, max_total=10**9,
                address_seller=b"sealed", arbiter=chain.acct("arb"))


def test_listed_kinds_need_the_threshold_others_one_key(chain: Chain) -> None:
    shop, _ = chain.market()
    two_of_two(chain, kinds=["transfer", "shop_update", "shop_close"])
    chain.signing["alice"] = [PHONE]
    assert chain.send("alice", "transfer", **transfer_body(chain)).code == codes.BAD_SIGNERS
    assert chain.send("alice", "shop_close", shop=shop).code == codes.BAD_SIGNERS
    chain.listing("alice", shop)  # not listed: one key will do


# -- every declared rejection -------------------------------------------------

def test_account_rotate_rejections(chain: Chain) -> None:
    two_of_two(chain)
    chain.signing["alice"] = [chain.keys["alice"], PHONE, NEW]
    chain.fails(codes.BAD_KEY_SET, "alice", "account_rotate", fee=3, new_key=NEW.public_key)
    chain.fails(codes.NOT_FOUND, "alice", "account_rotate", fee=3, new_key=NEW.public_key, old_key=THIEF.public_key)
    chain.signing["alice"] = [chain.keys["alice"], PHONE]
    chain.fails(codes.ALREADY_EXISTS, "alice", "account_rotate", fee=2, new_key=PHONE.public_key,
                old_key=chain.acct("alice"))
    chain.signing["alice"] = [chain.keys["alice"], PHONE, NEW]
    chain.ok("alice", "account_rotate", fee=3, new_key=NEW.public_key, old_key=PHONE.public_key)
    assert authority_of(chain.state, chain.acct("alice")).keys == tuple(sorted([chain.acct("alice"), NEW.public_key]))


def test_account_set_authority_rejections() -> None:
    chain = Chain(make_genesis(max_account_keys=2))
    me = chain.keys["alice"]
    chain.signing["alice"] = [me, PHONE]
    chain.fails(codes.BAD_KEY_SET, "alice", "account_set_authority", fee=2, keys=[me.public_key, PHONE.public_key],
                threshold=3)
    chain.fails(codes.BAD_KEY_SET, "alice", "account_set_authority", fee=2, keys=[me.public_key, PHONE.public_key],
                threshold=1, kinds=["teleport"])
    chain.signing["alice"] = [me, PHONE, NEW]
    chain.fails(codes.BAD_KEY_SET, "alice", "account_set_authority", fee=3, threshold=1,
                keys=[me.public_key, PHONE.public_key, NEW.public_key])  # 3 keys > max_account_keys 2
    chain.signing["alice"] = [me]
    chain.fails(codes.BAD_KEY_SET, "alice", "account_set_authority", keys=[], threshold=1)


def test_an_unregistered_default_account_keeps_working(chain: Chain) -> None:
    """No authority record: the address key alone, exactly as before key sets existed."""
    assert chain.state.get(keys.authority(chain.acct("carol"))) is None
    chain.ok("carol", "transfer", **transfer_body(chain))


def test_estimate_style_overlay_sees_the_same_answer(chain: Chain) -> None:
    rotate_alice(chain)
    overlay = StateOverlay(chain.state)
    tx = Tx(CHAIN_ID, chain.acct("alice"), 1, "transfer", transfer_body(chain), 1).sign(chain.keys["alice"])
    with pytest.raises(Exception) as refused:
        check_tx(overlay, tx, load_params(overlay))
    assert getattr(refused.value, "code", None) == codes.BAD_SIGNERS


def test_admission_refuses_a_fee_beyond_the_allowance_at_the_head(chain: Chain) -> None:
    two_of_two(chain, above=10)
    phone_only = Tx(CHAIN_ID, chain.acct("alice"), 1, "transfer", transfer_body(chain, 1), 11).cosign(PHONE)
    with pytest.raises(Exception) as refused:
        check_tx(chain.state, phone_only, load_params(chain.state), chain.now_ms)
    assert getattr(refused.value, "code", None) == codes.BAD_SIGNERS
    check_tx(chain.state, replace(phone_only, fee=5).cosign(PHONE), load_params(chain.state), chain.now_ms)
