"""Start the node's JSON-RPC server (HTTP + websocket) from its config."""

from __future__ import annotations

from typing import Any

from node.api import build_registry
from node.rpc.server import RpcLimits, RpcServer
from node.web import add_web_routes


async def start_rpc(node: Any) -> RpcServer:
    r = node.cfg.rpc
    limits = RpcLimits(max_body_bytes=r.max_body_bytes, max_batch=r.max_batch, max_connections=r.max_connections,
                       max_ws_subscriptions=r.max_ws_subscriptions, requests_per_s=float(r.requests_per_s) or None)
    server = RpcServer(build_registry(), node, host=r.listen_host, port=r.listen_port, limits=limits,
                       admin_token=r.admin_token or None)
    add_web_routes(server.app)  # the web pages (GET / and /static/...) share the RPC port
    node.rpc_hub = server.hub
    await server.start()
    return server
