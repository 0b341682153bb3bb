"""Replicas wired together in memory: happy path, silent primary, equivocation, restart, catch-up."""

from __future__ import annotations

import itertools

import pytest
from replica_harness import GENESIS, KEYS, Cluster, FakeApp, make_tx, propose

from marketnode.consensus.actions import Broadcast, PersistLastSigned
from marketnode.consensus.messages import Commit, NewView, Prepare, PrePrepare, ViewChange, decode_message
from marketnode.consensus.records import Head
from marketnode.consensus.replica import TIMER_VIEW, Replica
from marketnode.core.types import COMMIT, PREPARE, max_faulty


def test_four_replicas_commit_a_block_and_agree() -> None:
    cluster = Cluster(4)
    cluster.submit(make_tx(1), make_tx(2))
    cluster.run()
    assert cluster.heights() == [1, 1, 1, 1]
    blocks = {node.chain[0][0].hash for node in cluster.nodes}
    assert len(blocks) == 1
    for node in cluster.nodes:
        node.chain[0][1].verify(cluster.config.validators, cluster.config.chain_id)
        assert node.timers == {}, "green: nothing pending, no timer"
        assert not node.app.mempool


def test_chain_grows_with_each_batch_and_carries_the_last_certificate() -> None:
    cluster = Cluster(4)
    for i in range(3):
        cluster.submit(make_tx(i))
        cluster.run()
    assert cluster.heights() == [3, 3, 3, 3]
    chain = cluster.nodes[0].chain
    for (parent, _), (child, _) in itertools.pairwise(chain):
        assert child.header.parent_hash == parent.hash
        assert child.last_cert is not None and child.last_cert.block_hash == parent.hash
    assert chain[0][0].header.timestamp_ms < chain[1][0].header.timestamp_ms


def test_silent_primary_is_replaced_by_a_view_change() -> None:
    cluster = Cluster(4)
    cluster.nodes[0].silent = True  # primary of (1, 0)
    cluster.submit(make_tx(1))
    cluster.run()
    assert cluster.heights() == [0, 0, 0, 0]
    cluster.fire_next_timer()
    cluster.run()
    assert cluster.heights()[1:] == [1, 1, 1]
    block = cluster.nodes[1].chain[0][0]
    assert block.header.view == 1 and block.header.proposer == KEYS[1].public_key
    new_views = [a.msg for a in cluster.nodes[1].log if isinstance(a, Broadcast) and isinstance(a.msg, NewView)]
    assert len(new_views) == 1 and len(new_views[0].view_changes) == 3


def test_a_block_prepared_before_the_view_change_is_the_one_carried_forward() -> None:
    cluster = Cluster(4)
    cluster.submit(make_tx(1))
    # Deliver the proposal and all prepares, but drop every commit: the block is prepared, not committed.
    cluster.run(drop=Commit)
    prepared = {node.replica.prepared.block_hash for node in cluster.nodes if node.replica.prepared}
    assert len(prepared) == 1
    cluster.fire_next_timer()
    cluster.run()
    assert cluster.heights() == [1, 1, 1, 1]
    assert cluster.nodes[0].chain[0][0].hash in prepared
    assert cluster.nodes[0].chain[0][1].view == 1


def test_equivocating_primary_is_caught_with_evidence() -> None:
    cluster = Cluster(4)
    a = propose(txs=[make_tx(1)])
    b = propose(txs=[make_tx(2)])
    cluster.deliver(0, 1, a)
    cluster.deliver(0, 1, b)
    evidence = cluster.nodes[1].evidence
    assert len(evidence) == 1
    evidence[0].check(cluster.config.chain_id)
    assert {evidence[0].first.block_hash, evidence[0].second.block_hash} == {a.block_hash, b.block_hash}
    prepares = [x for x in cluster.nodes[1].log if isinstance(x, Broadcast) and isinstance(x.msg, Prepare)]
    assert [p.msg.vote.block_hash for p in prepares] == [a.block_hash]  # never the second


def test_evidence_is_put_in_the_next_block() -> None:
    cluster = Cluster(4)
    cluster.deliver(0, 1, propose(txs=[make_tx(1)]))
    cluster.deliver(0, 1, propose(txs=[make_tx(2)]))
    cluster.wire.clear()
    cluster.nodes[0].silent = True
    cluster.submit(make_tx(3))
    cluster.run()
    cluster.fire_next_timer()  # replica 1 becomes primary of view 1 and proposes with the evidence
    cluster.run()
    block = cluster.nodes[1].chain[0][0]
    assert len(block.evidence) == 1 and block.evidence[0].first.validator == KEYS[0].public_key
    assert not cluster.nodes[1].replica.pending_evidence


def test_restart_never_double_signs() -> None:
    cluster = Cluster(4)
    node = cluster.nodes[1]
    first = propose(txs=[make_tx(1)])
    cluster.deliver(0, 1, first)
    record = node.last_signed
    assert record is not None and record.key() == (1, 0, PREPARE)
    sent = [a.msg for a in node.log if isinstance(a, Broadcast) and isinstance(a.msg, Prepare)]

    # Crash and restart from the durable record; a Byzantine primary now offers a different block.
    node.replica = Replica(cluster.config, node.key, FakeApp(), GENESIS, record)
    node.log.clear()
    cluster.deliver(0, 1, propose(txs=[make_tx(2)]))
    signed = [a for a in node.log if isinstance(a, PersistLastSigned | Broadcast)]
    assert signed == [], "it must not PREPARE a second block at (1, 0)"

    # Restarted again, the same block is fine: re-signing it reproduces the very same vote.
    node.replica = Replica(cluster.config, node.key, FakeApp(), GENESIS, record)
    node.log.clear()
    cluster.deliver(0, 1, first)
    again = [a.msg for a in node.log if isinstance(a, Broadcast) and isinstance(a.msg, Prepare)]
    assert again == sent


def test_restart_after_commit_vote_keeps_the_prepared_block_for_view_changes() -> None:
    cluster = Cluster(4)
    cluster.submit(make_tx(1))
    cluster.run(drop=Commit)
    node = cluster.nodes[2]
    assert node.last_signed is not None and node.last_signed.phase == COMMIT
    node.replica = Replica(cluster.config, node.key, node.app, GENESIS, node.last_signed)
    node.timers.clear()
    cluster.perform(2, node.replica.on_timer(TIMER_VIEW, cluster.now + 10**6))
    cluster.perform(2, node.replica.on_work(cluster.now))
    cluster.now += 1_000
    cluster.perform(2, node.replica.on_timer(TIMER_VIEW, cluster.now))
    vcs = [a.msg for a in node.log if isinstance(a, Broadcast) and isinstance(a.msg, ViewChange)]
    assert vcs and vcs[-1].prepared is not None and vcs[-1].block is not None


def test_lagging_replica_catches_up_from_certificates() -> None:
    cluster = Cluster(4)
    cluster.nodes[3].silent = True
    for i in range(3):
        for j in range(3):
            cluster.nodes[j].app.add(make_tx(i))
            cluster.perform(j, cluster.nodes[j].replica.on_work(cluster.now))
        cluster.wire = type(cluster.wire)(item for item in cluster.wire if item[1] != 3)
        cluster.run()
        cluster.wire = type(cluster.wire)(item for item in cluster.wire if item[1] != 3)
    assert cluster.heights() == [3, 3, 3, 0]
    lagging = cluster.nodes[3]
    for block, cert in cluster.nodes[0].chain:
        cluster.perform(3, lagging.replica.on_synced_block(block, cert, cluster.now))
    assert cluster.heights()[3] == 3
    assert lagging.replica.head.block_hash == cluster.nodes[0].chain[-1][0].hash


def test_single_validator_commits_alone() -> None:
    cluster = Cluster(1)
    cluster.submit(make_tx(1))
    assert cluster.heights() == [1]


def test_observer_follows_the_chain_without_signing() -> None:
    cluster = Cluster(4)
    observer = Replica(cluster.config, None, FakeApp(), GENESIS, None)
    cluster.submit(make_tx(1))
    committed = []
    while cluster.wire:
        src, dst, data = cluster.wire.popleft()
        msg = decode_message(data)
        cluster.deliver(src, dst, msg)
        if dst == 1:  # the observer sees what replica 1 sees
            committed += [a for a in observer.receive(KEYS[src].public_key, msg, cluster.now)
                          if not isinstance(a, PrePrepare)]
    assert [type(a).__name__ for a in committed] == ["CommitBlock"]
    assert observer.head == Head(1, cluster.nodes[0].chain[0][0].hash, observer.head.timestamp_ms,
                                 observer.head.certificate)


@pytest.mark.parametrize("n", [2, 3, 5, 10])
def test_any_validator_count_commits_and_survives_a_silent_primary(n: int) -> None:
    cluster = Cluster(n)
    cluster.submit(make_tx(1))
    cluster.run()
    assert cluster.heights() == [1] * n
    primary = cluster.index_of(cluster.config.primary(2, 0))
    if max_faulty(n) == 0:
        return  # no fault to tolerate
    cluster.nodes[primary].silent = True
    cluster.submit(make_tx(2))
    cluster.run()
    cluster.fire_next_timer()
    cluster.run()
    assert all(h == 2 for i, h in enumerate(cluster.heights()) if i != primary)
