"""The method registry: each RPC method declared once, dispatched and documented from that.

The declarations themselves (``Method``, ``Param``, ``Result``, ``CallContext``)
are in declare.py; ``Registry`` collects them by name, starting with the
framework's built-ins (builtins.py), and ``Registry.openrpc`` renders them
as an OpenRPC 1.2 document. Nothing here does I/O: the server (server.py)
feeds calls in and writes the answers out.

Declaring a method (the handler's keyword names must match the params)::

    registry = Registry()

    @registry.method(
        "account_get",
        summary="Balances, nonce and roles of one account.",
        params=[Param("address", "address", "The account.")],
        result=Result("account", "The account object.", {"type": "object"}),
    )
    async def account_get(ctx: CallContext[NodeApi], address: bytes) -> dict: ...
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from marketnode.core import __version__
from marketnode.node.rpc.builtins import BUILTINS
from marketnode.node.rpc.declare import (
    NO_DEFAULT,
    CallContext,
    Handler,
    Method,
    Param,
    Result,
    Transport,
)
from marketnode.node.rpc.errors import ERROR_MESSAGES

__all__ = ["NO_DEFAULT", "CallContext", "Handler", "Method", "Param", "Registry", "Result", "Transport"]


class Registry:
    """All methods of one RPC server, by name. Starts with the framework's built-ins."""

    def __init__(self, *, title: str = "marketnode JSON-RPC", version: str | None = None,
                 builtins: bool = True) -> None:
        self.title = title
        self.version = version or __version__
        self._methods: dict[str, Method] = {}
        if builtins:
            for method in BUILTINS:
                self.add(method)

    def add(self, method: Method) -> Method:
        if method.name in self._methods:
            raise ValueError(f"method {method.name} is already registered")
        self._methods[method.name] = method
        return method

    def method(
        self,
        name: str,
        *,
        summary: str,
        params: Sequence[Param] = (),
        result: Result | None = None,
        description: str = "",
        admin: bool = False,
        transports: Iterable[str] = ("http", "ws"),
        errors: Sequence[int] = (),
        tags: Sequence[str] = (),
    ) -> Callable[[Handler], Handler]:
        """Decorator form of ``add``; returns the handler unchanged."""

        def register(handler: Handler) -> Handler:
            self.add(
                Method(
                    name=name, summary=summary, handler=handler, params=tuple(params),
                    result=result or Result("result", ""), description=description or (inspect.getdoc(handler) or ""),
                    admin=admin, transports=frozenset(transports), errors=tuple(errors), tags=tuple(tags),
                )
            )
            return handler

        return register

    def replace(self, method: Method) -> None:
        """Swap a registered method's declaration (same name), e.g. to give it its result schema."""
        if method.name not in self._methods:
            raise ValueError(f"method {method.name} is not registered")
        self._methods[method.name] = method

    def get(self, name: str) -> Method | None:
        return self._methods.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._methods

    def __iter__(self) -> Iterator[Method]:
        return iter(sorted(self._methods.values(), key=lambda m: m.name))

    def __len__(self) -> int:
        return len(self._methods)

    def openrpc(self, servers: Sequence[dict[str, str]] = ()) -> dict[str, Any]:
        """The OpenRPC 1.2 document for every registered method."""
        doc: dict[str, Any] = {
            "openrpc": "1.2.6",
            "info": {
                "title": self.title,
                "version": self.version,
                "description": (
                    "JSON-RPC 2.0 over HTTP POST (/ and /rpc) and a websocket (/ws). Params by name or "
                    "by position. Bytes are lowercase hex without 0x; accounts are mn1 addresses."
                ),
            },
            "methods": [m.describe() for m in self],
            "components": {
                "errors": {str(code): {"code": code, "message": msg} for code, msg in sorted(ERROR_MESSAGES.items())}
            },
        }
        if servers:
            doc["servers"] = list(servers)
        return doc

