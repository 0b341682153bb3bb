"""JSON-RPC 2.0 for the node: declare methods once, serve them over HTTP and websocket.

Layout: declare (Method/Param/Result/CallContext declarations, validation) ·
registry (the methods by name, the built-ins first, OpenRPC) · builtins ·
dispatch (one payload in, one response out, reply budgets; transport-free) ·
server (the app bound to a port) · http_calls and ws_calls (the
routes: body and reply deadlines, websocket queues) · limits (RpcLimits) ·
state (what the routes share) · gate (TCP
connection caps at accept) · clients (who a client is; global and per-client
slots) · access (Content-Type, Host and Origin rules) · faultlog (one
rate-limited line per client fault) · subscriptions (SubscriptionHub, topics)
· errors (codes and the exception mapping) · jsonify (bytes → hex) · docs
(docs/RPC.md from OpenRPC). Method *implementations* live elsewhere in node/.

Wiring, in the node::

    registry = Registry()                      # has rpc_discover, subscribe, ... already

    @registry.method("account_get", summary="...", params=[Param("address", "address", "...")])
    async def account_get(ctx: CallContext[NodeApi], address: bytes) -> dict:
        reader = ctx.node.store.state_reader() # ctx.node is the context given below (node/boundary.py)
        ...                                    # raise not_found("account mn1..") / RuleError / ...

    server = RpcServer(registry, node_context, host=cfg.listen_host, port=cfg.listen_port,
                       limits=RpcLimits.from_config(cfg), admin_token=cfg.admin_token,
                       access=AccessPolicy.from_config(cfg))
    hub = server.hub
    await server.start()                       # or run_rpc_server(...) inside a TaskGroup
    hub.publish("newBlocks", payload)          # on the event loop; never blocks
    hub.publish("account", payload, match=[sender_key, recipient_key])
"""

from marketnode.node.rpc.access import AccessPolicy
from marketnode.node.rpc.errors import not_found
from marketnode.node.rpc.limits import RpcLimits
from marketnode.node.rpc.registry import CallContext, Method, Param, Registry, Result
from marketnode.node.rpc.server import RpcServer, build_rpc_app, run_rpc_server
from marketnode.node.rpc.state import RPC_HUB
from marketnode.node.rpc.subscriptions import SubscriptionHub, Topic

__all__ = [
    "RPC_HUB",
    "AccessPolicy",
    "CallContext",
    "Method",
    "Param",
    "Registry",
    "Result",
    "RpcLimits",
    "RpcServer",
    "SubscriptionHub",
    "Topic",
    "build_rpc_app",
    "not_found",
    "run_rpc_server",
]
