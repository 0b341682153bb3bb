"""Every limit of the RPC server in one frozen value, checked once when it is built.

Kept apart from the server so that the config (node/config.py, rpc section)
and the tests can build and check limits without an aiohttp app.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from marketnode.core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class RpcLimits:
    """Every limit of the RPC server; all configurable (node.config.RpcSection), all enforced.

    Counts: ``max_connections`` bounds HTTP requests served at once (all
    clients), ``max_requests_per_client`` those of one client address;
    ``max_open_connections`` / ``max_connections_per_client`` bound TCP
    connections (idle ones included); websockets and subscriptions likewise.
    ``requests_per_s`` is per client address, counting each call of a batch,
    with bursts up to ``rate_burst`` (default: the larger of one second's
    worth and ``max_batch``); None turns it off. Sizes: a request body, one
    response, one batch's responses, a websocket's unsent messages;
    ``batches_at_once`` batches run at a time (all clients). Times (s):
    ``idle_timeout_s`` for a connection to send a complete request head (after
    connecting or after its previous response), ``body_timeout_s`` for the
    whole body, ``send_timeout_s`` for the client to take a large reply,
    ``ws_idle_timeout_s`` for a websocket with no subscription to send
    something, ``call_timeout_s`` for one handler.
    """

    max_body_bytes: int = 1024 * 1024
    max_batch: int = 100
    max_connections: int = 128
    max_requests_per_client: int = 32
    max_open_connections: int = 1024
    max_connections_per_client: int = 64
    max_ws_connections: int = 64
    max_ws_per_client: int = 16
    max_ws_subscriptions: int = 32
    max_subscriptions_per_client: int = 256
    requests_per_s: float | None = 100.0
    rate_burst: float | None = None
    max_response_bytes: int = 16 * 1024 * 1024
    max_batch_response_bytes: int = 8 * 1024 * 1024
    batches_at_once: int = 2
    ws_queue_messages: int = 512
    ws_queue_bytes: int = 16 * 1024 * 1024
    ws_inflight_calls: int = 16
    call_timeout_s: float = 60.0
    idle_timeout_s: float = 15.0
    body_timeout_s: float = 10.0
    send_timeout_s: float = 60.0
    ws_idle_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None and f.name in ("requests_per_s", "rate_burst"):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(f"rpc.{f.name}: must be a positive number (got {value!r})")

    @classmethod
    def from_config(cls, section: Any) -> RpcLimits:
        """Limits from an object with same-named attributes (node.config.RpcSection); others keep defaults.

        ``requests_per_s = 0`` in a config turns rate limiting off.
        """
        values = {f.name: getattr(section, f.name) for f in fields(cls) if hasattr(section, f.name)}
        if values.get("requests_per_s") == 0:
            values["requests_per_s"] = None
        return cls(**values)

    def burst(self) -> float:
        return self.rate_burst or max(self.requests_per_s or 0, self.max_batch)
