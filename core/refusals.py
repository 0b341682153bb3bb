"""Which JSON-RPC refusals are temporary, and how long they ask a client to wait: one rule for every client.

A node answers -32005 with ``data.retry_after_ms`` when the same request may
succeed later (``data.code``: ``busy``, ``rate``, ``full``, ``sender_cap``, ``nonce_gap``;
docs/RPC.md). Any other refusal will fail again unchanged. The wallet SDK
and the benchmark's clients both decide with ``retry_after_s``.
"""

from __future__ import annotations

from typing import Any

LIMIT_EXCEEDED = -32005
TEMPORARY = ("busy", "rate", "full", "sender_cap", "nonce_gap")  # the data.code values a node sends with -32005
DEFAULT_RETRY_MS = 500


def retry_after_s(code: Any, data: Any) -> float | None:
    """Seconds to wait before sending the same request again; None when the refusal is definite.

    A -32005 is temporary when its ``data.code`` is one of TEMPORARY or it
    carries a hint: ``data.retry_after_ms`` (or ``retry_after_s``, which the
    faucet sends). Other -32005s (a request body too large) fail again. A
    malformed hint means DEFAULT_RETRY_MS.
    """
    data = data if isinstance(data, dict) else {}
    hinted = "retry_after_ms" in data or "retry_after_s" in data
    if code != LIMIT_EXCEEDED or (data.get("code") not in TEMPORARY and not hinted):
        return None
    for key, scale in (("retry_after_ms", 1), ("retry_after_s", 1000)):
        hint = data.get(key)
        if not isinstance(hint, bool) and isinstance(hint, int | float) and 0 < hint < 86_400_000:
            return hint * scale / 1000
    return DEFAULT_RETRY_MS / 1000
