"""What an RPC method declares: its params with types and limits, its result, and the context it is called with.

A ``Method`` names its params with types and limits; ``Method.bind`` checks a
call's params against them (-32602 on any mismatch), and ``describe`` renders
the same declaration as an OpenRPC Method Object. Nothing here does I/O; the
registry (registry.py) collects methods, the dispatcher (dispatch.py) calls them.

Param types: the JSON types ``string integer boolean object array null`` and
three formats that arrive converted — ``hash`` (64 lowercase hex chars →
32 bytes), ``hex`` (lowercase hex → bytes, ``max_length`` in bytes) and
``address`` (``mn1...`` → 32-byte public key). A tuple of types accepts the
first that fits, e.g. ``("integer", "hash")`` for "height or hash".
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

from marketnode.core.encoding import INT_MAX, INT_MIN
from marketnode.core.errors import ValidationError
from marketnode.core.jsonable import from_hex
from marketnode.core.keys import pubkey_from_address
from marketnode.node.rpc.auth import AdminAuth
from marketnode.node.rpc.errors import ERROR_MESSAGES, invalid_params
from marketnode.node.rpc.subscriptions import Subscriber, SubscriptionHub

JSON_TYPES = ("string", "integer", "boolean", "object", "array", "null")
FORMAT_TYPES = ("hash", "hex", "address")
_METHOD_NAME_RE = re.compile(r"^[a-z][A-Za-z0-9_]{0,63}$")
_HASH_RE = re.compile(r"^[0-9a-f]{64}$")

Handler = Callable[..., Awaitable[Any]]
Transport = Literal["http", "ws"]


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


C = TypeVar("C")  # the server's context: what handlers get as ``ctx.node``


class Discovery(Protocol):
    """The registry as a handler sees it: the OpenRPC document of every method (rpc_discover)."""

    def openrpc(self, servers: Sequence[dict[str, str]] = ()) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class CallContext(Generic[C]):
    """What a handler gets as ``ctx``: the server's context plus who is calling and how.

    ``node`` is the context given to ``build_rpc_app``: the framework never
    looks inside it, so its type is the server's to choose (the node's methods
    take ``CallContext[NodeApi]``, node/boundary.py); ``connection`` is the
    websocket connection for ws calls (None over HTTP), needed by methods that
    subscribe.
    """

    node: C
    transport: Transport
    client: str
    is_admin: bool
    hub: SubscriptionHub
    registry: Discovery
    auth: AdminAuth
    connection: Subscriber | None = None


@dataclass(frozen=True, slots=True)
class Param:
    """One named parameter: its type, whether it is required, and its limits.

    ``minimum``/``maximum`` bound integers; ``max_length`` bounds strings
    (characters), arrays (items), objects (keys) and ``hex`` (bytes);
    ``enum`` lists the allowed values; ``items`` is the type of array elements.
    An optional param that is absent (or null, unless its type allows null)
    is passed as ``default`` when one is declared, and left out of the
    handler's keywords otherwise.
    """

    name: str
    type: str | tuple[str, ...]
    description: str
    required: bool = True
    default: Any = NO_DEFAULT
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    enum: tuple[Any, ...] | None = None
    items: str | None = None

    def __post_init__(self) -> None:
        for t in self.types + ((self.items,) if self.items else ()):
            if t not in JSON_TYPES + FORMAT_TYPES:
                raise ValueError(f"param {self.name!r}: unknown type {t!r}")
        if self.required and self.default is not NO_DEFAULT:
            raise ValueError(f"param {self.name!r}: a required param cannot have a default")

    @property
    def types(self) -> tuple[str, ...]:
        return (self.type,) if isinstance(self.type, str) else tuple(self.type)

    def check(self, value: Any) -> Any:
        """Return the value (converted for formats) or raise -32602 naming this param."""
        reasons = []
        for t in self.types:
            try:
                return self._check_one(t, value)
            except _Mismatch as exc:
                reasons.append(str(exc))
        raise invalid_params(f"{self.name!r} " + "; or ".join(reasons), self.name)

    def _check_one(self, t: str, value: Any) -> Any:
        value = _check_type(t, value, self.max_length)
        if self.enum is not None and value not in self.enum:
            raise _Mismatch(f"must be one of {list(self.enum)}")
        if t == "integer":
            if self.minimum is not None and value < self.minimum:
                raise _Mismatch(f"must be >= {self.minimum}")
            if self.maximum is not None and value > self.maximum:
                raise _Mismatch(f"must be <= {self.maximum}")
        if t in ("string", "array", "object") and self.max_length is not None and len(value) > self.max_length:
            raise _Mismatch(f"must have at most {self.max_length} {'characters' if t == 'string' else 'items'}")
        if t == "array" and self.items:
            value = [self._item(i, v) for i, v in enumerate(value)]
        return value

    def _item(self, index: int, value: Any) -> Any:
        assert self.items is not None
        try:
            return _check_type(self.items, value, None)
        except _Mismatch as exc:
            raise _Mismatch(f"item {index} {exc}") from None

    def schema(self) -> dict[str, Any]:
        """JSON Schema of this param, for OpenRPC."""
        schemas = [self._schema_one(t) for t in self.types]
        out = schemas[0] if len(schemas) == 1 else {"oneOf": schemas}
        if self.default is not NO_DEFAULT:
            out = {**out, "default": self.default}
        return out

    def _schema_one(self, t: str) -> dict[str, Any]:
        out = _type_schema(t, self.max_length)
        if t == "integer":
            if self.minimum is not None:
                out["minimum"] = self.minimum
            if self.maximum is not None:
                out["maximum"] = self.maximum
        if self.max_length is not None and t in ("string", "array", "object"):
            out[{"string": "maxLength", "array": "maxItems", "object": "maxProperties"}[t]] = self.max_length
        if self.enum is not None:
            out["enum"] = list(self.enum)
        if t == "array" and self.items:
            out["items"] = _type_schema(self.items, None)
        return out


class _Mismatch(Exception):
    """A value does not fit one candidate type (turned into -32602 by Param.check)."""


def _check_type(t: str, value: Any, max_length: int | None) -> Any:
    if t == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Mismatch("must be an integer (no fractions, no strings)")
        if not INT_MIN <= value <= INT_MAX:
            raise _Mismatch("is outside the 64-bit range every marketnode integer fits in")
        return value
    if t == "boolean":
        if not isinstance(value, bool):
            raise _Mismatch("must be true or false")
        return value
    if t == "null":
        if value is not None:
            raise _Mismatch("must be null")
        return value
    expected = {"string": str, "object": dict, "array": list, "hash": str, "hex": str, "address": str}[t]
    if not isinstance(value, expected):
        article = "an" if t in ("object", "array", "address") else "a"
        raise _Mismatch(f"must be {article} {t}")
    try:
        if t == "hash":
            if not _HASH_RE.match(value):
                raise _Mismatch("must be a 32-byte hash as 64 lowercase hex chars")
            return bytes.fromhex(value)
        if t == "hex":
            return from_hex(value, "value", max_size=max_length)
        if t == "address":
            return pubkey_from_address(value)
    except ValidationError as exc:
        raise _Mismatch(f"is invalid: {exc}") from None
    return value


def _type_schema(t: str, max_length: int | None) -> dict[str, Any]:
    if t == "hash":
        return {"type": "string", "pattern": "^[0-9a-f]{64}$", "description": "32-byte hash, lowercase hex"}
    if t == "hex":
        out: dict[str, Any] = {"type": "string", "pattern": "^([0-9a-f]{2})*$", "description": "bytes, lowercase hex"}
        if max_length is not None:
            out["maxLength"] = 2 * max_length
        return out
    if t == "address":
        return {"type": "string", "pattern": "^mn1[a-z2-7]{58}$", "description": "account address"}
    return {"type": t}


@dataclass(frozen=True, slots=True)
class Result:
    """What a method returns, for the docs (the handler's return value is not checked)."""

    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Method:
    """One RPC method: its declaration and its handler ``async def handler(ctx, **params)``.

    ``admin`` methods need the admin token; ``transports`` limits where a
    method is served (subscriptions exist only on the websocket);
    ``errors`` lists the application error codes it can return, for the docs.
    Params are taken by name, or by position in declaration order.
    """

    name: str
    summary: str
    handler: Handler
    params: tuple[Param, ...] = ()
    result: Result = Result("result", "")
    description: str = ""
    admin: bool = False
    transports: frozenset[str] = frozenset({"http", "ws"})
    errors: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _METHOD_NAME_RE.match(self.name):
            raise ValueError(f"method name {self.name!r} must match {_METHOD_NAME_RE.pattern}")
        if not inspect.iscoroutinefunction(self.handler):
            raise TypeError(f"handler of {self.name} must be an async function")
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate param names")
        _check_handler_signature(self.name, self.handler, names)
        for code in self.errors:
            if code not in ERROR_MESSAGES:
                raise ValueError(f"{self.name}: undeclared error code {code}")

    def bind(self, params: dict[str, Any] | list[Any] | None) -> dict[str, Any]:
        """Check a call's params; return the handler's keyword arguments or raise -32602."""
        if params is None:
            params = {}
        if isinstance(params, list):
            if len(params) > len(self.params):
                raise invalid_params(f"{self.name} takes at most {len(self.params)} params, got {len(params)}")
            params = {p.name: v for p, v in zip(self.params, params)}
        known = {p.name for p in self.params}
        unknown = sorted(set(params) - known)
        if unknown:
            raise invalid_params(
                f"unknown param {unknown[0]!r} for {self.name} (takes: {', '.join(sorted(known)) or 'none'})",
                unknown[0],
            )
        kwargs: dict[str, Any] = {}
        for p in self.params:
            if _given(p, params):
                kwargs[p.name] = p.check(params[p.name])
            elif p.required:
                raise invalid_params(f"missing required param {p.name!r} ({p.description})", p.name)
            elif p.default is not NO_DEFAULT:
                kwargs[p.name] = p.default
        return kwargs

    def describe(self) -> dict[str, Any]:
        """This method as an OpenRPC Method Object."""
        out: dict[str, Any] = {
            "name": self.name,
            "summary": self.summary,
            "paramStructure": "either",
            "params": [
                {"name": p.name, "description": p.description, "required": p.required, "schema": p.schema()}
                for p in self.params
            ],
            "result": {"name": self.result.name, "description": self.result.description, "schema": self.result.schema},
        }
        if self.description:
            out["description"] = self.description
        if self.tags:
            out["tags"] = [{"name": t} for t in self.tags]
        if self.errors:
            out["errors"] = [{"code": c, "message": ERROR_MESSAGES[c]} for c in self.errors]
        out["x-admin"] = self.admin
        out["x-transports"] = sorted(self.transports)
        return out


def _given(param: Param, params: dict[str, Any]) -> bool:
    """Present, counting an optional param sent as null as absent (many clients send them so)."""
    if param.name not in params:
        return False
    return params[param.name] is not None or param.required or "null" in param.types


def _check_handler_signature(name: str, handler: Handler, params: list[str]) -> None:
    """Refuse at startup a handler whose keywords drifted from its declaration."""
    sig = inspect.signature(handler)
    accepted = list(sig.parameters.values())
    if not accepted:
        raise TypeError(f"handler of {name} must take ctx as its first argument")
    rest = accepted[1:]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in rest):
        return
    names = {p.name for p in rest}
    missing = [p for p in params if p not in names]
    if missing:
        raise TypeError(f"handler of {name} does not accept declared params {missing}")
    extra = [p.name for p in rest if p.default is inspect.Parameter.empty and p.name not in params]
    if extra:
        raise TypeError(f"handler of {name} requires undeclared params {extra}")
