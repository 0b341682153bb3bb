"""The demo registry and request helpers shared by the RPC tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp.test_utils import TestClient

from marketnode.core.errors import RuleError, ValidationError
from marketnode.node.rpc import CallContext, Param, Registry, Result, not_found

ADMIN_TOKEN = "test-admin-token-0123456789"
ANY_JSON = ("string", "integer", "boolean", "object", "array", "null")


def demo_registry() -> Registry:
    registry = Registry(title="demo")

    @registry.method("demo_echo", summary="Return the value.", params=[Param("value", ANY_JSON, "Anything.")])
    async def echo(ctx: CallContext, value: Any) -> Any:
        return value

    @registry.method(
        "demo_add", summary="a + b.",
        params=[Param("a", "integer", "First.", minimum=-1000, maximum=1000),
                Param("b", "integer", "Second.", required=False, default=0)],
        result=Result("sum", "a + b", {"type": "integer"}),
    )
    async def add(ctx: CallContext, a: int, b: int) -> int:
        return a + b

    @registry.method("demo_reject", summary="Raise a RuleError.", params=[Param("code", "string", "Rule code.")])
    async def reject(ctx: CallContext, code: str) -> None:
        raise RuleError(code, "the rule says no")

    @registry.method("demo_invalid", summary="Raise a ValidationError.")
    async def invalid(ctx: CallContext) -> None:
        raise ValidationError("signature does not verify")

    @registry.method("demo_missing", summary="Raise not found.")
    async def missing(ctx: CallContext) -> None:
        raise not_found("order 7")

    @registry.method("demo_boom", summary="Fail unexpectedly.")
    async def boom(ctx: CallContext) -> None:
        raise RuntimeError("secret internals at /var/lib/marketnode")

    @registry.method("demo_float", summary="Return a float (not allowed).")
    async def float_out(ctx: CallContext) -> float:
        return 1.5

    @registry.method("demo_bytes", summary="Return bytes.")
    async def bytes_out(ctx: CallContext) -> dict[str, Any]:
        return {"hash": b"\x01\xab", "list": (b"\xff",)}

    @registry.method("demo_slow", summary="Sleep.", params=[Param("ms", "integer", "How long.", maximum=5000)])
    async def slow(ctx: CallContext, ms: int) -> str:
        await asyncio.sleep(ms / 1000)  # the handler under test is slow on purpose: it is what the caller waits on
        return "done"

    @registry.method("demo_wait", summary="Count itself in ctx.node['waiting'], then wait for ctx.node['gate'].")
    async def wait(ctx: CallContext) -> str:
        """A call that holds its slot exactly as long as the test wants: no timing involved."""
        ctx.node["waiting"] = ctx.node.get("waiting", 0) + 1
        await ctx.node["gate"].wait()
        return "through"

    @registry.method("demo_bump", summary="Count calls (to see notifications run).")
    async def bump(ctx: CallContext) -> int:
        ctx.node["bumps"] += 1
        return ctx.node["bumps"]

    @registry.method(
        "demo_formats", summary="Converted params.",
        params=[Param("hash", "hash", "A hash.", required=False),
                Param("account", "address", "An account.", required=False),
                Param("blob", "hex", "Bytes.", required=False, max_length=4),
                Param("ref", ("integer", "hash"), "Height or hash.", required=False)],
    )
    async def formats(ctx: CallContext, **params: Any) -> dict[str, Any]:
        return {k: [type(v).__name__, v] for k, v in params.items()}

    @registry.method("demo_admin", summary="Admin only.", admin=True)
    async def admin(ctx: CallContext) -> str:
        return "yes, admin"

    return registry



async def rpc(client: TestClient, payload: Any, **kwargs: Any) -> tuple[int, Any]:
    """POST a payload (a JSON value, or raw str/bytes sent as application/json); return (status, body or None)."""
    if isinstance(payload, (str, bytes)):
        headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
        resp = await client.post("/", data=payload, headers=headers, **kwargs)
    else:
        resp = await client.post("/", json=payload, **kwargs)
    text = await resp.text()
    return resp.status, (None if not text else json.loads(text))


def call(method: str, params: Any = None, id: Any = 1) -> dict[str, Any]:
    msg: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": id}
    if params is not None:
        msg["params"] = params
    return msg


def note(method: str, params: Any = None) -> dict[str, Any]:
    msg = call(method, params)
    del msg["id"]
    return msg
