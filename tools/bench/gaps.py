"""The longest gap between two blocks while accepted txs were waiting, and the stall verdict on it.

Pure: the bench records, on its own monotonic clock, when it first saw each
new height at any node (tools/bench/step.py polls every node) and, per
accepted tx, when its acknowledgement arrived and the height that committed
it. These are commit times as a client sees them, so the heights named
match the nodes' "committed block N" log lines. (Block timestamps were the
other choice; they are proposal times, so a block that took 20 s to agree
would show its delay after itself, between the wrong two heights.) A gap counts only the part of the
time between two blocks during which some accepted tx was not yet committed:
a chain that makes no block because nothing is pending is idle, not stalled
(no empty blocks, docs/BENCHMARKS.md). The interval after the last block up
to the end of the run counts too, so a network that never recovers shows as
the stall it is.

"Accepted work" means work the network could commit: a tx counts from the
time it *and every earlier nonce of its sender* were acknowledged
(``ready_times``). A tx acknowledged while its sender's nonce k-1 was still
being refused cannot commit before k-1 arrives, and if the bench gives up on
k-1 at the end of the run it never can; counting it made the last seconds
of every overloaded run look like a stall of the network (issue 12: "22.5 s
after height 150, none came by the end", all 3,475 of them behind nonces the
bench never got accepted).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

DEFAULT_STALL_MS = 5_000


@dataclass(frozen=True)
class BlockGap:
    """``ms`` with work pending after block ``after_height``; ``before_height`` None: no block came by the end."""

    ms: float
    after_height: int
    before_height: int | None
    pending: int  # accepted txs that waited through (part of) the gap

    def to_json(self) -> dict[str, Any]:
        return {"after_height": self.after_height, "before_height": self.before_height, "pending": self.pending}

    @classmethod
    def from_json(cls, ms: float, obj: dict[str, Any]) -> BlockGap:
        return cls(ms, obj["after_height"], obj["before_height"], obj["pending"])


def ready_times(order: Sequence[tuple[bytes, str]], acked: dict[str, float]) -> dict[str, float]:
    """Per accepted tx hash: when it became committable, i.e. the latest acknowledgement among its
    sender's txs up to it. ``order``: (sender, hash) of every offered tx, each sender's in nonce order.
    A tx behind a never-acknowledged one of its sender is left out: nothing could commit it."""
    latest: dict[bytes, float] = {}
    blocked: set[bytes] = set()
    out: dict[str, float] = {}
    for sender, tx_hash in order:
        if sender in blocked:
            continue
        at = acked.get(tx_hash)
        if at is None:
            blocked.add(sender)
            continue
        latest[sender] = max(latest.get(sender, at), at)
        out[tx_hash] = latest[sender]
    return out


def longest_pending_gap(blocks: Sequence[tuple[int, float]], accepted: Sequence[tuple[float, int | None]],
                        end_ms: float) -> BlockGap | None:
    """The longest stretch with no new block while accepted work waited; None if work never waited.

    ``blocks``: (height, ms it was first seen committed) in height order,
    starting with the head before the load began (at the time the load began). ``accepted``: (acknowledged at, ms; committing height
    or None if it never committed). ``end_ms``: when the bench stopped watching.
    """
    if not blocks:
        return None
    never = float("inf")
    first_accept: dict[float, float] = {}  # committing height (inf: never) -> earliest acknowledgement
    for at, height in accepted:
        key = never if height is None else float(height)
        first_accept[key] = min(first_accept.get(key, at), at)
    keys = sorted(first_accept, reverse=True)
    best: tuple[float, int] | None = None  # (ms, index of the block the gap follows)
    waiting_since = never
    j = 0
    for k in range(len(blocks) - 1, -1, -1):  # suffix minimum: work committed after block k
        height, at = blocks[k]
        while j < len(keys) and keys[j] > height:
            waiting_since = min(waiting_since, first_accept[keys[j]])
            j += 1
        next_at = blocks[k + 1][1] if k + 1 < len(blocks) else end_ms
        start = max(at, waiting_since)
        if start < next_at and (best is None or next_at - start >= best[0]):
            best = (next_at - start, k)
    if best is None:
        return None
    ms, k = best
    after = blocks[k][0]
    before = blocks[k + 1][0] if k + 1 < len(blocks) else None
    gap_end = blocks[k + 1][1] if before is not None else end_ms
    waited = sum(1 for at, height in accepted if at < gap_end and (height is None or height > after))
    return BlockGap(ms, after, before, waited)


def gap_fields(gap: BlockGap | None) -> dict[str, Any]:
    """The report fields for ``gap``: ``longest_block_gap_ms`` (0 when work never waited) and where it was."""
    return {"longest_block_gap_ms": round(gap.ms) if gap else 0,
            "longest_block_gap": gap.to_json() if gap else None}


def gap_of(report: dict[str, Any]) -> BlockGap | None:
    where = report.get("longest_block_gap")
    return BlockGap.from_json(report["longest_block_gap_ms"], where) if where else None


def stall_message(gap: BlockGap | None, stall_ms: float) -> str | None:
    """Why this run counts as a stall (gap ≥ ``stall_ms`` with work pending), or None."""
    if gap is None or gap.ms < stall_ms:
        return None
    where = (f"between height {gap.after_height} and {gap.before_height}" if gap.before_height is not None
             else f"after height {gap.after_height}, and none came by the end of the run")
    return (f"stall: no block for {gap.ms / 1000:.1f} s {where} while {gap.pending} accepted txs were pending "
            f"(a gap of {stall_ms / 1000:g} s or more with work pending is a stall; --stall-ms sets it)")
