"""Guardian recovery: k of an account's named guardians move it to a new key after a delay it can veto.

``TRANSITIONS`` is the whole machine (docs/MARKET.md renders it). A recovery
collects approvals until ``params.recovery_approval_window_ms`` has passed;
once k guardians approved, the account's own ``delay_ms`` runs, during which
its current keys can veto; at or after that deadline anyone may finish it.
Any change of the account's keys or guardians cancels it. Time is block time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marketnode.market import keys, store
from marketnode.market.authority import Authority, authority_of, drop_recovery, save_authority
from marketnode.market.codes import (
    ALREADY_EXISTS,
    BAD_GUARDIANS,
    BAD_KEY_SET,
    NOT_AUTHORIZED,
    NOT_FOUND,
    SELF_DEALING,
    STALE_RECOVERY,
    TOO_EARLY,
    WINDOW_CLOSED,
    fail,
    require,
)
from marketnode.market.context import TxContext
from marketnode.market.state import StateReader

NONE, COLLECTING, WAITING = "none", "collecting", "waiting"
GUARDIAN, ACCOUNT, ANYONE = "a guardian", "the account (its full threshold)", "anyone"


@dataclass(frozen=True)
class Transition:
    actors: dict[str, str]  # source state -> who may act from it
    timing: str
    leads_to: str


TRANSITIONS: dict[str, Transition] = {
    "recovery_start": Transition({NONE: GUARDIAN}, "any time (replaces a collecting one past its deadline)",
                                 f"{COLLECTING}, or {WAITING} if k = 1"),
    "recovery_approve": Transition({COLLECTING: GUARDIAN}, "before the approval deadline",
                                   f"{WAITING} at the k-th approval (deadline: then + delay_ms)"),
    "recovery_veto": Transition({COLLECTING: ACCOUNT, WAITING: ACCOUNT}, "any time until finished", NONE),
    "recovery_finish": Transition({COLLECTING: ANYONE, WAITING: ANYONE}, "at or after the state's deadline",
                                  f"{NONE}: from {WAITING} the new key alone is the account's key set; "
                                  f"from {COLLECTING} the recovery expires"),
    "account_rotate, account_set_authority, account_set_guardians": Transition(
        {COLLECTING: ACCOUNT, WAITING: ACCOUNT}, "any time", f"{NONE} (cancelled)"),
}


def guardians_of(state: StateReader, account: bytes) -> dict[str, Any] | None:
    return store.load_record(state, keys.guardians(account))


def recovery_state(pending: dict[str, Any] | None) -> str:
    if pending is None:
        return NONE
    return COLLECTING if pending["ready_ms"] is None else WAITING


def _require_guardian(tx: TxContext, account: bytes) -> dict[str, Any]:
    guard = guardians_of(tx.state, account)
    require(guard is not None and tx.sender in guard["guardians"], NOT_AUTHORIZED,
            "the sender is not one of the account's guardians")
    assert guard is not None
    return guard


def _pending(tx: TxContext, account: bytes, recovery_id: int) -> dict[str, Any]:
    pending = store.load_record(tx.state, keys.recovery(account))
    if pending is None:
        fail(NOT_FOUND, "the account has no pending recovery")
    require(pending["id"] == recovery_id, STALE_RECOVERY,
            f"recovery {recovery_id} is not pending; the account's pending recovery is {pending['id']}")
    return pending


def _count(tx: TxContext, account: bytes, pending: dict[str, Any], guard: dict[str, Any]) -> None:
    """Start the delay once k guardians approved (the delay runs from the k-th approval, not the first)."""
    if pending["ready_ms"] is None and len(pending["approvals"]) >= guard["threshold"]:
        pending["ready_ms"] = tx.now_ms + guard["delay_ms"]
        tx.emit("recovery_ready", account=account, recovery=pending["id"], ready_ms=pending["ready_ms"])
    store.save(tx.state, keys.recovery(account), pending)


def handle_set_guardians(tx: TxContext, body: dict[str, Any]) -> None:
    """Name the guardians, how many must agree and the veto delay; an empty list removes them."""
    names, threshold, delay = sorted(body["guardians"]), body["threshold"], body["delay_ms"]
    params = tx.params
    drop_recovery(tx, tx.sender, "guardians_changed")
    if not names:
        require(threshold == 0, BAD_GUARDIANS, "no guardians: the threshold must be 0")
        tx.state.delete(keys.guardians(tx.sender))
        tx.emit("guardians_set", account=tx.sender, guardians=[], threshold=0, delay_ms=0)
        return
    require(tx.sender not in names, SELF_DEALING, "an account cannot be its own guardian")
    require(len(names) <= params.max_guardians, BAD_GUARDIANS,
            f"{len(names)} guardians; params.max_guardians is {params.max_guardians}")
    require(1 <= threshold <= len(names), BAD_GUARDIANS, f"threshold {threshold} must be 1..{len(names)}")
    require(delay >= params.recovery_min_delay_ms, BAD_GUARDIANS,
            f"delay {delay} ms is below params.recovery_min_delay_ms {params.recovery_min_delay_ms}")
    store.save(tx.state, keys.guardians(tx.sender), {"delay_ms": delay, "guardians": names, "threshold": threshold})
    tx.emit("guardians_set", account=tx.sender, guardians=names, threshold=threshold, delay_ms=delay)


def handle_start(tx: TxContext, body: dict[str, Any]) -> None:
    account, new_key = body["account"], body["new_key"]
    guard = _require_guardian(tx, account)
    pending = store.load(tx.state, keys.recovery(account))
    if pending is not None:
        expired = pending["ready_ms"] is None and tx.now_ms >= pending["approve_by_ms"]
        require(expired, ALREADY_EXISTS, f"recovery {pending['id']} is pending: approve or let it expire")
        tx.emit("recovery_expired", account=account, recovery=pending["id"])
    require(authority_of(tx.state, account).keys != (new_key,), BAD_KEY_SET, "the new key is already the key set")
    recovery_id = store.next_id(tx.state, "recovery")
    record = {"approvals": [tx.sender], "approve_by_ms": tx.now_ms + tx.params.recovery_approval_window_ms,
              "id": recovery_id, "new_key": new_key, "ready_ms": None, "started_ms": tx.now_ms}
    tx.emit("recovery_started", account=account, recovery=recovery_id, new_key=new_key, guardian=tx.sender,
            approve_by_ms=record["approve_by_ms"])
    _count(tx, account, record, guard)


def handle_approve(tx: TxContext, body: dict[str, Any]) -> None:
    account = body["account"]
    guard = _require_guardian(tx, account)
    pending = _pending(tx, account, body["recovery"])
    require(pending["new_key"] == body["new_key"], STALE_RECOVERY, "the pending recovery installs another key")
    require(tx.sender not in pending["approvals"], ALREADY_EXISTS, "this guardian already approved")
    require(pending["ready_ms"] is None, ALREADY_EXISTS, "the recovery already has its approvals")
    require(tx.now_ms < pending["approve_by_ms"], WINDOW_CLOSED, f"approvals closed at {pending['approve_by_ms']}")
    pending["approvals"] = sorted([*pending["approvals"], tx.sender])
    tx.emit("recovery_approved", account=account, recovery=pending["id"], guardian=tx.sender)
    _count(tx, account, pending, guard)


def handle_veto(tx: TxContext, body: dict[str, Any]) -> None:
    """The account itself (its full threshold: AUTHORITY_KINDS) stops a recovery."""
    pending = _pending(tx, tx.sender, body["recovery"])
    tx.state.delete(keys.recovery(tx.sender))
    tx.emit("recovery_vetoed", account=tx.sender, recovery=pending["id"])


def handle_finish(tx: TxContext, body: dict[str, Any]) -> None:
    """The claim: after the delay the new key alone becomes the key set; a stalled one expires."""
    account = body["account"]
    pending = _pending(tx, account, body["recovery"])
    if pending["ready_ms"] is None:
        require(tx.now_ms >= pending["approve_by_ms"], TOO_EARLY,
                f"recovery {pending['id']} has {len(pending['approvals'])} approvals, too few; "
                f"it expires at {pending['approve_by_ms']}")
        tx.state.delete(keys.recovery(account))
        tx.emit("recovery_expired", account=account, recovery=pending["id"])
        return
    require(tx.now_ms >= pending["ready_ms"], TOO_EARLY, f"the veto delay ends at {pending['ready_ms']}")
    guard = guardians_of(tx.state, account)
    current = [g for g in pending["approvals"] if guard is not None and g in guard["guardians"]]
    require(guard is not None and len(current) >= guard["threshold"], STALE_RECOVERY,
            "the approvals no longer meet the guardian threshold")
    tx.state.delete(keys.recovery(account))
    save_authority(tx, account, Authority((pending["new_key"],)))
    tx.emit("recovery_finished", account=account, recovery=pending["id"], new_key=pending["new_key"])


HANDLERS = {
    "account_set_guardians": handle_set_guardians,
    "recovery_start": handle_start,
    "recovery_approve": handle_approve,
    "recovery_veto": handle_veto,
    "recovery_finish": handle_finish,
}
