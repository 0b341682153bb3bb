"""Provenance records (after Sawtooth Supply Chain): owner, custodian, reporters, history.

A record's history is an append-only list under its own key prefix, so a
buyer can trace an item from producer to hand. Roles change hands only by a
proposal the receiver accepts; one open proposal per record/receiver/role.
"""

from __future__ import annotations

from typing import Any

from marketnode.market import keys, store
from marketnode.market.codes import (
    ALREADY_EXISTS,
    NOT_AUTHORIZED,
    NOT_FOUND,
    PROPOSAL_STALE,
    RECORD_FINAL,
    SELF_DEALING,
    fail,
    require,
)
from marketnode.market.context import TxContext
from marketnode.market.state import StateReader

# Which current role may offer each role: owner hands over ownership and reporter rights, custodian custody.
OFFERED_BY = {"owner": "owner", "reporter": "owner", "custodian": "custodian"}


def record_of(state: StateReader, record_id: str) -> dict[str, Any]:
    record = store.load_record(state, keys.record(record_id))
    if record is None:
        fail(NOT_FOUND, f"no record {record_id!r}")
    return record


def history(state: StateReader, record_id: str) -> list[dict[str, Any]]:
    """The record's events in order (queries and tests)."""
    return [store.load(state, key) for key, _ in state.iterate(keys.record_history(record_id))]


def _open_record(tx: TxContext, record_id: str) -> dict[str, Any]:
    record = record_of(tx.state, record_id)
    require(not record["final"], RECORD_FINAL, f"record {record_id!r} is final")
    return record


def _append(tx: TxContext, record_id: str, record: dict[str, Any], event: str, **details: Any) -> None:
    """Save the record with one more history entry, and emit it."""
    seq = record["history_len"]
    record["history_len"] = seq + 1
    store.save(tx.state, keys.record(record_id), record)
    entry = {"by": tx.sender, "event": event, "time_ms": tx.now_ms, **details}
    store.save(tx.state, keys.record_history(record_id, seq), entry)
    tx.emit("record_" + event, record=record_id, seq=seq, by=tx.sender, **details)


def handle_create(tx: TxContext, body: dict[str, Any]) -> None:
    record_id = body["record"]
    require(tx.state.get(keys.record(record_id)) is None, ALREADY_EXISTS, f"record {record_id!r} exists")
    record = {"attributes": body["attributes"], "created_ms": tx.now_ms, "custodian": tx.sender, "final": False,
              "history_len": 0, "owner": tx.sender, "producer": tx.sender, "reporters": [tx.sender],
              "type": body["type"]}
    _append(tx, record_id, record, "created", type=body["type"])


def handle_report(tx: TxContext, body: dict[str, Any]) -> None:
    record = _open_record(tx, body["record"])
    allowed = tx.sender == record["custodian"] or tx.sender in record["reporters"]
    require(allowed, NOT_AUTHORIZED, "only a reporter or the custodian may report")
    _append(tx, body["record"], record, "reported", property=body["property"], value=body["value"])


def handle_propose(tx: TxContext, body: dict[str, Any]) -> None:
    record_id, receiver, role = body["record"], body["receiver"], body["role"]
    record = _open_record(tx, record_id)
    holder = OFFERED_BY[role]
    require(record[holder] == tx.sender, NOT_AUTHORIZED, f"only the {holder} may offer the {role} role")
    require(receiver != tx.sender, SELF_DEALING, "a role cannot be offered to oneself")
    if role == "reporter":
        require(receiver not in record["reporters"], ALREADY_EXISTS, "the receiver is already a reporter")
    key = keys.proposal(record_id, receiver, role)
    require(tx.state.get(key) is None, ALREADY_EXISTS, "an open proposal exists for this receiver and role")
    store.save(tx.state, key, {"issuer": tx.sender, "terms": body["terms"], "time_ms": tx.now_ms})
    tx.emit("record_proposal", record=record_id, receiver=receiver, role=role, issuer=tx.sender)


def handle_answer(tx: TxContext, body: dict[str, Any]) -> None:
    record_id, role, response = body["record"], body["role"], body["response"]
    receiver = body["receiver"] or tx.sender
    key = keys.proposal(record_id, receiver, role)
    proposal = store.load(tx.state, key)
    if proposal is None:
        fail(NOT_FOUND, "no open proposal for this record, receiver and role")
    answerer = proposal["issuer"] if response == "cancel" else receiver
    require(tx.sender == answerer, NOT_AUTHORIZED, f"only the {'issuer' if response == 'cancel' else 'receiver'} may {response}")
    tx.state.delete(key)
    tx.emit("record_answer", record=record_id, receiver=receiver, role=role, response=response)
    if response != "accept":
        return
    record = _open_record(tx, record_id)
    require(record[OFFERED_BY[role]] == proposal["issuer"], PROPOSAL_STALE,
            f"the issuer is no longer the record's {OFFERED_BY[role]}")
    if role == "reporter":
        record["reporters"].append(receiver)
    else:
        record[role] = receiver
    _append(tx, record_id, record, role, account=receiver)


def handle_finalize(tx: TxContext, body: dict[str, Any]) -> None:
    record = _open_record(tx, body["record"])
    require(record["owner"] == tx.sender and record["custodian"] == tx.sender, NOT_AUTHORIZED,
            "only an owner who is also the custodian may finalize")
    record["final"] = True
    _append(tx, body["record"], record, "finalized")


HANDLERS = {
    "record_create": handle_create, "record_report": handle_report, "record_propose": handle_propose,
    "record_answer": handle_answer, "record_finalize": handle_finalize,
}
