"""JSON-RPC clients for a marketnode: ``RpcClient`` (sync, stdlib) and ``AsyncRpcClient`` (aiohttp).

Both raise ``core.errors.RpcError`` (code, message, data) for a JSON-RPC error
and ``NodeUnreachableError`` when there is no node to talk to, naming the URL.
Request building and response reading are shared, so the two cannot disagree.
"""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import aiohttp

from marketnode.core.errors import MarketnodeError, RpcError

DEFAULT_URL = "http://127.0.0.1:26657/"
_ids = itertools.count(1)

Call = tuple[str, Mapping[str, Any]]


class NodeUnreachableError(MarketnodeError):
    """No JSON-RPC answer at all: connection refused, timeout, or not a marketnode."""


def _request(method: str, params: Mapping[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": next(_ids), "method": method, "params": dict(params)}


def _outcome(response: Any) -> Any:
    """The result of one response object, or the RpcError it carries (returned, not raised)."""
    if not isinstance(response, dict) or response.get("jsonrpc") != "2.0":
        return RpcError(-32603, f"malformed JSON-RPC response: {response!r:.200}")
    if "error" in response:
        error = response["error"]
        if not isinstance(error, dict):
            return RpcError(-32603, f"malformed JSON-RPC error: {error!r:.200}")
        return RpcError(error.get("code", -32603), error.get("message", "error"), error.get("data"))
    return response.get("result")


def result_object(result: Any, method: str) -> dict[str, Any]:
    """A result docs/RPC.md documents as an object, checked: a node answering otherwise is refused here, by name."""
    if not isinstance(result, dict):
        raise RpcError(-32603, f"{method} answered {type(result).__name__}, not an object: {result!r:.200}")
    return result


def _single(request: dict[str, Any], body: Any) -> Any:
    if isinstance(body, dict) and body.get("id") is None and "error" in body:
        raise _outcome(body)  # refused as a whole (limits, parse): no id to match
    if not isinstance(body, dict) or body.get("id") != request["id"]:
        raise RpcError(-32603, f"response does not answer request {request['id']}: {body!r:.200}")
    outcome = _outcome(body)
    if isinstance(outcome, RpcError):
        raise outcome
    return outcome


def _batch(requests: list[dict[str, Any]], body: Any) -> list[Any]:
    if isinstance(body, dict) and "error" in body:
        raise _outcome(body)  # the whole batch was refused (too long, rate limit)
    if not isinstance(body, list):
        raise RpcError(-32603, f"batch answered with {type(body).__name__}, not a list")
    by_id = {r.get("id"): r for r in body if isinstance(r, dict)}
    missing = RpcError(-32603, "the node sent no response for this call")
    return [_outcome(by_id[r["id"]]) if r["id"] in by_id else missing for r in requests]


def _decode(url: str, status: int, raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        raise NodeUnreachableError(
            f"{url} answered HTTP {status} with something that is not JSON-RPC (is this a marketnode RPC URL?)"
        ) from None


def _headers(admin_token: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if admin_token:
        headers["Authorization"] = f"Bearer {admin_token}"
    return headers


def ws_url(url: str) -> str:
    """The websocket endpoint next to an HTTP RPC URL: http://h:p/ → ws://h:p/ws."""
    base = url.rstrip("/")
    if base.endswith("/rpc"):
        base = base[: -len("/rpc")]
    scheme, _, rest = base.partition("://")
    return ("wss" if scheme == "https" else "ws") + "://" + rest + "/ws"


class RpcClient:
    """Blocking client over urllib: ``RpcClient(url).call("account_get", address=...)``."""

    def __init__(self, url: str = DEFAULT_URL, *, timeout_s: float = 30.0, admin_token: str | None = None) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.admin_token = admin_token

    def call(self, method: str, /, **params: Any) -> Any:
        """Call ``method`` with params by name; return its result or raise RpcError."""
        request = _request(method, params)
        return _single(request, self._post(request))

    def batch(self, calls: Iterable[Call]) -> list[Any]:
        """Send ``[(method, params), ...]`` as one batch; each entry of the answer is a
        result or an ``RpcError`` instance (returned, not raised), in call order."""
        requests = [_request(method, params) for method, params in calls]
        if not requests:
            return []
        return _batch(requests, self._post(requests))

    def _post(self, payload: Any) -> Any:
        data = json.dumps(payload).encode()
        request = urllib.request.Request(self.url, data=data, headers=_headers(self.admin_token), method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as resp:
                return _decode(self.url, resp.status, resp.read())
        except urllib.error.HTTPError as exc:  # 413, 429, 503 still carry a JSON-RPC error
            return _decode(self.url, exc.code, exc.read())
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise NodeUnreachableError(f"cannot reach the node at {self.url}: {reason} (is the node running?)") from None


class AsyncRpcClient:
    """aiohttp client: ``async with AsyncRpcClient(url) as node: await node.call(...)``."""

    def __init__(self, url: str = DEFAULT_URL, *, timeout_s: float = 30.0, admin_token: str | None = None) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.admin_token = admin_token
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> AsyncRpcClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s), headers=_headers(self.admin_token)
            )
        return self._session

    async def call(self, method: str, /, **params: Any) -> Any:
        request = _request(method, params)
        return _single(request, await self._post(request))

    async def batch(self, calls: Iterable[Call]) -> list[Any]:
        """Like ``RpcClient.batch``."""
        requests = [_request(method, params) for method, params in calls]
        if not requests:
            return []
        return _batch(requests, await self._post(requests))

    async def _post(self, payload: Any) -> Any:
        try:
            async with self._get_session().post(self.url, data=json.dumps(payload)) as resp:
                return _decode(self.url, resp.status, await resp.read())
        except TimeoutError:
            raise NodeUnreachableError(f"the node at {self.url} did not answer within {self.timeout_s:g} s") from None
        except aiohttp.ClientError as exc:
            raise NodeUnreachableError(f"cannot reach the node at {self.url}: {exc} (is the node running?)") from None

    async def subscribe(self, topic: str, filter: Mapping[str, Any] | None = None) -> AsyncIterator[Any]:
        """Yield each notification payload of one subscription over the node's websocket.

        ``async for block in node.subscribe("newBlocks"): ...``; leaving the loop
        closes the socket. Raises RpcError if the node refuses the subscription.
        """
        url = ws_url(self.url)
        try:
            ws = await self._get_session().ws_connect(url)
        except aiohttp.ClientError as exc:
            raise NodeUnreachableError(f"cannot open the websocket {url}: {exc} (is the node running?)") from None
        try:
            params: dict[str, Any] = {"topic": topic}
            if filter:
                params["filter"] = dict(filter)
            request = _request("subscribe", params)
            await ws.send_str(json.dumps(request))
            sub_id = _single(request, json.loads(await ws.receive_str()))
            while True:
                msg = await ws.receive()
                if msg.type is not aiohttp.WSMsgType.TEXT:
                    break
                note = json.loads(msg.data)
                body = note.get("params") if isinstance(note, dict) else None
                if isinstance(body, dict) and body.get("subscription") == sub_id:
                    yield body.get("result")
            if ws.close_code not in (None, 1000):
                reason = msg.extra if isinstance(msg.extra, str) else ""
                raise NodeUnreachableError(f"the node closed the subscription ({ws.close_code} {reason})")
        finally:
            await ws.close()
