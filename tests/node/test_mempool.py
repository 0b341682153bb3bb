"""Mempool admission rules at their edges, nonce ordering, fairness, recheck and the seen-cache."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketnode.core.errors import ConfigError, RuleError, ValidationError
from marketnode.core.keys import PrivateKey
from marketnode.core.types import Tx
from marketnode.node.mempool.pool import Mempool, MempoolError, MempoolLimits

CHAIN = "mempool-test"
KEYS = [PrivateKey(bytes([n]) * 32) for n in range(1, 9)]
A, B, C = KEYS[0], KEYS[1], KEYS[2]


def signed(key: PrivateKey = A, nonce: int = 0, fee: int = 1, pad: int = 0, chain: str = CHAIN) -> Tx:
    return Tx(chain, key.public_key, nonce, "transfer", {"amount": 1, "memo": "x" * pad}, fee).sign(key)


def raw(key: PrivateKey = A, nonce: int = 0, **kwargs: int) -> bytes:
    return signed(key, nonce, **kwargs).encode()  # type: ignore[arg-type]


def nonces(table: dict[bytes, int] | None = None) -> Callable[[bytes], int]:
    """The chain's next nonce per sender (0 for unknown senders)."""
    table = table or {}
    return lambda sender: table.get(sender, 0)


def pool(**limits: int) -> Mempool:
    return Mempool(MempoolLimits(**limits), CHAIN)


def refused(mp: Mempool, data: bytes, account_nonce: Callable[[bytes], int] | None = None) -> str:
    with pytest.raises(MempoolError) as info:
        mp.add(data, account_nonce or nonces())
    return info.value.reason


def test_an_admitted_tx_is_pending_and_verified() -> None:
    mp = pool()
    tx = mp.add(raw(), nonces())
    assert tx == signed()
    assert (len(mp), mp.size_bytes, mp.has_pending()) == (1, len(raw()), True)
    assert mp.get(tx.hash) == tx and tx.hash in mp
    assert mp.is_verified(tx.hash) and mp.has_seen(tx.hash)


def test_mempool_errors_are_validation_errors_with_a_reason() -> None:
    mp = pool()
    with pytest.raises(ValidationError, match="does not decode") as info:
        mp.add(b"\xc1junk", nonces())
    assert isinstance(info.value, MempoolError) and info.value.reason == "decode"


def test_size_exactly_at_the_limit_passes_one_byte_over_fails() -> None:
    data = raw()
    assert refused(pool(max_tx_bytes=len(data) - 1), data) == "too_large"
    pool(max_tx_bytes=len(data)).add(data, nonces())


def test_non_canonical_or_malformed_bytes_fail_decode() -> None:
    mp = pool()
    assert refused(mp, b"") == "decode"
    assert refused(mp, raw() + b"\x00") == "decode"
    assert refused(mp, b"\x80") == "decode"  # an empty map: not a tx


def test_a_tx_for_another_chain_is_refused() -> None:
    assert refused(pool(), raw(chain="other-chain")) == "chain_id"  # type: ignore[arg-type]


def test_a_bad_signature_is_refused_and_not_marked_verified() -> None:
    tx = signed()
    forged = Tx(tx.chain_id, tx.sender, tx.nonce, tx.kind, tx.body, tx.fee, sig=bytes(64))
    mp = pool()
    assert refused(mp, forged.encode()) == "signature"
    assert not mp.is_verified(forged.hash)
    assert len(mp) == 0


def test_chain_and_stale_nonce_refusals_tell_the_wallet_what_this_node_expects() -> None:
    """Market decides both rules; the wallet still reads the node's own words, as before the pipeline moved."""
    with pytest.raises(MempoolError, match=f"tx is for chain 'other-chain'; this node runs '{CHAIN}'"):
        pool().add(raw(chain="other-chain"), nonces())  # type: ignore[arg-type]
    with pytest.raises(MempoolError, match="tx nonce 4 is already used; the sender's next nonce is 5") as info:
        pool().add(raw(nonce=4), nonces({A.public_key: 5}))
    assert info.value.next_nonce == 5


def test_nonce_equal_to_the_account_nonce_passes_one_below_is_stale() -> None:
    mp = pool()
    chain = nonces({A.public_key: 5})
    assert refused(mp, raw(nonce=4), chain) == "stale_nonce"
    mp.add(raw(nonce=5), chain)


def test_fee_equal_to_the_minimum_passes_one_below_fails() -> None:
    mp = pool(min_fee=10)
    assert refused(mp, raw(fee=9)) == "fee"  # type: ignore[arg-type]
    mp.add(raw(fee=10), nonces())  # type: ignore[arg-type]


def test_per_sender_cap_admits_exactly_the_cap() -> None:
    mp = pool(max_per_sender=2)
    mp.add(raw(nonce=0), nonces())
    mp.add(raw(nonce=1), nonces())
    assert refused(mp, raw(nonce=2)) == "sender_cap"
    mp.add(raw(B, 0), nonces())  # other senders are unaffected


def test_count_limit_admits_exactly_max_txs() -> None:
    mp = pool(max_txs=2)
    mp.add(raw(A), nonces())
    mp.add(raw(B), nonces())
    assert refused(mp, raw(C)) == "full"


def test_byte_limit_admits_exactly_max_bytes() -> None:
    first, second = raw(A), raw(B)
    exact = pool(max_bytes=len(first) + len(second))
    exact.add(first, nonces())
    exact.add(second, nonces())
    assert exact.size_bytes == len(first) + len(second)
    short = pool(max_bytes=len(first) + len(second) - 1)
    short.add(first, nonces())
    assert refused(short, second) == "full"


def test_the_same_tx_twice_is_a_duplicate() -> None:
    mp = pool()
    mp.add(raw(), nonces())
    assert refused(mp, raw()) == "duplicate"


def test_a_second_tx_with_a_pending_nonce_is_a_duplicate() -> None:
    mp = pool()
    mp.add(raw(fee=1), nonces())  # type: ignore[arg-type]
    assert refused(mp, raw(fee=2)) == "duplicate"  # type: ignore[arg-type]


def test_a_tx_that_just_left_the_pool_is_not_readmitted() -> None:
    mp = pool()
    tx = mp.add(raw(), nonces())
    mp.remove_committed([tx])
    assert len(mp) == 0 and mp.size_bytes == 0
    assert mp.has_seen(tx.hash)
    assert refused(mp, raw()) == "duplicate"


def test_a_committed_tx_never_seen_before_is_remembered() -> None:
    mp = pool()
    mp.remove_committed([signed(B)])
    assert refused(mp, raw(B)) == "duplicate"


def test_the_seen_cache_forgets_its_oldest_entries_beyond_its_size() -> None:
    mp = pool(seen_cache_size=2)
    txs = [signed(k) for k in (A, B, C)]
    mp.remove_committed(txs)
    assert [mp.has_seen(t.hash) for t in txs] == [False, True, True]
    mp.add(txs[0].encode(), nonces())  # forgotten, so admissible again (the nonce check is the backstop)


def test_a_failing_market_check_refuses_the_tx() -> None:
    def no_transfers(tx: Tx, next_nonce: int) -> None:
        raise RuleError("forbidden", "no transfers today")

    mp = pool()
    with pytest.raises(RuleError):
        mp.add(raw(), nonces(), check=no_transfers)
    assert len(mp) == 0 and not mp.has_seen(signed().hash)
    mp.add(raw(), nonces())


def test_a_signature_is_verified_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bytes] = []
    real_verify = Tx.verify

    def counting_verify(self: Tx) -> bool:
        calls.append(self.hash)
        return real_verify(self)

    monkeypatch.setattr(Tx, "verify", counting_verify)
    mp = pool()

    def refuse(tx: Tx, next_nonce: int) -> None:
        raise RuleError("later", "not yet")

    with pytest.raises(RuleError):
        mp.add(raw(), nonces(), check=refuse)
    mp.add(raw(), nonces())
    assert len(calls) == 1


def test_cheap_checks_run_before_the_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Tx, "verify", lambda self: pytest.fail("verified a tx that a cheap check refuses"))
    mp = pool(min_fee=5)
    assert refused(mp, raw(fee=1)) == "fee"  # type: ignore[arg-type]


def test_batch_is_in_nonce_order_whatever_the_arrival_order() -> None:
    mp = pool()
    for n in (2, 0, 1):
        mp.add(raw(nonce=n), nonces())
    assert [t.nonce for t in mp.take_batch(10, 10**6, nonces())] == [0, 1, 2]


def test_batch_starts_at_the_account_nonce_and_stops_at_a_gap() -> None:
    mp = pool()
    chain = nonces({A.public_key: 3})
    for n in (3, 4, 6, 7):
        mp.add(raw(nonce=n), chain)
    assert [t.nonce for t in mp.take_batch(10, 10**6, chain)] == [3, 4]
    assert [t.nonce for t in mp.take_batch(10, 10**6, nonces({A.public_key: 4}))] == [4]
    assert mp.take_batch(10, 10**6, nonces({A.public_key: 5})) == []


def test_batch_is_round_robin_across_senders_oldest_first() -> None:
    mp = pool()
    for n in range(3):
        mp.add(raw(A, n), nonces())
    for n in range(2):
        mp.add(raw(B, n), nonces())
    mp.add(raw(C, 0), nonces())
    order = [(t.sender, t.nonce) for t in mp.take_batch(10, 10**6, nonces())]
    a, b, c = A.public_key, B.public_key, C.public_key
    assert order == [(a, 0), (b, 0), (c, 0), (a, 1), (b, 1), (a, 2)]
    assert [(t.sender, t.nonce) for t in mp.take_batch(4, 10**6, nonces())] == order[:4]


def test_batch_respects_max_bytes_and_leaves_the_pool_intact() -> None:
    mp = pool()
    small, big = raw(A, 0), raw(B, 0, pad=500)
    mp.add(big, nonces())
    mp.add(small, nonces())
    assert mp.take_batch(10, len(small), nonces()) == [signed(A, 0)]  # big does not fit; small still goes
    assert len(mp.take_batch(10, len(small) + len(big), nonces())) == 2
    assert mp.take_batch(10, len(small) - 1, nonces()) == []
    assert len(mp) == 2


def test_recheck_drops_what_the_chain_made_stale() -> None:
    mp = pool()
    for n in range(3):
        mp.add(raw(A, n), nonces())
    mp.add(raw(B, 0), nonces())
    dropped = mp.recheck(nonces({A.public_key: 2}))
    assert sorted(t.nonce for t in dropped) == [0, 1]
    assert [(t.sender, t.nonce) for t in mp] == [(A.public_key, 2), (B.public_key, 0)]
    assert mp.size_bytes == len(raw(A, 2)) + len(raw(B, 0))
    assert mp.recheck(nonces({A.public_key: 3, B.public_key: 1})) and len(mp) == 0 and mp.size_bytes == 0


def test_limits_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="max_txs"):
        MempoolLimits(max_txs=0)
    with pytest.raises(ConfigError, match="min_fee"):
        MempoolLimits(min_fee=-1)


def test_thousands_of_txs_per_second() -> None:
    """A guard against accidental quadratic work, not a benchmark."""
    count = 3000
    senders = KEYS
    raws = [raw(senders[i % len(senders)], i // len(senders)) for i in range(count)]
    mp = pool()
    chain = nonces()
    started = time.perf_counter()
    for data in raws:
        mp.add(data, chain)
    batch = mp.take_batch(count, 10**9, chain)
    mp.remove_committed(batch)
    mp.recheck(chain)
    elapsed = time.perf_counter() - started
    assert len(batch) == count and len(mp) == 0
    assert elapsed < 3.0, f"{count} txs took {elapsed:.2f}s"


# Random admissions and commits: the pool's books always balance.

_PRESIGNED = {(s, n): signed(KEYS[s], n) for s in range(3) for n in range(6)}
_steps = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(0, 2), st.integers(0, 5)),
        st.tuples(st.just("commit"), st.integers(1, 4), st.just(0)),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(steps=_steps)
def test_random_admissions_and_commits_keep_the_pool_consistent(steps: list[tuple[str, int, int]]) -> None:
    mp = pool(max_per_sender=4, max_txs=8)
    chain: dict[bytes, int] = {}
    for action, a, b in steps:
        if action == "add":
            try:
                mp.add(_PRESIGNED[(a, b)].encode(), nonces(chain))
            except MempoolError as exc:
                assert exc.reason in {"duplicate", "stale_nonce", "sender_cap", "full"}
            continue
        batch = mp.take_batch(a, 10**6, nonces(chain))
        expected_next = dict(chain)
        for tx in batch:
            assert tx.nonce == expected_next.get(tx.sender, 0), "batch skips or repeats a nonce"
            expected_next[tx.sender] = tx.nonce + 1
        chain = expected_next
        mp.remove_committed(batch)
        mp.recheck(nonces(chain))
        assert all(tx.nonce >= chain.get(tx.sender, 0) for tx in mp)
    pending = list(mp)
    assert len(pending) == len(mp) <= 8
    assert mp.size_bytes == sum(len(tx.encode()) for tx in pending)
    assert len({(tx.sender, tx.nonce) for tx in pending}) == len(pending)


# -- proposable work and re-gossip (issue 12: "pending" must mean "proposable", gossip must converge) --------


def test_txs_behind_a_nonce_gap_are_not_proposable_work() -> None:
    mp = pool()
    mp.add(raw(A, 1), nonces())
    mp.add(raw(A, 2), nonces())
    assert mp.has_pending() and not mp.has_proposable()
    assert mp.take_batch(10, 1 << 20, nonces()) == []
    mp.add(raw(A, 0), nonces())
    assert mp.has_proposable() and mp.proposable_senders() == 1


def test_proposable_work_follows_commits_and_competing_txs() -> None:
    mp = pool()
    for nonce in (0, 1, 3):
        mp.add(raw(A, nonce), nonces())
    first_two = mp.take_batch(2, 1 << 20, nonces())
    mp.remove_committed(first_two)
    mp.recheck(nonces({A.public_key: 2}))
    assert mp.has_pending() and not mp.has_proposable(), "nonce 3 waits for nonce 2"
    mp.add(raw(A, 2), nonces({A.public_key: 2}))
    assert mp.has_proposable()
    mp.recheck(nonces({A.public_key: 4}))  # a competing tx at nonces 2 and 3 committed elsewhere
    assert not mp.has_pending() and not mp.has_proposable()


def test_regossip_offers_each_senders_gap_fillers_first_and_only_txs_older_than_a_period() -> None:
    mp = pool()
    for nonce in range(5):
        mp.add(raw(B, nonce), nonces())  # B arrived first ...
    mp.add(raw(A, 0), nonces())  # ... but A's next nonce must still go out in a tiny round
    before = mp.admission_seq
    mp.add(raw(C, 0), nonces())  # admitted this period: gossiped already, not re-offered yet
    picked = mp.regossip_batch(before, max_txs=2, heads_per_sender=1)
    assert {(tx.sender, tx.nonce) for tx in picked} == {(B.public_key, 0), (A.public_key, 0)}
    everything = mp.regossip_batch(mp.admission_seq, max_txs=100, heads_per_sender=1)
    assert len(everything) == len(mp) and len({tx.hash for tx in everything}) == len(mp)


def test_regossip_rounds_cover_the_whole_pool_not_always_the_same_first_txs() -> None:
    mp = pool()
    for key in KEYS:
        for nonce in range(1, 6):  # every sender waits behind a gap: no heads, only the rotation
            mp.add(raw(key, nonce), nonces())
    offered: set[bytes] = set()
    rounds = 0
    while len(offered) < len(mp):
        rounds += 1
        assert rounds <= len(mp) // 7 + 1, "the rotation must reach every tx"
        offered |= {tx.hash for tx in mp.regossip_batch(mp.admission_seq, max_txs=7, heads_per_sender=4)}
    assert offered == {tx.hash for tx in mp}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["add", "commit"]), st.integers(0, 2), st.integers(0, 7)), max_size=40))
def test_the_executable_count_always_equals_the_runs_from_each_senders_next_nonce(ops) -> None:  # type: ignore[no-untyped-def]
    mp = pool()
    chain: dict[bytes, int] = {}
    signed_txs = {(k, n): raw(KEYS[k], n) for k in range(3) for n in range(8)}
    for op, k, n in ops:
        key = KEYS[k].public_key
        if op == "add":
            with contextlib.suppress(MempoolError):
                mp.add(signed_txs[(k, n)], nonces(chain))
        else:  # a block commits this sender's executable run, or part of it
            batch = [tx for tx in mp.take_batch(n + 1, 1 << 20, nonces(chain)) if tx.sender == key]
            if batch:
                chain[key] = batch[-1].nonce + 1
            mp.remove_committed(batch)
            mp.recheck(nonces(chain))
        expected = 0
        for sender_index in range(3):
            sender = KEYS[sender_index].public_key
            nonce = chain.get(sender, 0)
            while any(tx.sender == sender and tx.nonce == nonce for tx in mp):
                nonce += 1
            expected += nonce - chain.get(sender, 0)
        assert mp.executable_count() == expected


def test_gaps_name_each_senders_first_missing_nonce_and_run_from_serves_the_run_a_peer_wants() -> None:
    mp = pool()
    for nonce in (0, 1, 3, 4):
        mp.add(raw(A, nonce), nonces())
    for nonce in (2, 3):
        mp.add(raw(B, nonce), nonces())
    mp.add(raw(C, 0), nonces())  # C waits behind nothing
    assert mp.gaps(10) == [(A.public_key, 2), (B.public_key, 0)]
    assert mp.gaps(1) == [(A.public_key, 2)]
    assert [tx.nonce for tx in mp.run_from(A.public_key, 3, 10)] == [3, 4]
    assert [tx.nonce for tx in mp.run_from(A.public_key, 0, 1)] == [0]
    assert mp.run_from(A.public_key, 2, 10) == [] and mp.run_from(KEYS[5].public_key, 0, 10) == []


def test_txs_behind_gaps_have_a_cap_of_their_own_and_executable_txs_still_get_in() -> None:
    mp = pool(max_gapped=3)
    for nonce in (1, 2, 3):
        mp.add(raw(A, nonce), nonces())
    assert refused(mp, raw(B, 5)) == "full", "a fourth tx behind a gap is over the cap"
    mp.add(raw(B, 0), nonces())  # executable: not capped
    mp.add(raw(A, 0), nonces())  # fills A's gap: A's three txs become executable
    assert mp.executable_count() == 5
    mp.add(raw(B, 5), nonces())  # room behind gaps again


def test_txs_left_behind_a_gap_too_long_expire_and_may_come_back_later() -> None:
    mp = pool()
    mp.add(raw(A, 2), nonces())  # behind a gap
    mp.add(raw(B, 0), nonces())  # executable: never expires
    old = mp.admission_seq
    mp.add(raw(A, 3), nonces())  # behind the same gap, but newer than the cut
    assert mp.expire_gapped(old) == 1
    assert {(tx.sender, tx.nonce) for tx in mp} == {(B.public_key, 0), (A.public_key, 3)}
    mp.add(raw(A, 2), nonces())  # forgotten, not remembered as seen: it can be gossiped in again
    assert mp.expire_gapped(0) == 0
