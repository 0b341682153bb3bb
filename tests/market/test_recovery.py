"""Guardian recovery: every transition and rejection, and the attacks it must survive.

Attacks: guardians colluding before the delay ends; a thief racing the owner;
a guardian set change racing a recovery; replayed or repurposed approvals;
a removed guardian's approval; an approval after the window.
"""

from __future__ import annotations

import hashlib

import pytest
from market_harness import Chain, make_genesis

import marketnode.market.codes as codes
from marketnode.core.keys import PrivateKey
from marketnode.market import keys
from marketnode.market.authority import authority_of
from marketnode.market.params import DAY_MS

DELAY = DAY_MS


def fresh(name: str) -> PrivateKey:
    return PrivateKey(hashlib.sha256(b"recovery-test:" + name.encode()).digest())


NEW, OTHER = fresh("new"), fresh("other")


@pytest.fixture
def chain() -> Chain:
    """alice names bob, carol and dave as guardians, 2 of 3, with a one-day veto delay."""
    chain = Chain()
    chain.ok("alice", "account_set_guardians", guardians=[chain.acct(n) for n in ("bob", "carol", "dave")],
             threshold=2, delay_ms=DELAY)
    return chain


def start(chain: Chain, guardian: str = "bob", new: PrivateKey = NEW) -> int:
    receipt = chain.ok(guardian, "recovery_start", account=chain.acct("alice"), new_key=new.public_key)
    return next(e.attrs["recovery"] for e in receipt.events if e.kind == "recovery_started")


def ready(chain: Chain) -> int:
    recovery = start(chain)
    chain.ok("carol", "recovery_approve", account=chain.acct("alice"), recovery=recovery, new_key=NEW.public_key)
    return recovery


def pending(chain: Chain) -> dict | None:
    return chain.load(keys.recovery(chain.acct("alice")))


def test_lost_key_recovered_after_the_delay(chain: Chain) -> None:
    usd = chain.balance("alice")
    recovery = ready(chain)
    assert pending(chain)["ready_ms"] == chain.now_ms - 1_000 + DELAY
    chain.advance(DELAY)
    chain.ok("erin", "recovery_finish", account=chain.acct("alice"), recovery=recovery)  # anyone may finish
    assert authority_of(chain.state, chain.acct("alice")).keys == (NEW.public_key,) and pending(chain) is None
    chain.signing["alice"] = [NEW]
    chain.ok("alice", "transfer", to=chain.acct("bob"), asset="USD", amount=1)
    assert chain.balance("alice") == usd - 1
    chain.signing["alice"] = [chain.keys["alice"]]
    assert chain.send("alice", "transfer", to=chain.acct("bob"), asset="USD", amount=1).code == codes.BAD_SIGNERS


def test_colluding_guardians_cannot_finish_before_the_delay(chain: Chain) -> None:
    recovery = ready(chain)
    chain.advance(DELAY - 2_000)  # the finish block lands at ready_ms - 1
    chain.fails(codes.TOO_EARLY, "bob", "recovery_finish", account=chain.acct("alice"), recovery=recovery)
    chain.ok("alice", "recovery_veto", recovery=recovery)  # the owner notices and vetoes in time
    chain.advance(DELAY)
    chain.fails(codes.NOT_FOUND, "bob", "recovery_finish", account=chain.acct("alice"), recovery=recovery)
    assert authority_of(chain.state, chain.acct("alice")).keys == (chain.acct("alice"),)


def test_the_delay_runs_from_the_kth_approval_not_the_first(chain: Chain) -> None:
    """One guardian cannot age a recovery early and have a second approve at the last minute."""
    recovery = start(chain)
    chain.advance(DELAY * 2)
    chain.ok("carol", "recovery_approve", account=chain.acct("alice"), recovery=recovery, new_key=NEW.public_key)
    chain.fails(codes.TOO_EARLY, "bob", "recovery_finish", account=chain.acct("alice"), recovery=recovery)


def test_one_guardian_below_threshold_cannot_finish(chain: Chain) -> None:
    recovery = start(chain)
    chain.advance(DELAY)
    chain.fails(codes.TOO_EARLY, "bob", "recovery_finish", account=chain.acct("alice"), recovery=recovery)


def test_a_thief_racing_the_owner_loses_to_a_rotation_in_the_same_block(chain: Chain) -> None:
    """Owner and thief both hold the key; the owner's rotation lands first, the thief's tx is refused."""
    alice = chain.keys["alice"]
    chain.signing["alice"] = [alice, NEW]
    rotate = chain.tx("alice", "account_rotate", new_key=NEW.public_key)
    chain.signing["alice"] = [alice]
    theft = chain.tx("alice", "transfer", nonce=rotate.nonce + 1, to=chain.acct("erin"), asset="USD", amount=900_000)
    receipts = chain.block([rotate, theft])
    assert [(r.code, r.fee_paid) for r in receipts] == [(codes.OK, 2), (codes.BAD_SIGNERS, 0)]


def test_the_owner_can_veto_until_finished_and_a_rotation_cancels(chain: Chain) -> None:
    recovery = ready(chain)
    chain.advance(DELAY * 3)  # past the deadline, nobody finished yet: the veto still counts
    chain.ok("alice", "recovery_veto", recovery=recovery)
    recovery = ready(chain)
    chain.signing["alice"] = [chain.keys["alice"], OTHER]
    receipt = chain.ok("alice", "account_rotate", new_key=OTHER.public_key)
    assert any(e.kind == "recovery_cancelled" for e in receipt.events) and pending(chain) is None
    chain.advance(DELAY)
    chain.fails(codes.NOT_FOUND, "bob", "recovery_finish", account=chain.acct("alice"), recovery=recovery)


def test_a_guardian_set_change_cancels_a_pending_recovery(chain: Chain) -> None:
    recovery = ready(chain)
    chain.ok("alice", "account_set_guardians", guardians=[chain.acct("erin")], threshold=1, delay_ms=DELAY)
    assert pending(chain) is None
    chain.advance(DELAY)
    chain.fails(codes.NOT_FOUND, "bob", "recovery_finish", account=chain.acct("alice"), recovery=recovery)
    chain.fails(codes.NOT_AUTHORIZED, "bob", "recovery_start", account=chain.acct("alice"), new_key=NEW.public_key)


def test_a_guardian_change_racing_an_approval_in_one_block(chain: Chain) -> None:
    recovery = start(chain)
    change = chain.tx("alice", "account_set_guardians", guardians=[chain.acct("erin")], threshold=1, delay_ms=DELAY)
    approve = chain.tx("carol", "recovery_approve", account=chain.acct("alice"), recovery=recovery,
                       new_key=NEW.public_key)
    receipts = chain.block([change, approve])
    assert [r.code for r in receipts] == [codes.OK, codes.NOT_AUTHORIZED]
    assert pending(chain) is None


def test_approvals_cannot_be_replayed_or_repurposed(chain: Chain) -> None:
    first = start(chain)
    approve = chain.tx("carol", "recovery_approve", account=chain.acct("alice"), recovery=first,
                       new_key=NEW.public_key)
    assert chain.block([approve])[0].ok
    assert chain.block([approve])[0].code == codes.BAD_NONCE  # the same tx again
    chain.fails(codes.ALREADY_EXISTS, "carol", "recovery_approve", account=chain.acct("alice"), recovery=first,
                new_key=NEW.public_key)
    chain.ok("alice", "recovery_veto", recovery=first)
    second = start(chain, "dave", OTHER)
    chain.fails(codes.STALE_RECOVERY, "carol", "recovery_approve", account=chain.acct("alice"), recovery=first,
                new_key=OTHER.public_key)  # an approval for the vetoed recovery does not carry over
    chain.fails(codes.STALE_RECOVERY, "carol", "recovery_approve", account=chain.acct("alice"), recovery=second,
                new_key=NEW.public_key)  # nor to another key
    assert pending(chain)["approvals"] == [chain.acct("dave")]


def test_a_removed_guardians_approval_no_longer_counts() -> None:
    """Defence in depth: finish re-checks approvals against the guardian set it finds."""
    chain = Chain()
    guardians = [chain.acct(n) for n in ("bob", "carol")]
    chain.ok("alice", "account_set_guardians", guardians=guardians, threshold=2, delay_ms=DELAY)
    recovery = start(chain)
    chain.ok("carol", "recovery_approve", account=chain.acct("alice"), recovery=recovery, new_key=NEW.public_key)
    record = chain.load(keys.guardians(chain.acct("alice")))
    record["guardians"] = [chain.acct("bob"), chain.acct("dave")]  # a set change that, by a bug, kept the recovery
    from marketnode.market import store

    store.save(chain.state, keys.guardians(chain.acct("alice")), record)
    chain.advance(DELAY)
    chain.fails(codes.STALE_RECOVERY, "erin", "recovery_finish", account=chain.acct("alice"), recovery=recovery)


def test_approvals_close_and_a_stalled_recovery_expires(chain: Chain) -> None:
    window = make_genesis().params.recovery_approval_window_ms
    recovery = start(chain)
    chain.fails(codes.TOO_EARLY, "erin", "recovery_finish", account=chain.acct("alice"), recovery=recovery)
    chain.fails(codes.ALREADY_EXISTS, "dave", "recovery_start", account=chain.acct("alice"), new_key=OTHER.public_key)
    chain.advance(window)
    chain.fails(codes.WINDOW_CLOSED, "carol", "recovery_approve", account=chain.acct("alice"), recovery=recovery,
                new_key=NEW.public_key)
    receipt = chain.ok("erin", "recovery_finish", account=chain.acct("alice"), recovery=recovery)
    assert [e.kind for e in receipt.events] == ["recovery_expired"] and pending(chain) is None
    assert authority_of(chain.state, chain.acct("alice")).keys == (chain.acct("alice"),)
    start(chain, "dave", OTHER)  # a new one may start


def test_a_stalled_recovery_is_replaced_by_a_new_start(chain: Chain) -> None:
    start(chain)
    chain.advance(make_genesis().params.recovery_approval_window_ms)
    second = start(chain, "carol", OTHER)
    assert pending(chain)["id"] == second


def test_guardians_cannot_spend_or_veto_for_the_account(chain: Chain) -> None:
    recovery = ready(chain)
    chain.fails(codes.NOT_FOUND, "bob", "recovery_veto", recovery=recovery)  # bob has no recovery of his own


def test_recovery_start_rejections(chain: Chain) -> None:
    chain.fails(codes.NOT_AUTHORIZED, "erin", "recovery_start", account=chain.acct("alice"), new_key=NEW.public_key)
    chain.fails(codes.BAD_KEY_SET, "bob", "recovery_start", account=chain.acct("alice"), new_key=chain.acct("alice"))
    start(chain)
    chain.fails(codes.ALREADY_EXISTS, "carol", "recovery_start", account=chain.acct("alice"), new_key=NEW.public_key)


def test_recovery_approve_rejections(chain: Chain) -> None:
    chain.fails(codes.NOT_FOUND, "carol", "recovery_approve", account=chain.acct("alice"), recovery=1,
                new_key=NEW.public_key)
    recovery = start(chain)
    chain.fails(codes.NOT_AUTHORIZED, "erin", "recovery_approve", account=chain.acct("alice"), recovery=recovery,
                new_key=NEW.public_key)
    chain.fails(codes.STALE_RECOVERY, "carol", "recovery_approve", account=chain.acct("alice"), recovery=recovery + 1,
                new_key=NEW.public_key)
    chain.fails(codes.ALREADY_EXISTS, "bob", "recovery_approve", account=chain.acct("alice"), recovery=recovery,
                new_key=NEW.public_key)
    chain.ok("carol", "recovery_approve", account=chain.acct("alice"), recovery=recovery, new_key=NEW.public_key)
    chain.fails(codes.ALREADY_EXISTS, "dave", "recovery_approve", account=chain.acct("alice"), recovery=recovery,
                new_key=NEW.public_key)  # already has its approvals: the delay does not restart


def test_recovery_veto_and_finish_rejections(chain: Chain) -> None:
    chain.fails(codes.NOT_FOUND, "alice", "recovery_veto", recovery=1)
    chain.fails(codes.NOT_FOUND, "bob", "recovery_finish", account=chain.acct("alice"), recovery=1)
    recovery = ready(chain)
    chain.fails(codes.STALE_RECOVERY, "alice", "recovery_veto", recovery=recovery + 1)
    chain.fails(codes.STALE_RECOVERY, "bob", "recovery_finish", account=chain.acct("alice"), recovery=recovery + 1)
    chain.fails(codes.TOO_EARLY, "bob", "recovery_finish", account=chain.acct("alice"), recovery=recovery)


def test_account_set_guardians_rejections_and_removal() -> None:
    chain = Chain(make_genesis(max_guardians=2, recovery_min_delay_ms=60_000))
    three = [chain.acct(n) for n in ("bob", "carol", "dave")]
    chain.fails(codes.BAD_GUARDIANS, "alice", "account_set_guardians", guardians=three, threshold=2, delay_ms=DELAY)
    chain.fails(codes.BAD_GUARDIANS, "alice", "account_set_guardians", guardians=three[:2], threshold=3,
                delay_ms=DELAY)
    chain.fails(codes.BAD_GUARDIANS, "alice", "account_set_guardians", guardians=three[:2], threshold=0,
                delay_ms=DELAY)
    chain.fails(codes.BAD_GUARDIANS, "alice", "account_set_guardians", guardians=three[:2], threshold=1,
                delay_ms=59_999)
    chain.fails(codes.BAD_GUARDIANS, "alice", "account_set_guardians", guardians=[], threshold=1, delay_ms=0)
    chain.fails(codes.SELF_DEALING, "alice", "account_set_guardians", guardians=[chain.acct("alice")], threshold=1,
                delay_ms=DELAY)
    chain.ok("alice", "account_set_guardians", guardians=three[:2], threshold=2, delay_ms=60_000)  # at the edges
    chain.ok("alice", "account_set_guardians", guardians=[], threshold=0, delay_ms=0)
    assert chain.load(keys.guardians(chain.acct("alice"))) is None


def test_a_multi_key_account_vetoes_only_with_its_threshold(chain: Chain) -> None:
    """A thief with one key of a 2-of-2 account can neither veto nor rotate: recovery wins."""
    alice = chain.keys["alice"]
    chain.signing["alice"] = [alice, OTHER]
    chain.ok("alice", "account_set_authority", keys=[alice.public_key, OTHER.public_key], threshold=2)
    recovery = ready(chain)
    chain.signing["alice"] = [alice]  # the thief stole one key
    assert chain.send("alice", "recovery_veto", recovery=recovery).code == codes.BAD_SIGNERS
    chain.advance(DELAY)
    chain.ok("bob", "recovery_finish", account=chain.acct("alice"), recovery=recovery)
    assert authority_of(chain.state, chain.acct("alice")).keys == (NEW.public_key,)
