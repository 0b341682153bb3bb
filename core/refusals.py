"""Which JSON-RPC refusals are temporary, and how long they ask a client to wait: one rule for every client.

A node answers -32005 with ``data.retry_after_ms`` when the same request may
succeed later (``data.code``: ``busy``, ``rate``, ``full``, ``sender_cap``;
docs/RPC.md). Any other refusal will fail again unchanged. The wallet SDK
and the benchmark's clients both decide with ``retry_after_s``.
"""

from __future__ import annotations

from typing import Any

LIMIT_EXCEEDED = -32005
TEMPORARY = ("busy", "rate", "full", "sender_cap")
DEFAULT_RETRY_MS = 500


def retry_after_s(code: Any, data: Any) -> float | None:
    """Seconds to wait before sending the same request again; None when the refusal is definite."""
    data = data if isinstance(data, dict) else {}
    if code != LIMIT_EXCEEDED or (data.get("code") not in TEMPORARY and "retry_after_ms" not in data):
        return None
    hint = data.get("retry_after_ms")
    if isinstance(hint, bool) or not isinstance(hint, int) or hint <= 0:
        hint = DEFAULT_RETRY_MS
    return hint / 1000
