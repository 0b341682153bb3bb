"""Methods every marketnode RPC server has: discovery, subscriptions, ws login.

They are declared with the same ``Method``/``Param`` types (declare.py) as the
node's own methods, so they are validated and documented the same way; every
``Registry`` starts with ``BUILTINS``. They read nothing of the server's context.
"""

from __future__ import annotations

from typing import Any

from marketnode.node.rpc.declare import CallContext, Method, Param, Result
from marketnode.node.rpc.errors import LIMIT_EXCEEDED, UNAUTHORIZED, unauthorized
from marketnode.node.rpc.subscriptions import DEFAULT_TOPICS

_TOPICS_DOC = "; ".join(f"`{t.name}`: {t.description.rstrip('.')}" for t in DEFAULT_TOPICS) + "."


async def rpc_discover(ctx: CallContext[object]) -> dict[str, Any]:
    return ctx.registry.openrpc()


async def subscribe(ctx: CallContext[object], topic: str, filter: dict[str, Any] | None = None) -> str:
    assert ctx.connection is not None  # the server serves this method only over ws
    return ctx.hub.subscribe(ctx.connection, topic, filter)


async def unsubscribe(ctx: CallContext[object], subscription: str) -> bool:
    assert ctx.connection is not None
    return ctx.hub.unsubscribe(ctx.connection, subscription)


async def rpc_authenticate(ctx: CallContext[object], token: str) -> bool:
    assert ctx.connection is not None
    if not ctx.auth.enabled:
        raise unauthorized("admin methods are disabled on this node (no admin token configured)")
    if not ctx.auth.check(token):
        raise unauthorized("wrong admin token")
    ctx.connection.is_admin = True
    return True


_WS_ONLY = frozenset({"ws"})

BUILTINS: tuple[Method, ...] = (
    Method(
        "rpc_discover", "The OpenRPC 1.2 document describing every method of this node.", rpc_discover,
        result=Result("openrpc", "OpenRPC document.", {"type": "object"}), tags=("rpc",),
    ),
    Method(
        "subscribe", "Subscribe to a topic (websocket only); notifications carry the returned id.", subscribe,
        params=(
            Param("topic", "string", "One of: " + ", ".join(t.name for t in DEFAULT_TOPICS) + ".", max_length=32),
            Param("filter", "object", "Topic filter; see the description.", required=False, max_length=4),
        ),
        result=Result("subscription", "Subscription id (hex string).", {"type": "string"}),
        description=(
            "Notifications arrive as {\"jsonrpc\":\"2.0\",\"method\":\"subscription\",\"params\":"
            "{\"subscription\": id, \"result\": payload}}. Topics: " + _TOPICS_DOC +
            " A connection that reads too slowly is closed (code 1008, \"slow consumer\")."
        ),
        transports=_WS_ONLY, errors=(LIMIT_EXCEEDED,), tags=("rpc",),
    ),
    Method(
        "unsubscribe", "Cancel one of this connection's subscriptions (websocket only).", unsubscribe,
        params=(Param("subscription", "string", "Id returned by subscribe.", max_length=64),),
        result=Result("removed", "False when this connection had no such subscription.", {"type": "boolean"}),
        transports=_WS_ONLY, tags=("rpc",),
    ),
    Method(
        "rpc_authenticate", "Unlock admin methods on this websocket connection.", rpc_authenticate,
        params=(Param("token", "string", "The node's admin token.", max_length=256),),
        result=Result("ok", "True.", {"type": "boolean"}),
        description="Over HTTP send `Authorization: Bearer <token>` instead.",
        transports=_WS_ONLY, errors=(UNAUTHORIZED,), tags=("rpc",),
    ),
)
