"""What the RPC app's routes share: its state, the slot a request holds, the one error reply shape.

The HTTP and websocket routes (http_calls.py, ws_calls.py) both hold a
per-client slot while they serve and answer refusals the same way; this is
the one place that does both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from aiohttp import web

from marketnode.core.errors import RpcError
from marketnode.node.rpc.access import AccessPolicy
from marketnode.node.rpc.auth import AdminAuth
from marketnode.node.rpc.clients import ClientSlots, client_key
from marketnode.node.rpc.dispatch import Dispatcher
from marketnode.node.rpc.errors import error_object, limit_exceeded
from marketnode.node.rpc.faultlog import ClientFaultLog
from marketnode.node.rpc.jsonify import dumps
from marketnode.node.rpc.limits import RpcLimits
from marketnode.node.rpc.subscriptions import SubscriptionHub

if TYPE_CHECKING:
    from marketnode.node.rpc.ws_calls import WsConnection


@dataclass
class ServerState:
    dispatcher: Dispatcher
    limits: RpcLimits
    hub: SubscriptionHub
    auth: AdminAuth
    access: AccessPolicy
    faults: ClientFaultLog
    http_slots: ClientSlots
    ws_slots: ClientSlots
    ws_connections: set[WsConnection] = field(default_factory=set)


RPC_STATE = web.AppKey("rpc_state", ServerState)
RPC_HUB = web.AppKey("rpc_hub", SubscriptionHub)


def json_error_response(status: int, exc: RpcError) -> web.Response:
    body = dumps({"jsonrpc": "2.0", "error": error_object(exc), "id": None})
    return web.Response(status=status, text=body, content_type="application/json")


class SlotHolder:
    """A request or websocket holding a slot: evictable while it only waits on its own client."""

    def __init__(self, request: web.Request) -> None:
        self.request = request
        self.idle: Callable[[], bool] = lambda: True  # until the body is in (HTTP) or while idle (websocket)

    def evictable(self) -> bool:
        return self.idle()

    def evict(self) -> None:
        if self.request.transport is not None:
            self.request.transport.abort()


Serve = Callable[[web.Request, ServerState, str, SlotHolder], Awaitable[web.StreamResponse]]


async def holding_a_slot(request: web.Request, slots: ClientSlots, serve: Serve) -> web.StreamResponse:
    """Serve ``request`` while its client holds one of ``slots``; refuse with 429/503 when none is left."""
    client = client_key(request.remote)
    holder = SlotHolder(request)
    refused = slots.take(client, holder)
    if refused is not None:
        return json_error_response(refused.http_status, limit_exceeded(refused.reason))
    try:
        return await serve(request, request.app[RPC_STATE], client, holder)
    finally:
        slots.give_back(client, holder)
