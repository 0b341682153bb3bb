"""Start the node's JSON-RPC server (HTTP + websocket) from its config, on the hub the node publishes to."""

from __future__ import annotations

from marketnode.node.api import build_registry
from marketnode.node.api.faucet import FaucetSource
from marketnode.node.boundary import NodeApi
from marketnode.node.config import RpcSection
from marketnode.node.content.http import add_content_routes
from marketnode.node.rpc import RpcLimits, RpcServer
from marketnode.node.rpc.access import AccessPolicy
from marketnode.node.rpc.subscriptions import SubscriptionHub
from marketnode.node.web import add_web_routes


def subscription_hub(rpc: RpcSection) -> SubscriptionHub:
    """The hub websocket subscriptions live on, made with the node (before RPC listens), so block and mailbox
    notifications always have one to go to; while no one subscribes, publishing is a no-op."""
    limits = RpcLimits.from_config(rpc)
    return SubscriptionHub(max_per_connection=limits.max_ws_subscriptions,
                           max_per_client=limits.max_subscriptions_per_client)


async def start_rpc(node: NodeApi, hub: SubscriptionHub) -> RpcServer:
    r = node.cfg.rpc
    server = RpcServer(build_registry(FaucetSource.from_config(node.cfg)), node, host=r.listen_host,
                       port=r.listen_port, limits=RpcLimits.from_config(r), admin_token=r.admin_token or None,
                       hub=hub, access=AccessPolicy.from_config(r))
    add_web_routes(server.app)  # the web pages (GET / and /static/...) share the RPC port
    add_content_routes(server.app, node.content)  # GET /content/<sha256>: the blobs txs reference
    await server.start()
    return server
