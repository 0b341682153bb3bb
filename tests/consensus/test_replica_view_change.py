"""ViewChange and NewView handlers: acceptance and rejection rules (replica 2 of 4; view 1's primary is 1)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from replica_harness import CHAIN, GENESIS, KEYS, NOW, OUTSIDER, FakeApp, assert_rejected, make_config, make_tx, propose

from marketnode.consensus.actions import Broadcast
from marketnode.consensus.messages import NewView, Prepare, PreparedCert, ViewChange
from marketnode.consensus.replica import Replica
from marketnode.core.types import PREPARE, Vote

PP = propose()


def replica(index: int = 2) -> Replica:
    return Replica(make_config(4), KEYS[index], FakeApp(), GENESIS, None)


def prepared(block_hash: bytes = PP.block_hash, voters: tuple[int, ...] = (0, 1, 2), sig: bytes | None = None) -> PreparedCert:
    """A quorum of PREPAREs at view 0; ``sig`` replaces every signature (a forgery)."""
    votes = [Vote(CHAIN, PREPARE, 1, 0, block_hash, KEYS[i].public_key).sign(KEYS[i]) for i in voters]
    if sig is not None:
        votes = [replace(v, sig=sig) for v in votes]
    return PreparedCert(tuple(votes))


def view_change(i: int, view: int = 1, cert: PreparedCert | None = None, with_block: bool = True) -> ViewChange:
    key = OUTSIDER if i < 0 else KEYS[i]
    block = PP.block if cert is not None and with_block else None
    return ViewChange(CHAIN, 1, view, key.public_key, cert, block).sign(key)


def broadcasts(actions: list[Any], kind: type) -> list[Any]:
    return [a.msg for a in actions if isinstance(a, Broadcast) and isinstance(a.msg, kind)]


VIEW_CHANGE_REJECTIONS = [
    ("from a non-validator", lambda: view_change(-1), "non-validator"),
    ("bad signature", lambda: ViewChange(CHAIN, 1, 1, KEYS[3].public_key, None, None, bytes(64)), "signature"),
    ("prepared with too few votes", lambda: view_change(3, cert=prepared(voters=(0, 1))), "needs 3"),
    ("prepared with a forged vote", lambda: view_change(3, cert=prepared(sig=bytes(64))), "signature"),
    ("prepared but no block", lambda: view_change(3, cert=prepared(), with_block=False), "must carry it"),
]


@pytest.mark.parametrize(("why", "make", "reason"), VIEW_CHANGE_REJECTIONS, ids=[r[0] for r in VIEW_CHANGE_REJECTIONS])
def test_view_change_rejections(why: str, make: Any, reason: str) -> None:
    assert_rejected(replica(), KEYS[3].public_key, make(), reason)


def test_f_plus_one_view_changes_pull_a_replica_into_the_view_change() -> None:
    r = replica()
    assert r.receive(KEYS[0].public_key, view_change(0, view=3), NOW) == []  # f = 1: one could be lying
    actions = r.receive(KEYS[3].public_key, view_change(3, view=2), NOW)
    vcs = broadcasts(actions, ViewChange)
    assert [vc.view for vc in vcs] == [2]  # the (f+1)-th highest: two validators are at >= 2
    assert r.view == 2 and r.last_signed is not None and r.last_signed.key() == (1, 2, -1)


def test_new_primary_with_a_quorum_re_proposes_the_prepared_block() -> None:
    primary = replica(index=1)
    primary.receive(KEYS[0].public_key, view_change(0, cert=prepared()), NOW)
    actions = primary.receive(KEYS[3].public_key, view_change(3), NOW)  # f+1 = 2: it joins, and has a quorum
    assert [vc.view for vc in broadcasts(actions, ViewChange)] == [1]
    [nv] = broadcasts(actions, NewView)
    assert len(nv.view_changes) == 3 and all(vc.block is None for vc in nv.view_changes)
    assert nv.pre_prepare is not None and nv.pre_prepare.block_hash == PP.block_hash
    assert nv.pre_prepare.view == 1 and nv.pre_prepare.block.header.view == 0  # same block, same hash


def valid_new_view(pp_block_hash_required: bool = True, **overrides: Any) -> NewView:
    vcs = (view_change(0, cert=prepared()).without_block(), view_change(1), view_change(3))
    pp = propose(PP.block, key=KEYS[1], view=1) if pp_block_hash_required else propose(
        key=KEYS[1], view=1, txs=[make_tx(7)])
    values: dict[str, Any] = dict(height=1, view=1, view_changes=vcs, pre_prepare=pp)
    values.update(overrides)
    return NewView(**values)


NEW_VIEW_REJECTIONS = [
    ("too few view changes", lambda: valid_new_view(view_changes=valid_new_view().view_changes[:2]), "needs 3"),
    ("one validator twice", lambda: valid_new_view(view_changes=(view_change(1), view_change(1), view_change(3))),
     "two view changes from one validator"),
    ("a forged view change", lambda: valid_new_view(view_changes=(
        view_change(0), view_change(1), ViewChange(CHAIN, 1, 1, KEYS[3].public_key, None, None, bytes(64)))),
     "bad signature"),
    ("a non-validator's view change", lambda: valid_new_view(view_changes=(
        view_change(0), view_change(1), view_change(-1))), "non-validator"),
    ("ignores the prepared block", lambda: valid_new_view(pp_block_hash_required=False), "highest prepared block"),
    ("no proposal though one is required", lambda: valid_new_view(pre_prepare=None), "highest prepared block"),
    ("proposal from another validator", lambda: valid_new_view(pre_prepare=propose(PP.block, key=KEYS[3], view=1)),
     "not from the new primary"),
]


@pytest.mark.parametrize(("why", "make", "reason"), NEW_VIEW_REJECTIONS, ids=[r[0] for r in NEW_VIEW_REJECTIONS])
def test_new_view_rejections(why: str, make: Any, reason: str) -> None:
    r = replica()
    assert_rejected(r, KEYS[1].public_key, make(), reason)
    assert r.view == 0


def test_valid_new_view_enters_the_view_and_prepares_the_carried_block() -> None:
    r = replica()
    actions = r.receive(KEYS[1].public_key, valid_new_view(), NOW)
    assert r.view == 1 and r.last_rejection is None
    prepares = broadcasts(actions, Prepare)
    assert [(p.vote.view, p.vote.block_hash) for p in prepares] == [(1, PP.block_hash)]


def test_new_view_without_prepared_blocks_allows_a_fresh_proposal() -> None:
    r = replica()
    vcs = (view_change(0), view_change(1), view_change(3))
    fresh = propose(key=KEYS[1], view=1, txs=[make_tx(7)])
    actions = r.receive(KEYS[1].public_key, NewView(1, 1, vcs, fresh), NOW)
    assert [p.vote.block_hash for p in broadcasts(actions, Prepare)] == [fresh.block_hash]


def test_lagging_view_change_is_answered_with_our_new_view_once() -> None:
    r = replica()
    nv = valid_new_view()
    r.receive(KEYS[1].public_key, nv, NOW)
    old = ViewChange(CHAIN, 1, 1, KEYS[0].public_key, None, None).sign(KEYS[0])
    r.view = 2  # pretend we moved on to view 2 and entered it with this NewView
    r.round.new_views[2] = nv
    first = r.receive(KEYS[0].public_key, old, NOW)
    assert [type(a.msg).__name__ for a in first] == ["NewView"]
    assert r.receive(KEYS[0].public_key, old, NOW) == []
