"""Each handler's acceptance and rejection rules, one replica at a time (validator 1 of 4; 0 is primary)."""

from __future__ import annotations

from typing import Any

import pytest
from replica_harness import CHAIN, GENESIS, KEYS, NOW, OUTSIDER, FakeApp, assert_rejected, make_config, make_tx, propose

from marketnode.consensus.actions import (
    Broadcast,
    CommitBlock,
    PersistLastSigned,
    RecordEvidence,
    RequestBlocks,
    SetTimer,
)
from marketnode.consensus.messages import Commit, CommitNotice, Prepare, PrePrepare
from marketnode.consensus.records import Head, LastSigned
from marketnode.consensus.replica import TIMER_RESEND, TIMER_VIEW, Replica
from marketnode.core.types import COMMIT, PREPARE, PROPOSE, Block, Certificate, Vote


def replica(index: int = 1, n: int = 4, app: FakeApp | None = None, head: Head = GENESIS, **config: Any) -> Replica:
    return Replica(make_config(n, **config), KEYS[index], app or FakeApp(), head, None)


def vote(phase: int, i: int, block_hash: bytes, view: int = 0, height: int = 1, chain: str = CHAIN) -> Vote:
    key = OUTSIDER if i < 0 else KEYS[i]
    return Vote(chain, phase, height, view, block_hash, key.public_key).sign(key)


def kinds(actions: list[Any]) -> list[str]:
    return [type(a).__name__ for a in actions]


# ---------------------------------------------------------------------- PRE-PREPARE

def bad_signature() -> PrePrepare:
    good = propose()
    return PrePrepare(good.block, Vote(CHAIN, PROPOSE, 1, 0, good.block_hash, KEYS[0].public_key, bytes(64)))


def swapped_body() -> PrePrepare:
    good = propose()
    return PrePrepare(Block(good.block.header, (make_tx(99),), None), good.proposal)


PRE_PREPARE_REJECTIONS = [
    ("not from the primary", lambda: propose(key=KEYS[2]), "not from the primary"),
    ("from a non-validator", lambda: propose(key=OUTSIDER), "non-validator"),
    ("bad signature", bad_signature, "signature is invalid"),
    ("does not extend the head", lambda: propose(parent_hash=b"\x05" * 32), "does not extend our head"),
    ("body differs from its header", swapped_body, "contents"),
    ("timestamp not after the parent", lambda: propose(timestamp_ms=GENESIS.timestamp_ms), "not after its parent"),
    ("timestamp too far ahead", lambda: propose(timestamp_ms=NOW + 2_001), "too far from our clock"),
    ("timestamp too far behind", lambda: propose(timestamp_ms=NOW - 2_001), "too far from our clock"),
    ("state root not ours", lambda: propose(state_root=b"\x07" * 32), "state_root"),
    ("tx rejected by the application", lambda: propose(txs=[make_tx(1, "bad")]), "rejected by the application"),
    ("too many txs", lambda: propose(txs=[make_tx(i) for i in range(11)]), "more than 10 txs"),
    ("header names another proposer", lambda: propose(proposer=KEYS[3].public_key), "view/proposer"),
]


@pytest.mark.parametrize(("why", "make", "reason"), PRE_PREPARE_REJECTIONS, ids=[r[0] for r in PRE_PREPARE_REJECTIONS])
def test_pre_prepare_rejections(why: str, make: Any, reason: str) -> None:
    assert_rejected(replica(), KEYS[0].public_key, make(), reason)


def test_valid_pre_prepare_is_prepared_after_persisting() -> None:
    r = replica()
    actions = r.receive(KEYS[0].public_key, propose(), NOW)
    assert kinds(actions) == ["SetTimer", "PersistLastSigned", "Broadcast", "SetTimer"]
    persist, broadcast, resend = actions[1], actions[2], actions[3]
    assert isinstance(persist, PersistLastSigned) and persist.record.key() == (1, 0, PREPARE)
    assert isinstance(broadcast, Broadcast) and isinstance(broadcast.msg, Prepare)
    assert broadcast.msg.vote.verify()
    assert resend == SetTimer(TIMER_RESEND, NOW + 250), "an undecided round re-sends our vote after base_timeout/4"


def test_pre_prepare_for_a_future_height_is_buffered_not_rejected() -> None:
    r = replica()
    assert r.receive(KEYS[0].public_key, propose(height=2), NOW) == []
    assert r.last_rejection is None


def test_pre_prepare_waits_for_execution_of_the_parent() -> None:
    r = replica()
    r.executed_height = -1  # as if the node had not yet called on_executed for the head
    assert r.receive(KEYS[0].public_key, propose(), NOW) == []
    r.executed_height = GENESIS.height - 1
    actions = r.on_executed(GENESIS.height, NOW)
    assert "Broadcast" in kinds(actions)


def test_second_proposal_from_the_primary_is_evidence_and_not_prepared() -> None:
    r = replica()
    r.receive(KEYS[0].public_key, propose(), NOW)
    actions = r.receive(KEYS[0].public_key, propose(txs=[make_tx(2)]), NOW)
    assert kinds(actions) == ["RecordEvidence"]
    evidence = actions[0].evidence  # type: ignore[union-attr]
    evidence.check(CHAIN)
    assert evidence.first.phase == PROPOSE and evidence.first.validator == KEYS[0].public_key
    assert r.receive(KEYS[0].public_key, propose(txs=[make_tx(2)]), NOW) == []  # reported once


def test_duplicate_pre_prepare_is_dropped_without_actions() -> None:
    r = replica()
    r.receive(KEYS[0].public_key, propose(), NOW)
    assert r.receive(KEYS[0].public_key, propose(), NOW) == []
    assert r.last_rejection is None


def test_block_at_height_two_must_carry_a_certificate_of_its_parent() -> None:
    cluster_head = Head(1, b"\x11" * 32, NOW - 500, None)
    r = replica(head=cluster_head)
    primary = make_config().primary(2, 0)
    key = next(k for k in KEYS if k.public_key == primary)
    pp = propose(key=key, height=2, parent_hash=cluster_head.block_hash)
    r.receive(key.public_key, pp, NOW)
    assert "lacks its parent's certificate" in (r.last_rejection or "")
    forged = Certificate(CHAIN, 1, 0, cluster_head.block_hash, tuple(sorted(
        (k.public_key, bytes(64)) for k in KEYS[:3])))
    r.receive(key.public_key, propose(key=key, height=2, parent_hash=cluster_head.block_hash, last_cert=forged), NOW)
    assert "certificate" in (r.last_rejection or "")


# ---------------------------------------------------------------------- PREPARE / COMMIT

H = propose().block_hash

VOTE_REJECTIONS = [
    ("non-validator", lambda: Prepare(vote(PREPARE, -1, H)), "non-validator"),
    ("other chain", lambda: Prepare(vote(PREPARE, 2, H, chain="other")), "chain"),
    ("bad signature", lambda: Prepare(Vote(CHAIN, PREPARE, 1, 0, H, KEYS[2].public_key, bytes(64))), "signature"),
    ("commit with a bad signature", lambda: Commit(Vote(CHAIN, COMMIT, 1, 0, H, KEYS[2].public_key, bytes(64))),
     "signature"),
]


@pytest.mark.parametrize(("why", "make", "reason"), VOTE_REJECTIONS, ids=[r[0] for r in VOTE_REJECTIONS])
def test_vote_rejections(why: str, make: Any, reason: str) -> None:
    assert_rejected(replica(), KEYS[2].public_key, make(), reason)


def test_quorum_of_prepares_sends_one_commit() -> None:
    r = replica()
    r.receive(KEYS[0].public_key, propose(), NOW)
    assert r.receive(KEYS[0].public_key, Prepare(vote(PREPARE, 0, H)), NOW) == []
    actions = r.receive(KEYS[2].public_key, Prepare(vote(PREPARE, 2, H)), NOW + 300)
    assert kinds(actions) == ["SetTimer", "PersistLastSigned", "Broadcast"]
    assert actions[0] == SetTimer(TIMER_VIEW, NOW + 300 + 1000), "prepared: the commit phase gets a full timeout"
    assert isinstance(actions[2].msg, Commit)  # type: ignore[union-attr]
    assert actions[1].record.prepared is not None  # type: ignore[union-attr]
    assert r.receive(KEYS[3].public_key, Prepare(vote(PREPARE, 3, H)), NOW) == []


def test_prepares_before_the_proposal_count_once_it_arrives() -> None:
    r = replica()
    for i in (0, 2):
        r.receive(KEYS[i].public_key, Prepare(vote(PREPARE, i, H)), NOW)
    actions = r.receive(KEYS[0].public_key, propose(), NOW)
    assert [type(a.msg).__name__ for a in actions if isinstance(a, Broadcast)] == ["Prepare", "Commit"]


def test_quorum_of_commits_commits_the_block_with_a_valid_certificate() -> None:
    r = replica()
    r.receive(KEYS[0].public_key, propose(), NOW)
    actions: list[Any] = []
    for i in (0, 2, 3):
        actions += r.receive(KEYS[i].public_key, Commit(vote(COMMIT, i, H)), NOW)
    commits = [a for a in actions if isinstance(a, CommitBlock)]
    assert len(commits) == 1
    commits[0].certificate.verify(make_config().validators, CHAIN)
    assert r.height == 2 and r.head.block_hash == H


def test_commits_for_an_unknown_block_ask_for_it() -> None:
    r = replica()
    actions: list[Any] = []
    for i in (0, 2, 3):
        actions += r.receive(KEYS[i].public_key, Commit(vote(COMMIT, i, b"\x42" * 32)), NOW)
    assert [a for a in actions if isinstance(a, RequestBlocks)] == [RequestBlocks(1, None)]
    assert r.height == 1


def test_duplicate_vote_is_not_verified_again() -> None:
    r = replica()
    v = vote(PREPARE, 2, H)
    r.receive(KEYS[2].public_key, Prepare(v), NOW)
    calls = []
    original = Vote.verify
    Vote.verify = lambda self: calls.append(self) or original(self)  # type: ignore[method-assign]
    try:
        assert r.receive(KEYS[2].public_key, Prepare(v), NOW) == []
    finally:
        Vote.verify = original  # type: ignore[method-assign]
    assert calls == []


def test_conflicting_votes_are_evidence_and_counted_once() -> None:
    r = replica()
    r.receive(KEYS[2].public_key, Prepare(vote(PREPARE, 2, H)), NOW)
    actions = r.receive(KEYS[2].public_key, Prepare(vote(PREPARE, 2, b"\x03" * 32)), NOW)
    assert kinds(actions) == ["RecordEvidence"]
    assert isinstance(actions[0], RecordEvidence)
    assert r.round.votes.get((PREPARE, 0, b"\x03" * 32)) is None


def test_stale_votes_are_dropped_cheaply() -> None:
    r = replica()
    r.view = 2
    r.round.entered[2] = None
    assert r.receive(KEYS[2].public_key, Prepare(vote(PREPARE, 2, H, view=1)), NOW) == []
    assert r.last_rejection is None


# ---------------------------------------------------------------------- green, batching, rotation

def test_idle_replica_sets_no_timer_and_proposes_nothing() -> None:
    primary = replica(index=0)
    assert primary.on_work(NOW) == []
    assert primary.timers() == {}


def test_primary_batches_up_to_max_block_txs() -> None:
    app = FakeApp()
    app.add(*[make_tx(i) for i in range(25)])
    primary = replica(index=0, app=app)
    actions = primary.on_work(NOW)
    proposals = [a.msg for a in actions if isinstance(a, Broadcast) and isinstance(a.msg, PrePrepare)]
    assert len(proposals) == 1 and len(proposals[0].block.txs) == 10
    assert any(isinstance(a, SetTimer) and a.name == TIMER_VIEW for a in actions)


def test_non_primary_with_work_only_starts_the_view_change_timer() -> None:
    app = FakeApp()
    app.add(make_tx(1))
    r = replica(index=1, app=app)
    assert r.on_work(NOW) == [SetTimer(TIMER_VIEW, NOW + 1_000)]


@pytest.mark.parametrize(("height", "view", "expected"), [(1, 0, 0), (9, 0, 0), (10, 0, 1), (10, 1, 2), (35, 2, 1)])
def test_primary_rotates_every_k_heights_and_every_view(height: int, view: int, expected: int) -> None:
    assert make_config(4, rotate_every=10).primary(height, view) == KEYS[expected].public_key


def test_view_timeout_doubles_per_view_and_is_capped() -> None:
    cfg = make_config()
    assert [cfg.view_timeout_ms(v) for v in (0, 1, 2, 6, 20)] == [1_000, 2_000, 4_000, 64_000, 64_000]


# ---------------------------------------------------------------------- catch-up

def test_commit_notice_for_our_height_commits_the_block_we_hold() -> None:
    r = replica()
    r.receive(KEYS[0].public_key, propose(), NOW)
    cert = Certificate.from_votes([vote(COMMIT, i, H) for i in (0, 2, 3)])
    actions = r.receive(KEYS[2].public_key, CommitNotice(cert), NOW)
    assert [a for a in actions if isinstance(a, CommitBlock)] == [CommitBlock(propose().block, cert)]


def test_commit_notice_ahead_of_us_requests_blocks_once() -> None:
    r = replica()
    cert = Certificate.from_votes([vote(COMMIT, i, b"\x44" * 32, height=5) for i in (0, 2, 3)])
    assert RequestBlocks(1, KEYS[2].public_key) in r.receive(KEYS[2].public_key, CommitNotice(cert), NOW)
    assert r.receive(KEYS[2].public_key, CommitNotice(cert), NOW) == []


def test_forged_commit_notice_is_rejected() -> None:
    r = replica()
    cert = Certificate(CHAIN, 5, 0, b"\x44" * 32, tuple(sorted((k.public_key, bytes(64)) for k in KEYS[:3])))
    assert r.receive(KEYS[2].public_key, CommitNotice(cert), NOW) == []
    assert "certificate" in (r.last_rejection or "")


def test_synced_block_commits_only_with_a_valid_certificate_for_it() -> None:
    r = replica()
    block = propose().block
    good = Certificate.from_votes([vote(COMMIT, i, block.hash) for i in (0, 2, 3)])
    short = Certificate.from_votes([vote(COMMIT, i, block.hash) for i in (0, 2)])
    other = Certificate.from_votes([vote(COMMIT, i, b"\x09" * 32) for i in (0, 2, 3)])
    assert r.on_synced_block(block, short, NOW) == []
    assert r.on_synced_block(block, other, NOW) == []
    assert r.on_synced_block(block, good, NOW) == [CommitBlock(block, good)]
    assert r.on_synced_block(block, good, NOW) == []  # already there


def test_restart_resumes_the_view_and_prepared_block_it_signed() -> None:
    pp = propose()
    record = LastSigned(1, 2, None, bytes(32))
    r = Replica(make_config(), KEYS[1], FakeApp(), GENESIS, record)
    assert r.view == 2
    assert r.receive(KEYS[0].public_key, pp, NOW) == []  # view 0 is behind us


def test_observer_never_signs_or_times_out() -> None:
    app = FakeApp()
    app.add(make_tx(1))
    observer = Replica(make_config(), None, app, GENESIS, None)
    assert observer.on_work(NOW) == []
    assert observer.receive(KEYS[0].public_key, propose(), NOW) == []
    assert observer.last_rejection is None



def test_status_reports_height_view_and_rejections() -> None:
    r = replica()
    r.receive(KEYS[0].public_key, propose(key=KEYS[2]), NOW)
    status = r.status()
    assert (status["height"], status["view"], status["is_primary"], status["rejections"]) == (1, 0, False, 1)
    assert "not from the primary" in status["last_rejection"]


def test_parent_certificate_made_of_commits_we_verified_is_not_verified_again(monkeypatch: pytest.MonkeyPatch) -> None:
    import marketnode.core.sigcache as sigcache_module  # the one place any chain signature is verified

    calls: list[bytes] = []
    real = sigcache_module.verify
    monkeypatch.setattr(sigcache_module, "verify", lambda *a: calls.append(a[0]) or real(*a))
    r = replica()
    r.receive(KEYS[0].public_key, propose(), NOW)
    for i in (0, 2, 3):
        r.receive(KEYS[i].public_key, Commit(vote(COMMIT, i, H)), NOW)
    r.on_executed(1, NOW)
    assert calls == [KEYS[0].public_key, KEYS[0].public_key, KEYS[2].public_key, KEYS[3].public_key]
    calls.clear()
    other_cert = Certificate.from_votes([vote(COMMIT, i, H) for i in (0, 1, 2)])  # not the one r built
    assert other_cert != r.head.certificate
    pp = propose(height=2, parent_hash=H, last_cert=other_cert, timestamp_ms=NOW + 1, state_root=r.app.state_root())
    actions = r.receive(KEYS[0].public_key, pp, NOW)
    assert any(isinstance(a, Broadcast) and isinstance(a.msg, Prepare) for a in actions), r.last_rejection
    assert calls == [KEYS[0].public_key, KEYS[1].public_key]  # the proposal, then the one unseen commit


def test_evidence_a_proposal_carries_is_not_verified_again_when_we_recorded_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import marketnode.core.sigcache as sigcache_module

    r = replica()
    r.receive(KEYS[0].public_key, propose(), NOW)
    r.receive(KEYS[2].public_key, Prepare(vote(PREPARE, 2, H)), NOW)
    recorded = r.receive(KEYS[2].public_key, Prepare(vote(PREPARE, 2, b"\x03" * 32)), NOW)
    evidence = next(a.evidence for a in recorded if isinstance(a, RecordEvidence))
    for i in (0, 2, 3):
        r.receive(KEYS[i].public_key, Commit(vote(COMMIT, i, H)), NOW)
    r.on_executed(1, NOW)
    calls: list[bytes] = []
    real = sigcache_module.verify
    monkeypatch.setattr(sigcache_module, "verify", lambda *a: calls.append(a[0]) or real(*a))
    pp = propose(height=2, parent_hash=H, last_cert=r.head.certificate, timestamp_ms=NOW + 1,
                 state_root=r.app.state_root(), evidence=[evidence])
    actions = r.receive(KEYS[0].public_key, pp, NOW)
    assert any(isinstance(a, Broadcast) and isinstance(a.msg, Prepare) for a in actions), r.last_rejection
    assert calls == [KEYS[0].public_key], "only the proposal: both evidence votes were verified as they arrived"


def test_a_proposal_accepted_late_gives_the_round_a_full_timeout_instead_of_a_view_change() -> None:
    app = FakeApp()
    app.add(make_tx(1))
    r = replica(app=app)
    assert r.on_work(NOW) == [SetTimer(TIMER_VIEW, NOW + 1000)]
    r.receive(KEYS[0].public_key, propose(), NOW + 900)  # a busy host: the proposal arrives just in time
    assert r.timers()[TIMER_VIEW] == NOW + 1900
    assert r.on_timer(TIMER_VIEW, NOW + 1000) == [], "the old deadline is stale: no view change"
    assert r.view == 0


def test_the_view_timeout_follows_the_pace_of_recent_blocks_and_comes_back() -> None:
    from replica_harness import Cluster

    cluster = Cluster(4)
    replica = cluster.nodes[1].replica
    assert replica.view_timeout_ms(0) == 1000
    for i in range(6):  # a busy network: blocks 3 s apart, by their agreed timestamps
        cluster.now += 3000
        cluster.submit(make_tx(i))
        cluster.run()
    assert cluster.heights() == [6, 6, 6, 6]
    assert replica.view_timeout_ms(0) == 4000, "twice the median interval, at most 4x the configured base"
    assert replica.view_timeout_ms(1) == 8000 and replica.view_timeout_ms(20) == 64_000, "doubling, capped"
    assert {n.replica.view_timeout_ms(0) for n in cluster.nodes} == {4000}, "every replica computes the same"
    cluster.now += 3_600_000  # an idle hour is one interval: the median ignores it
    cluster.submit(make_tx(99))
    cluster.run()
    assert replica.view_timeout_ms(0) == 4000
    for i in range(10, 16):  # quick blocks bring it back to the configured floor
        cluster.now += 100
        cluster.submit(make_tx(i))
        cluster.run()
    assert replica.view_timeout_ms(0) == 1000
