"""Random key changes, signer subsets, transfers and recoveries; the account invariants hold after every tx.

Invariants: supply conserved per asset (no value created or lost); a tx
whose signers do not hold the sender's authority *as it was just before it*
pays nothing and changes nothing; a key change or a veto succeeds only with
the full threshold; a key set is always well-formed; a recovery finishes only
with k current guardians' approvals at or after its deadline; a thief's key
(never installable: it signs nothing for its holder) never pays a fee for
anyone; replaying the blocks gives the same state.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from market_harness import CHAIN_ID, Chain

from marketnode.core.keys import PrivateKey
from marketnode.core.types import Tx
from marketnode.market import keys, store
from marketnode.market.authority import AUTHORITY_KINDS, authority_of
from marketnode.market.state import MemoryState

PEOPLE = ("alice", "bob", "carol")
DELAY = 60_000


def spare(n: int) -> PrivateKey:
    return PrivateKey(hashlib.sha256(b"authority-props:" + bytes([n])).digest())


SPARES = [spare(n) for n in range(4)]
THIEF = spare(99)

who = st.sampled_from(PEOPLE)
other = st.sampled_from([1, 2])  # the target of a guardian's action: the next or the one after (never itself)
# "all": every key of the current set; "one": its first key; else indexes into a signer pool
signer_pick = st.one_of(st.just("all"), st.just("all"), st.just("all"), st.just("one"),
                        st.lists(st.integers(0, 6), min_size=1, max_size=3, unique=True))
op = st.one_of(
    st.tuples(st.just("transfer"), who, signer_pick, who, st.sampled_from(["MKT", "USD"]), st.integers(1, 300)),
    st.tuples(st.just("rotate"), who, signer_pick, st.integers(0, 3)),
    st.tuples(st.just("set_authority"), who, signer_pick, st.lists(st.integers(0, 4), min_size=1, max_size=3,
                                                                   unique=True),
              st.integers(1, 3), st.sampled_from([None, 0, 100]), st.sampled_from([None, [], ["transfer"]])),
    *[st.tuples(st.just("guardians"), who, signer_pick, st.integers(1, 2))] * 2,
    *[st.tuples(st.just("recovery_start"), who, other, st.integers(0, 3))] * 2,
    *[st.tuples(st.just("recovery_approve"), who, other)] * 3,
    st.tuples(st.just("recovery_veto"), who, signer_pick),
    *[st.tuples(st.just("recovery_finish"), who, other)] * 2,
    st.tuples(st.just("advance"), st.sampled_from([1_000, DELAY, 8 * 86_400_000])),
    *[st.tuples(st.just("story"), who, st.integers(0, 3), st.booleans(), st.booleans())] * 3,
)


def expand(action: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """A whole recovery of ``target`` as primitive actions: guardians, start, approve, maybe veto, wait, finish."""
    if action[0] != "story":
        return [action]
    _, target, new, veto, early = action
    i = PEOPLE.index(target)
    first, second = PEOPLE[(i + 1) % 3], PEOPLE[(i + 2) % 3]
    steps = [("guardians", target, "all", 2), ("recovery_start", first, 2, new), ("recovery_approve", second, 1)]
    if veto:
        steps.append(("recovery_veto", target, "all"))
    steps += [("advance", DELAY // 2 if early else DELAY), ("recovery_finish", first, 2)]
    return steps


def pool(chain: Chain, name: str) -> list[PrivateKey]:
    """Keys someone might sign ``name``'s tx with: its own address key, spares, the thief's."""
    return [chain.keys[name], *SPARES, THIEF, chain.keys["proposer"]]


def pick_signers(chain: Chain, name: str, pick: Any) -> list[PrivateKey]:
    current = authority_of(chain.state, chain.acct(name)).keys
    members = [k for k in pool(chain, name) if k.public_key in current]
    if pick == "all":
        return members
    if pick == "one":
        return members[:1]
    return [pool(chain, name)[i] for i in pick]


def build(chain: Chain, action: tuple[Any, ...]) -> Tx | None:
    kind = action[0]
    if kind == "advance":
        chain.advance(action[1])
        return None
    name = action[1]
    sender = chain.acct(name)
    nonce = store.load_int(chain.state, keys.nonce(sender))
    signers: list[PrivateKey] = []
    body: dict[str, Any]
    if kind == "transfer":
        _, _, pick, to, asset, amount = action
        signers, body = pick_signers(chain, name, pick), {"to": chain.acct(to), "asset": asset, "amount": amount}
    elif kind == "rotate":
        _, _, pick, new = action
        current = authority_of(chain.state, sender).keys
        signers = [*pick_signers(chain, name, pick), SPARES[new]]
        body, kind = {"new_key": SPARES[new].public_key, "old_key": current[0]}, "account_rotate"
    elif kind == "set_authority":
        _, _, pick, members, threshold, above, kinds = action
        chosen = [pool(chain, name)[i] for i in members]
        signers = [*pick_signers(chain, name, pick), *chosen]
        body = {"keys": [k.public_key for k in chosen], "threshold": threshold, "above": above, "kinds": kinds}
        kind = "account_set_authority"
    elif kind == "guardians":
        _, _, pick, threshold = action
        others = [chain.acct(p) for p in PEOPLE if p != name]
        signers = pick_signers(chain, name, pick)
        body = {"guardians": others, "threshold": threshold, "delay_ms": DELAY}
        kind = "account_set_guardians"
    elif kind == "recovery_start":
        _, guardian, offset, new = action
        target = PEOPLE[(PEOPLE.index(guardian) + offset) % len(PEOPLE)]
        sender, name = chain.acct(guardian), guardian
        nonce = store.load_int(chain.state, keys.nonce(sender))
        body = {"account": chain.acct(target), "new_key": SPARES[new].public_key}
    elif kind in ("recovery_approve", "recovery_finish"):
        _, actor, offset = action
        target = PEOPLE[(PEOPLE.index(actor) + offset) % len(PEOPLE)]
        pending = chain.load(keys.recovery(chain.acct(target))) or {"id": 1, "new_key": SPARES[0].public_key}
        sender, name = chain.acct(actor), actor
        nonce = store.load_int(chain.state, keys.nonce(sender))
        body = {"account": chain.acct(target), "recovery": pending["id"]}
        if kind == "recovery_approve":
            body["new_key"] = pending["new_key"]
    else:  # recovery_veto
        _, _, pick = action
        pending = chain.load(keys.recovery(sender)) or {"id": 1}
        signers, body = pick_signers(chain, name, pick), {"recovery": pending["id"]}
    if not signers:  # a guardian's or claimant's own tx: signed by what signs for it now
        current = authority_of(chain.state, sender).keys
        signers = [k for k in [*pool(chain, name)] if k.public_key in current] or [chain.keys[name]]
    tx = Tx(CHAIN_ID, sender, nonce, kind, body, len({k.public_key for k in signers}))
    for key in signers:
        tx = tx.cosign(key)
    return tx


def supply(state: MemoryState) -> dict[str, int]:
    totals: dict[str, int] = defaultdict(int)
    for key, value in state.items().items():
        if key.startswith(keys.BALANCE_PREFIX):
            tail = key[len(keys.BALANCE_PREFIX) + 32:]
            totals[tail[1:1 + tail[0]].decode()] += store.load(MemoryState({b"k": value}), b"k")
    return dict(totals)


def check_tx(chain: Chain, tx: Tx, before_state: dict[bytes, bytes], receipt: Any) -> None:
    auth = authority_of(MemoryState(before_state), tx.sender)
    members = set(auth.keys)
    signed_members = sum(1 for k in tx.signers() if k in members)
    outsiders = [k for k in tx.signers() if k not in members]
    if receipt.fee_paid == 0 and not receipt.ok:
        after = chain.state.items()
        after.pop(keys.receipts_root(chain.height), None)
        assert after == before_state, f"refused {tx.kind} ({receipt.code}) changed state"
        return
    assert signed_members >= 1, f"{tx.kind} executed with no key of the sender's set"
    assert THIEF.public_key not in tx.signers(), "a thief's key paid a fee"
    if tx.kind in AUTHORITY_KINDS:
        assert signed_members >= auth.threshold, f"{tx.kind} executed below the threshold"
    installs = {tx.body.get("new_key"), *tx.body.get("keys", [])} if tx.kind in AUTHORITY_KINDS else set()
    assert all(k in installs for k in outsiders), "an outsider key was accepted (one the tx does not add)"
    for event in receipt.events:
        if event.kind == "recovery_finished":
            pending = store.load(MemoryState(before_state), keys.recovery(event.attrs["account"]))
            guard = store.load(MemoryState(before_state), keys.guardians(event.attrs["account"]))
            assert pending["ready_ms"] is not None and chain.now_ms - 1_000 >= pending["ready_ms"]
            assert len([g for g in pending["approvals"] if g in guard["guardians"]]) >= guard["threshold"]


def one_key_spend(chain: Chain, tx: Tx, before_state: dict[bytes, bytes], receipt: Any,
                  spent: dict[tuple[bytes, int], int]) -> None:
    """Fewer than the threshold never move more than ``above`` native units out per period (fees included)."""
    auth = authority_of(MemoryState(before_state), tx.sender)
    if auth.above is None or auth.guarded(tx.kind) or receipt.fee_paid == 0:
        return
    if sum(1 for k in tx.signers() if k in auth.keys) >= auth.threshold:
        return
    had = store.load_int(MemoryState(before_state), keys.balance(tx.sender, "MKT"))
    lost = max(0, had - chain.balance(tx.sender, "MKT"))
    bucket = (tx.sender, (chain.now_ms - 1_000) // chain.genesis.params.single_key_period_ms)
    spent[bucket] = spent.get(bucket, 0) + lost
    assert spent[bucket] <= auth.above, "one key moved more than its allowance"


def check_key_sets(chain: Chain) -> None:
    params = chain.genesis.params
    for name in PEOPLE:
        auth = authority_of(chain.state, chain.acct(name))
        assert list(auth.keys) == sorted(set(auth.keys)) and 1 <= len(auth.keys) <= params.max_account_keys
        assert 1 <= auth.threshold <= len(auth.keys) and THIEF.public_key not in auth.keys


@settings(max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "40")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, min_size=1, max_size=30))
def test_account_invariants_hold_after_every_tx(actions: list[tuple[Any, ...]]) -> None:
    chain = run_checked(actions)
    replay = Chain()
    for ctx, txs in chain.blocks:
        replay.now_ms = ctx.timestamp_ms
        replay.block(txs)
    assert replay.state.items() == chain.state.items()


def run_checked(actions: list[tuple[Any, ...]]) -> Chain:
    """Run the actions one tx per block, checking every invariant after each; return the chain."""
    chain = Chain()
    start = supply(chain.state)
    spent: dict[tuple[bytes, int], int] = {}
    for action in (step for a in actions for step in expand(a)):
        tx = build(chain, action)
        if tx is None:
            continue
        before = chain.state.items()
        [receipt] = chain.block([tx])
        check_tx(chain, tx, before, receipt)
        one_key_spend(chain, tx, before, receipt, spent)
        assert supply(chain.state) == start, "value was created or lost"
        check_key_sets(chain)
    return chain


def test_the_checker_catches_a_planted_bug(monkeypatch: Any) -> None:
    """Execution that trusts any signature (the admission check skipped) must trip the invariants."""
    import marketnode.market.engine as engine

    def trusting(state: Any, tx: Tx, params: Any) -> Any:
        return authority_of(state, tx.sender)

    thief_only = [("transfer", "alice", [5], "bob", "MKT", 10)]  # pool index 5: the thief's key
    run_checked(thief_only)  # passes with the real rules
    monkeypatch.setattr(engine, "check_signers", trusting)
    try:
        run_checked(thief_only)
    except AssertionError as caught:
        assert "thief" in str(caught) or "no key" in str(caught)
    else:
        raise AssertionError("the planted bug went unnoticed")
