"""Regenerate the reference sections of docs/MARKET.md from the code.

``python -m marketnode.market.docs`` rewrites the text between the BEGIN/END markers;
``--check`` exits 1 if the file is stale (the tests run the same check).
"""

from __future__ import annotations

import sys
from pathlib import Path

from marketnode.market import returns
from marketnode.market.codes import DESCRIPTIONS
from marketnode.market.orders import CLAIM_OUTCOME, CLAIMANT, TRANSITIONS
from marketnode.market.recovery import TRANSITIONS as RECOVERY
from marketnode.market.schema import markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "MARKET.md"
BEGIN, END = "<!-- BEGIN GENERATED (python -m marketnode.market.docs) -->", "<!-- END GENERATED -->"


def render() -> str:
    """The generated part: order and return transition tables, tx kinds with fields, error codes."""
    lines = ["## Order transitions (from `market/orders.py`)", "",
             "| action | from state | who | when |", "|---|---|---|---|"]
    for action, rule in TRANSITIONS.items():
        lines += [f"| `{action}` | {state} | {actor} | {rule.timing} |" for state, actor in rule.actors.items()]
    lines += ["", "| claim from | claimant | leads to |", "|---|---|---|"]
    lines += [f"| {state} | {CLAIMANT[state]} | {CLAIM_OUTCOME[state]} |" for state in CLAIMANT]
    lines += ["", "## Return transitions (from `market/returns.py`)", "",
              "| action | from state | who | when |", "|---|---|---|---|"]
    for action, return_rule in returns.TRANSITIONS.items():
        lines += [f"| `{action}` | {state} | {actor} | {return_rule.timing} |"
                  for state, actor in return_rule.actors.items()]
    lines += ["", "| claim from | claimant | leads to |", "|---|---|---|"]
    lines += [f"| {state} | {returns.CLAIMANT[state]} | {returns.CLAIM_OUTCOME[state]} |" for state in returns.CLAIMANT]
    lines += ["", "A refund claimed from `returning` ends `owed` instead of `refunded` when the hold fell short."]
    lines += recovery_table()
    lines += ["", "## Transaction kinds (from `market/schema.py`)", "", markdown(),
              "## Error codes (from `market/codes.py`)", "", "| code | meaning |", "|---|---|"]
    lines += [f"| `{code}` | {text} |" for code, text in DESCRIPTIONS.items()]
    return "\n".join(lines) + "\n"


def recovery_table() -> list[str]:
    """Guardian recovery's states, who acts, when, and where each action leads (from market/recovery.py)."""
    lines = ["", "## Recovery transitions (from `market/recovery.py`)", "",
             "| action | from state | who | when | leads to |", "|---|---|---|---|---|"]
    for action, rule in RECOVERY.items():
        lines += [f"| `{action}` | {state} | {actor} | {rule.timing} | {rule.leads_to} |"
                  for state, actor in rule.actors.items()]
    return lines


def updated(text: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}\n{render()}{END}{tail}"


def main(argv: list[str]) -> int:
    text = DOC.read_text()
    fresh = updated(text)
    if "--check" in argv:
        if fresh != text:
            print(f"{DOC} is stale: run python -m marketnode.market.docs", file=sys.stderr)
            return 1
        return 0
    DOC.write_text(fresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
