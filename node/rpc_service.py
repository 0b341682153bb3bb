"""Start the node's JSON-RPC server (HTTP + websocket) from its config."""

from __future__ import annotations

from typing import Any

from marketnode.node.api import build_registry
from marketnode.node.content.http import add_content_routes
from marketnode.node.rpc import RpcLimits, RpcServer
from marketnode.node.rpc.access import AccessPolicy
from marketnode.node.web import add_web_routes


async def start_rpc(node: Any) -> RpcServer:
    r = node.cfg.rpc
    server = RpcServer(build_registry(), node, host=r.listen_host, port=r.listen_port,
                       limits=RpcLimits.from_config(r), admin_token=r.admin_token or None,
                       access=AccessPolicy.from_config(r))
    add_web_routes(server.app)  # the web pages (GET / and /static/...) share the RPC port
    add_content_routes(server.app, node)  # GET /content/<sha256>: the blobs txs reference
    node.rpc_hub = server.hub
    await server.start()
    return server
