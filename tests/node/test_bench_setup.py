"""The bench's untimed setup prepares only the orders a run can use."""

from marketnode.tools.bench.market_setup import HEADROOM, PROBE_ORDERS, orders_needed, sized_per_group
from marketnode.tools.bench.workload import MIX


def test_orders_needed_covers_the_larger_of_ship_and_confirm_shares() -> None:
    share = max(MIX["order_ship"], MIX["order_confirm"])
    assert orders_needed(10_000) == int(10_000 * share) + 1


def test_an_overloaded_run_prepares_for_what_the_network_commits_not_what_is_offered() -> None:
    offered = orders_needed(3_000 * 30)  # 3,000 tx/s offered for 30 s
    sized = sized_per_group(offered, setup_tps=150, duration_s=30)
    assert sized == orders_needed(int(HEADROOM * 150 * 30))
    assert sized < offered // 5


def test_a_run_the_network_can_keep_up_with_keeps_its_full_count() -> None:
    wanted = orders_needed(1_000 * 30)
    assert sized_per_group(wanted, setup_tps=2_000, duration_s=30) == wanted


def test_never_below_what_the_rate_probe_already_placed() -> None:
    assert sized_per_group(orders_needed(90_000), setup_tps=1, duration_s=1) == PROBE_ORDERS // 2
