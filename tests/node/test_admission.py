"""The overload rule (node/mempool/admission.py) at its edges: admit what drains within the bound, refuse the rest
with a retry hint, measure the commit rate over busy intervals only."""

from __future__ import annotations

import pytest

from marketnode.core.errors import ConfigError
from marketnode.node.mempool.admission import AdmissionControl, AdmissionLimits, CommitRate


def control(max_pending_ms: int = 2000, floor: int = 500, **kw: int) -> AdmissionControl:
    return AdmissionControl(AdmissionLimits(max_pending_ms=max_pending_ms, min_commit_tps=floor, **kw))


def test_before_any_block_the_floor_rate_sets_the_capacity() -> None:
    gate = control(max_pending_ms=2000, floor=500)
    assert not gate.rate.measured
    assert gate.capacity() == 1000
    assert gate.decide(pending=999).admitted == 1
    refused = gate.decide(pending=1000)
    assert refused.busy and refused.admitted == 0 and refused.refused == 1


def test_the_last_tx_that_fits_is_admitted_and_the_next_is_refused() -> None:
    gate = control(max_pending_ms=1000, floor=10)  # capacity 10
    assert gate.decide(pending=9, offered=1).admitted == 1
    assert gate.decide(pending=10, offered=1).refused == 1


def test_a_batch_is_admitted_in_order_up_to_the_bound() -> None:
    gate = control(max_pending_ms=1000, floor=100)  # capacity 100
    verdict = gate.decide(pending=70, offered=50, now_ms=0)
    assert (verdict.admitted, verdict.refused) == (30, 20)
    assert verdict.retry_after_ms == 100  # the first refused one may come back soonest (the minimum) ...
    assert gate.decide(pending=100, offered=1, now_ms=0).retry_after_ms == 300  # ... the next one after all 20
    assert gate.decide(pending=100, offered=1).retry_after_ms == 100  # a status query reserves nothing


def test_a_crowd_refused_at_once_is_told_to_come_back_at_the_commit_rate() -> None:
    """Regression (issue 12): every refusal of one instant got the same short hint, so the crowd came back
    together, was refused together, and a bench run spent 1,016,345 refusals on 90,000 txs."""
    gate = control(max_pending_ms=1000, floor=100, min_retry_after_ms=100, max_retry_after_ms=30_000)
    hints = [gate.decide(pending=100, offered=1, now_ms=0).retry_after_ms for _ in range(300)]
    assert hints == [100 + 10 * i for i in range(300)]  # one slot per tx, at 100 tx/s
    # Time passing frees the slots already served: 1 s later, the queue is 2 s shorter.
    assert gate.decide(pending=100, offered=1, now_ms=1000).retry_after_ms == 3100 - 1000
    # Past time is never owed: after a quiet minute the queue starts again from the minimum.
    assert gate.decide(pending=100, offered=1, now_ms=60_000).retry_after_ms == 100


def test_the_comeback_queue_never_runs_past_the_maximum_hint() -> None:
    gate = control(max_pending_ms=1000, floor=100, min_retry_after_ms=100, max_retry_after_ms=5000)
    hints = [gate.decide(pending=100, offered=1000, now_ms=0).retry_after_ms for _ in range(20)]
    assert max(hints) == 5000 and hints[-1] == 5000 and gate.slots.horizon_ms == 5000


def test_retry_after_is_the_time_to_drain_the_excess_clamped() -> None:
    gate = control(max_pending_ms=1000, floor=100, min_retry_after_ms=100, max_retry_after_ms=5000)
    assert gate.decide(pending=100).retry_after_ms == 100  # 1 tx over: 10 ms, raised to the minimum
    assert gate.decide(pending=349).retry_after_ms == 2501  # 250 over at 100 tx/s
    assert gate.decide(pending=10**9).retry_after_ms == 5000  # never more than the maximum


def test_zero_max_pending_turns_the_bound_off() -> None:
    gate = control(max_pending_ms=0)
    assert gate.decide(pending=10**9, offered=5000).admitted == 5000


def test_the_rate_is_measured_only_over_intervals_the_pool_was_busy() -> None:
    rate = CommitRate(smoothing_pct=100, initial_tps=1)
    rate.on_commit(0, txs=10, pending_after=0)
    rate.on_commit(60_000, txs=10, pending_after=500)  # after an idle minute: the wallets' pace, skipped
    assert not rate.measured
    rate.on_commit(61_000, txs=2000, pending_after=0)  # busy for the whole second
    assert rate.tps == 2000


def test_the_moving_average_weighs_each_block_by_smoothing_pct() -> None:
    rate = CommitRate(smoothing_pct=50, initial_tps=1)
    rate.on_commit(0, txs=1, pending_after=1)
    rate.on_commit(1000, txs=1000, pending_after=1)
    rate.on_commit(2000, txs=3000, pending_after=1)
    assert rate.tps == 2000  # 1000 + 0.5 * (3000 - 1000)


def test_a_measured_rate_below_the_floor_counts_as_the_floor() -> None:
    gate = control(max_pending_ms=1000, floor=200, smoothing_pct=100, floor_commit_tps=50)
    assert gate.rate.tps == 200  # assumed before any block
    gate.on_commit(0, txs=1, pending_after=5)
    gate.on_commit(1000, txs=5, pending_after=5)
    assert gate.rate.measured and gate.rate.tps == 50 and gate.capacity() == 50


def test_a_slow_host_is_measured_below_the_assumed_rate() -> None:
    """Regression (issue 12): the assumed 500 tx/s was also the floor, so a host committing 150 tx/s held
    1,000 txs (7 s of work) and accepted txs waited 10-12 s at p50 under bench tps."""
    gate = control(max_pending_ms=2000, floor=500, smoothing_pct=100, floor_commit_tps=20)
    gate.on_commit(0, txs=200, pending_after=800)
    gate.on_commit(1333, txs=200, pending_after=800)  # 150 tx/s
    assert round(gate.rate.tps) == 150 and gate.capacity() == 300


def test_a_faster_node_admits_more() -> None:
    gate = control(max_pending_ms=2000, floor=100, smoothing_pct=100)
    gate.on_commit(0, txs=1, pending_after=1)
    gate.on_commit(500, txs=1500, pending_after=1)  # 3000 tx/s
    assert gate.capacity() == 6000
    assert gate.decide(pending=5999).admitted == 1


def test_back_to_back_commits_in_one_millisecond_do_not_divide_by_zero() -> None:
    rate = CommitRate(smoothing_pct=100, initial_tps=1)
    rate.on_commit(5, txs=1, pending_after=1)
    rate.on_commit(5, txs=7, pending_after=1)
    assert rate.tps == 7000


@pytest.mark.parametrize("kw", [{"min_commit_tps": 0}, {"smoothing_pct": 0}, {"smoothing_pct": 101},
                                {"max_pending_ms": -1}, {"min_retry_after_ms": 10, "max_retry_after_ms": 5}])
def test_bad_limits_are_refused_with_the_setting_named(kw: dict[str, int]) -> None:
    with pytest.raises(ConfigError, match=next(iter(kw))):
        AdmissionLimits(**kw)


def test_a_block_of_zero_txs_updates_the_interval_start_without_a_sample() -> None:
    rate = CommitRate(smoothing_pct=100, initial_tps=1)
    rate.on_commit(0, txs=1, pending_after=1)
    rate.on_commit(10, txs=0, pending_after=1)  # e.g. a block applied by sync: not measured
    rate.on_commit(1010, txs=500, pending_after=1)
    assert rate.tps == 500  # measured from the last block, not from the one before the synced one


def test_intake_measures_consensus_blocks_and_skips_blocks_applied_by_sync(tmp_path) -> None:
    from dataclasses import dataclass, replace

    from marketnode.node.config import MempoolSection, NodeConfig
    from marketnode.node.mempool.intake import TxIntake

    @dataclass
    class Block:
        txs: list[object]

    @dataclass
    class Executed:
        block: Block

    class Pool(set):  # one tx left over after every block, and it can commit: each interval was busy
        def executable_count(self) -> int:
            return len(self)

    now = [0]
    syncing = [True]
    pool = Pool({b"x"})
    cfg = replace(NodeConfig(home=tmp_path), mempool=MempoolSection(journal_file="", min_commit_tps=1))
    intake = TxIntake(cfg, pool, clock=lambda: now[0], catching_up=lambda: syncing[0])
    for t in (0, 10, 20):  # sync applies blocks of 1000 txs every 10 ms
        now[0] = t
        intake.on_block(Executed(Block([object()] * 1000)))  # type: ignore[arg-type]
    assert not intake.admission.rate.measured
    syncing[0] = False
    now[0] = 1020
    intake.on_block(Executed(Block([object()] * 800)))  # type: ignore[arg-type]
    assert intake.admission.rate.tps == 800


def test_a_later_nonce_waits_behind_a_refused_one_until_it_comes() -> None:
    from marketnode.node.mempool.admission import RefusedNonces

    held = RefusedNonces(ttl_ms=1000)
    held.refused(b"s", 5, now_ms=0, comeback_ms=700)
    assert held.held_behind(b"s", 6, next_nonce=3, now_ms=10) == (5, 700)  # and when 5 comes back
    assert held.held_behind(b"s", 5, next_nonce=3, now_ms=10) is None  # the refused nonce itself may come
    assert held.held_behind(b"s", 4, next_nonce=3, now_ms=10) is None
    assert held.held_behind(b"other", 9, next_nonce=0, now_ms=10) is None
    held.admitted(b"s", 5)
    assert held.held_behind(b"s", 6, next_nonce=3, now_ms=20) is None and len(held) == 0


def test_a_held_nonce_is_forgotten_after_the_ttl_or_once_the_chain_passes_it() -> None:
    from marketnode.node.mempool.admission import RefusedNonces

    held = RefusedNonces(ttl_ms=1000)
    held.refused(b"s", 5, now_ms=0)
    assert held.held_behind(b"s", 7, next_nonce=3, now_ms=1000) is None and len(held) == 0
    held.refused(b"s", 5, now_ms=2000)
    assert held.held_behind(b"s", 7, next_nonce=6, now_ms=2001) is None and len(held) == 0


def test_the_lowest_refused_nonce_is_kept_and_the_table_is_bounded() -> None:
    from marketnode.node.mempool.admission import RefusedNonces

    held = RefusedNonces(ttl_ms=1000, max_senders=2)
    held.refused(b"s", 5, now_ms=0)
    held.refused(b"s", 8, now_ms=1)  # a later refusal of the same sender: still behind 5
    assert held.held_behind(b"s", 6, next_nonce=0, now_ms=2) == (5, 0)
    held.refused(b"t", 1, now_ms=3)
    held.refused(b"u", 1, now_ms=4)
    assert len(held) == 2 and held.held_behind(b"s", 6, next_nonce=0, now_ms=5) is None  # the oldest went
