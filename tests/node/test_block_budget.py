"""The proposer's block budget (node/chain/app.py): blocks sized so committing one takes about budget_ms."""

from __future__ import annotations

from marketnode.node.chain.app import BlockBudget


def test_before_any_measured_block_the_consensus_cap_holds() -> None:
    assert BlockBudget(300).max_txs(5000) == 5000


def test_a_slow_host_gets_smaller_blocks_and_a_fast_one_the_cap() -> None:
    budget = BlockBudget(300)
    budget.on_commit(2094, 1752.0)  # the loaded run of issue 12: ~837 us per tx
    assert budget.max_txs(5000) == int(300_000 / budget.us_per_tx) < 400
    fast = BlockBudget(300)
    fast.on_commit(1000, 40.0)  # 40 us per tx: 7,500 would fit
    assert fast.max_txs(5000) == 5000


def test_the_cost_is_a_moving_average_of_blocks_big_enough_to_measure() -> None:
    budget = BlockBudget(300)
    budget.on_commit(1000, 1000.0)  # 1000 us/tx
    budget.on_commit(10, 10_000.0)  # too small to say anything: ignored
    assert budget.us_per_tx == 1000
    budget.on_commit(1000, 2000.0)  # 2000 us/tx, weight 0.3
    assert budget.us_per_tx == 1300


def test_never_fewer_than_the_floor_and_zero_turns_it_off() -> None:
    budget = BlockBudget(300)
    budget.on_commit(100, 100_000.0)  # 1 s per tx
    assert budget.max_txs(5000) == BlockBudget.MIN_TXS
    assert budget.max_txs(50) == 50  # the consensus cap still wins
    off = BlockBudget(0)
    off.on_commit(100, 100_000.0)
    assert off.max_txs(5000) == 5000
