"""Methods every marketnode RPC server has: discovery, subscriptions, ws login.

They are declared with the same ``Method``/``Param`` types as the node's own
methods, so they are validated and documented the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marketnode.node.rpc.errors import LIMIT_EXCEEDED, UNAUTHORIZED, unauthorized
from marketnode.node.rpc.subscriptions import DEFAULT_TOPICS

if TYPE_CHECKING:
    from marketnode.node.rpc.registry import CallContext, Registry

_TOPICS_DOC = "; ".join(f"`{t.name}`: {t.description.rstrip('.')}" for t in DEFAULT_TOPICS) + "."


async def rpc_discover(ctx: CallContext) -> dict[str, Any]:
    return ctx.registry.openrpc()


async def subscribe(ctx: CallContext, topic: str, filter: dict[str, Any] | None = None) -> str:
    assert ctx.connection is not None  # the server serves this method only over ws
    return ctx.hub.subscribe(ctx.connection, topic, filter)


async def unsubscribe(ctx: CallContext, subscription: str) -> bool:
    assert ctx.connection is not None
    return ctx.hub.unsubscribe(ctx.connection, subscription)


async def rpc_authenticate(ctx: CallContext, token: str) -> bool:
    assert ctx.connection is not None
    if not ctx.auth.enabled:
        raise unauthorized("admin methods are disabled on this node (no admin token configured)")
    if not ctx.auth.check(token):
        raise unauthorized("wrong admin token")
    ctx.connection.is_admin = True
    return True


def register_builtins(registry: Registry) -> None:
    from marketnode.node.rpc.registry import Method, Param, Result

    ws_only = frozenset({"ws"})
    registry.add(Method(
        "rpc_discover", "The OpenRPC 1.2 document describing every method of this node.", rpc_discover,
        result=Result("openrpc", "OpenRPC document.", {"type": "object"}), tags=("rpc",),
    ))
    registry.add(Method(
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
        transports=ws_only, errors=(LIMIT_EXCEEDED,), tags=("rpc",),
    ))
    registry.add(Method(
        "unsubscribe", "Cancel one of this connection's subscriptions (websocket only).", unsubscribe,
        params=(Param("subscription", "string", "Id returned by subscribe.", max_length=64),),
        result=Result("removed", "False when this connection had no such subscription.", {"type": "boolean"}),
        transports=ws_only, tags=("rpc",),
    ))
    registry.add(Method(
        "rpc_authenticate", "Unlock admin methods on this websocket connection.", rpc_authenticate,
        params=(Param("token", "string", "The node's admin token.", max_length=256),),
        result=Result("ok", "True.", {"type": "boolean"}),
        description="Over HTTP send `Authorization: Bearer <token>` instead.",
        transports=ws_only, errors=(UNAUTHORIZED,), tags=("rpc",),
    ))

