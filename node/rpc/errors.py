"""JSON-RPC error codes and the one mapping from exceptions to error objects.

Protocol codes come from JSON-RPC 2.0, application codes from EIP-1474. A
handler raises a ``core.errors`` exception (or an ``RpcError`` built here);
``error_object`` turns it into ``{"code", "message", "data"?}``. Anything
unexpected becomes -32603 with an incident id and never leaks internals.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from marketnode.core.errors import (
    ConsensusError,
    DecodeError,
    MarketnodeError,
    RpcError,
    RuleError,
    StorageCorruption,
    ValidationError,
)

log = logging.getLogger("marketnode.rpc")

# JSON-RPC 2.0
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
# EIP-1474 (server-defined range -32000..-32099)
INVALID_INPUT = -32000
RESOURCE_NOT_FOUND = -32001
UNAUTHORIZED = -32002  # EIP-1474 "resource unavailable"; used here for a missing/wrong admin token
TRANSACTION_REJECTED = -32003
LIMIT_EXCEEDED = -32005
INDEX_UNAVAILABLE = -32010  # the query index stopped behind the chain (node_health says why)

# Default message per code, also the table rendered into docs/RPC.md.
ERROR_MESSAGES: dict[int, str] = {
    PARSE_ERROR: "parse error: the request is not valid JSON",
    INVALID_REQUEST: "invalid request: not a JSON-RPC 2.0 request object",
    METHOD_NOT_FOUND: "method not found",
    INVALID_PARAMS: "invalid params",
    INTERNAL_ERROR: "internal error",
    INVALID_INPUT: "invalid input: well-formed JSON but refused (bytes that do not decode, too large, another chain)",
    RESOURCE_NOT_FOUND: "resource not found",
    UNAUTHORIZED: "unauthorized: admin method without a valid admin token",
    TRANSACTION_REJECTED: "transaction rejected (signature, nonce, duplicate or a marketplace rule); data.code says which",
    LIMIT_EXCEEDED: "limit exceeded (body size, batch length, rate, connections, subscriptions) or node busy",
    INDEX_UNAVAILABLE: "query index unavailable: it stopped behind the chain (node_health says why and where); "
                       "methods reading state alone still answer",
}


def parse_error(detail: str) -> RpcError:
    return RpcError(PARSE_ERROR, f"parse error: {detail}")


def invalid_request(detail: str) -> RpcError:
    return RpcError(INVALID_REQUEST, f"invalid request: {detail}")


def method_not_found(name: str, detail: str = "") -> RpcError:
    return RpcError(METHOD_NOT_FOUND, detail or f"method not found: {name!r} (rpc_discover lists every method)")


def invalid_params(detail: str, param: str | None = None) -> RpcError:
    return RpcError(INVALID_PARAMS, f"invalid params: {detail}", {"param": param} if param else None)


def invalid_input(detail: str) -> RpcError:
    return RpcError(INVALID_INPUT, detail)


def not_found(what: str) -> RpcError:
    """Raise from a handler when the thing asked for does not exist: ``raise not_found("order 12")``."""
    return RpcError(RESOURCE_NOT_FOUND, f"not found: {what}")


def unauthorized(detail: str) -> RpcError:
    return RpcError(UNAUTHORIZED, f"unauthorized: {detail}")


def index_unavailable(detail: str, height: int) -> RpcError:
    """The query index cannot answer truthfully: it holds blocks up to ``height`` only."""
    return RpcError(INDEX_UNAVAILABLE, f"query index unavailable: {detail}", {"indexed_height": height})


def limit_exceeded(detail: str, **data: Any) -> RpcError:
    return RpcError(LIMIT_EXCEEDED, f"limit exceeded: {detail}", data or None)


def error_object(exc: BaseException, method: str | None = None) -> dict[str, Any]:
    """The JSON-RPC error object for ``exc``, raised while serving ``method``.

    RpcError → as given; RuleError → -32003 with ``data.code``; ValidationError,
    DecodeError, ConsensusError (bad input from the caller) → -32000;
    StorageCorruption → -32603 saying the database is damaged (never an empty
    answer); anything else (including StorageError) → -32603 with only an
    incident id, the traceback going to the log under that id.
    """
    if isinstance(exc, RpcError):
        return _obj(exc.code, exc.message, exc.data)
    if isinstance(exc, RuleError):
        return _obj(TRANSACTION_REJECTED, f"transaction rejected: {exc.message}", {"code": exc.code})
    if isinstance(exc, (ValidationError, DecodeError, ConsensusError)):
        return _obj(INVALID_INPUT, f"invalid input: {exc}")
    incident = secrets.token_hex(4)
    if isinstance(exc, StorageCorruption):
        log.error("rpc %s hit a damaged database (incident %s): %s", method or "?", incident, exc)
        return _obj(INTERNAL_ERROR, f"this node's database is damaged, so it cannot answer reliably (incident {incident}); "
                    "ask another node, and see node_health here", {"incident": incident, "storage": "damaged"})
    kind = "marketnode error" if isinstance(exc, MarketnodeError) else "unexpected error"
    log.error("rpc %s in %s (incident %s)", kind, method or "?", incident, exc_info=exc)
    return _obj(INTERNAL_ERROR, f"internal error (incident {incident}; details in the node log)", {"incident": incident})


def _obj(code: int, message: str, data: Any = None) -> dict[str, Any]:
    obj: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        obj["data"] = data
    return obj
