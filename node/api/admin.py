"""admin_* methods: operator actions, served only with the admin token from config.

With no ``rpc.admin_token`` configured they are refused for everyone.
"""

from __future__ import annotations

import logging
from typing import Any

from marketnode.core.errors import ValidationError
from marketnode.node.boundary import NodeApi
from marketnode.node.rpc.errors import INVALID_INPUT, UNAUTHORIZED, invalid_input
from marketnode.node.rpc.registry import CallContext, Param, Registry, Result

LEVELS = ("debug", "info", "warning", "error")


def register(registry: Registry) -> None:
    @registry.method(
        "admin_addPeer",
        summary="Dial a peer and keep reconnecting to it, like a seed from the config.",
        params=[Param("address", "string", '"host:port", or "pubkeyhex@host:port" to pin the key it must prove.',
                      max_length=300)],
        result=Result("ok", "{dialing: address}", {"type": "object"}),
        admin=True,
        errors=(UNAUTHORIZED, INVALID_INPUT),
        tags=("admin",),
    )
    async def admin_addPeer(ctx: CallContext[NodeApi], address: str) -> dict[str, Any]:
        try:
            ctx.node.p2p.connect(address)
        except ValidationError as exc:
            raise invalid_input(str(exc)) from None
        return {"dialing": address}

    @registry.method(
        "admin_banPeer",
        summary="Disconnect a peer and refuse it for the configured ban time.",
        params=[Param("node_id", "hash", "The peer's node key (32 bytes hex), as node_peers shows it.")],
        result=Result("ok", "{banned: node_id}", {"type": "object"}),
        admin=True,
        errors=(UNAUTHORIZED,),
        tags=("admin",),
    )
    async def admin_banPeer(ctx: CallContext[NodeApi], node_id: bytes) -> dict[str, Any]:
        ctx.node.p2p.ban(node_id, "banned by the operator (admin_banPeer)")
        return {"banned": node_id.hex(), "is_banned": ctx.node.p2p.is_banned(node_id)}

    @registry.method(
        "admin_setLogLevel",
        summary="Change the node's log level without a restart.",
        params=[Param("level", "string", "debug, info, warning or error.", enum=LEVELS)],
        result=Result("ok", "{level}", {"type": "object"}),
        admin=True,
        errors=(UNAUTHORIZED,),
        tags=("admin",),
    )
    async def admin_setLogLevel(ctx: CallContext[NodeApi], level: str) -> dict[str, Any]:
        logging.getLogger().setLevel(level.upper())
        return {"level": level}
