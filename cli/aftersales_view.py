"""How `order show` prints an order's return: its state, money, deadline, and the next step's command."""

from __future__ import annotations

from typing import Any

from marketnode.cli.wallet_common import Session, when

RETURN_WORDS = {"return_answer": "accept or refuse the return: marketnode order return-answer {id} --accept|--refuse",
                "return_resolve": "rule on the return: marketnode order return-resolve {id} --accept|--reject",
                "return_ship": "ship the goods back: marketnode order return-ship {id} --tracking REF",
                "return_receive": "confirm the goods came back: marketnode order return-receive {id}",
                "return_collect": "collect what is owed once the deposit is topped up: "
                                  "marketnode order return-collect {id}"}


def return_lines(session: Session, found: dict[str, Any]) -> list[tuple[str, Any]]:
    """Field lines for an order with a return (or a return window still open); none otherwise."""
    record = found.get("return")
    asset = found["asset"]
    if record is None:
        until = found.get("return_until_ms")
        return [("returns", f"may be requested until {when(until)}")] if until else []
    money = (f"refund {session.amount(record['refund'], asset)}: paid {session.amount(record['paid'], asset)}, "
             f"held {session.amount(record['held'], asset)}, owed {session.amount(record['owed'], asset)}")
    lines: list[tuple[str, Any]] = [("return", record["status"]), ("return money", money)]
    deadline = (record.get("deadlines") or {}).get("current_ms")
    if deadline:
        lines.append(("return deadline", when(deadline)))
    return lines


def return_steps(found: dict[str, Any]) -> list[str]:
    """Who may do what next on the order's return, and the claim at its deadline."""
    record = found.get("return")
    if record is None:
        return []
    deadlines = record.get("deadlines") or {}
    lines = [f"{step['by']}: {RETURN_WORDS[step['action']].format(id=found['id'])}"
             for step in deadlines.get("actions") or [] if step["action"] in RETURN_WORDS]
    if deadlines.get("claimable_by"):
        lines.append(f"at or after the return deadline, {deadlines['claimable_by']} may claim: marketnode order "
                     f"return-claim {found['id']} (the return becomes {deadlines['on_claim']})")
    return lines
