"""Views persist across heights: after a view change skips a dead primary, later heights keep the live one."""

from __future__ import annotations

from replica_harness import KEYS, Cluster, make_tx

from marketnode.consensus.replica import ReplicaConfig


def test_after_a_silent_primary_is_skipped_the_next_heights_need_no_view_change() -> None:
    cluster = Cluster(4)
    cluster.nodes[0].silent = True  # primary of (1, 0) and, with views reset per height, of (2, 0) and (3, 0)
    cluster.submit(make_tx(1))
    cluster.run()
    cluster.fire_next_timer()
    cluster.run()
    assert cluster.heights()[1:] == [1, 1, 1]
    for i in range(2, 5):
        cluster.submit(make_tx(i))
        cluster.run()  # no timer fired: the live primary of view 1 proposes at once
    assert cluster.heights()[1:] == [4, 4, 4]
    later = [block for block, _ in cluster.nodes[1].chain[1:]]
    assert all(b.header.view == 1 and b.header.proposer == KEYS[1].public_key for b in later)


def test_view_timeouts_double_per_failed_view_of_the_height_not_since_genesis() -> None:
    config = ReplicaConfig(chain_id="t", validators=(b"\x01" * 32,), base_timeout_ms=1000)
    assert [config.view_timeout_ms(v) for v in range(3)] == [1000, 2000, 4000]
