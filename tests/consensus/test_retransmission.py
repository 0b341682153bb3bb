"""Lost votes cost a round trip, not a view change: an undecided round re-sends its own messages."""

from __future__ import annotations

from replica_harness import KEYS, NOW, Cluster, make_tx, propose

from marketnode.consensus.actions import Broadcast, SendTo, SetTimer
from marketnode.consensus.messages import Commit, CommitNotice, Prepare, PrePrepare, decode_message, encode_message
from marketnode.consensus.replica import TIMER_RESEND, TIMER_VIEW
from marketnode.core.types import COMMIT


def _timer_names(cluster: Cluster) -> set[str]:
    return {name for node in cluster.nodes for name in node.timers}


def test_every_commit_lost_once_still_decides_without_a_view_change() -> None:
    cluster = Cluster(4)
    cluster.submit(make_tx(1))
    cluster.run(drop=Commit)  # the network loses every COMMIT of the first round
    assert cluster.heights() == [0, 0, 0, 0]
    assert TIMER_RESEND in _timer_names(cluster)
    cluster.fire_next_timer(TIMER_RESEND)
    cluster.run()
    assert cluster.heights() == [1, 1, 1, 1]
    assert {node.replica.view for node in cluster.nodes} == {0}, "no view change was needed"
    assert _timer_names(cluster) == set(), "green: a decided round keeps no resend timer"


def test_a_lost_proposal_is_sent_again_only_to_validators_that_did_not_vote() -> None:
    cluster = Cluster(4)
    primary = cluster.nodes[0]
    cluster.submit(make_tx(1))
    lost = [(src, dst, data) for src, dst, data in cluster.wire if dst == 3]
    cluster.wire = type(cluster.wire)(item for item in cluster.wire if item[1] != 3)  # node 3 misses the proposal
    cluster.run(drop=Commit)
    assert lost and cluster.heights() == [0, 0, 0, 0]
    actions = primary.replica.on_timer(TIMER_RESEND, primary.timers[TIMER_RESEND])
    resent_pp = [a for a in actions if isinstance(a, SendTo) and isinstance(a.msg, PrePrepare)]
    assert [a.validator for a in resent_pp] == [KEYS[3].public_key]
    assert not any(isinstance(a, Broadcast) and isinstance(a.msg, PrePrepare) for a in actions)
    assert any(isinstance(a, Broadcast) and isinstance(a.msg, Commit) for a in actions)
    resends = [a for a in actions if isinstance(a, SetTimer) and a.name == TIMER_RESEND]
    assert resends and resends[0].deadline_ms - primary.timers[TIMER_RESEND] == 500, "the next resend backs off"


def test_a_vote_for_the_height_just_decided_is_answered_with_its_certificate_once() -> None:
    cluster = Cluster(4)
    cluster.submit(make_tx(1))
    cluster.run()
    decided = cluster.nodes[0]
    late_commit = next(a.msg for a in cluster.nodes[3].log if isinstance(a, Broadcast) and isinstance(a.msg, Commit))
    sender = KEYS[3].public_key
    first = decided.replica.receive(sender, late_commit, NOW + 1)
    again = decided.replica.receive(sender, late_commit, NOW + 2)
    notices = [a for a in first if isinstance(a, SendTo) and isinstance(a.msg, CommitNotice)]
    assert len(notices) == 1 and notices[0].msg.certificate.height == 1
    assert again == []


def test_the_view_timer_is_not_replaced_by_the_resend_timer() -> None:
    cluster = Cluster(4)
    replica = cluster.nodes[1].replica
    replica.app.add(make_tx(1))
    actions = replica.receive(KEYS[0].public_key, propose(), NOW)
    timers = {a.name: a.deadline_ms for a in actions if isinstance(a, SetTimer)}
    assert timers == {TIMER_VIEW: NOW + 1000, TIMER_RESEND: NOW + 250}
    resent = replica.on_timer(TIMER_RESEND, NOW + 250)
    again = [decode_message(encode_message(a.msg)) for a in resent if isinstance(a, Broadcast)]
    assert [type(m) for m in again] == [Prepare]
    assert replica.timers()[TIMER_VIEW] == NOW + 1000
    assert all(v.phase != COMMIT for v in (m.vote for m in again))
