"""JSON-RPC 2.0 for the node: declare methods once, serve them over HTTP and websocket.

Layout: registry (Method/Param/Result declarations, validation, OpenRPC) ·
dispatch (one payload in, one response out; transport-free) · server (aiohttp
edge, limits, websocket queues) · subscriptions (SubscriptionHub, topics) ·
errors (codes and the exception mapping) · jsonify (bytes → hex) · docs
(docs/RPC.md from OpenRPC). Method *implementations* live elsewhere in node/.
"""

from node.rpc.errors import not_found
from node.rpc.registry import CallContext, Method, Param, Registry, Result
from node.rpc.server import RPC_HUB, RpcLimits, RpcServer, build_rpc_app, run_rpc_server
from node.rpc.subscriptions import SubscriptionHub, Topic

__all__ = [
    "RPC_HUB",
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
