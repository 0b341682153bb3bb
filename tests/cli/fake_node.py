"""A scripted JSON-RPC node for CLI tests: real HTTP on a loopback port, answers from a table.

Each method maps to a function of the params returning a result, or raising
``Refuse(code, message, data)`` to answer with a JSON-RPC error. Every call is
recorded, so a test can decode the signed tx the CLI sent.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from marketnode.core.jsonable import from_hex
from marketnode.core.keys import pubkey_from_address
from marketnode.core.types import Tx
from marketnode.core.upload import UploadAuth, content_hash

CHAIN_ID = "marketnode-testnet"
GENESIS = {"params": {"min_fee": 0, "native_asset": "MKT"},
           "assets": [{"asset": "USDX", "decimals": 2, "name": "Stable", "issuer": None, "max_supply": None}]}


class Refuse(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code, self.message, self.data = code, message, data


class FakeNode:
    """``with FakeNode.running() as node: node.url``; set ``node.methods[name] = fn``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.events: dict[str, list[dict[str, Any]]] = {}  # tx kind -> the receipt events to report
        self.height = 10
        self.methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "node_status": lambda p: {"chain_id": CHAIN_ID, "height": self.height, "head_time_ms": 1_700_000_000_000},
            "chain_getGenesis": lambda p: {"hash": "00", "genesis": GENESIS},
            "asset_list": lambda p: {"items": [{"asset": "MKT", "decimals": 0}, {"asset": "USDX", "decimals": 2}],
                                     "next_cursor": None},
            "account_get": lambda p: {"address": p["address"], "nonce": 4, "balances": {"MKT": 5, "USDX": 1250},
                                      "registered": False, "profile": None, "roles": [], "kyc": {"level": 0}},
            "tx_send": self.commit,
            "content_put": self.content_put,
            "tx_estimate": lambda p: {"ok": True, "code": "ok", "message": "", "fee": 0, "events": []},
        }
        self.blobs: dict[str, bytes] = {}  # what GET /content/<hash> serves (a test may plant wrong bytes)
        self.url = ""

    def commit(self, params: dict[str, Any]) -> dict[str, Any]:
        """Answer tx_send like a node whose block accepted the tx."""
        self.height += 1
        tx = self.sent_tx(params)
        return {"hash": tx.hash.hex(), "status": "committed", "height": self.height, "index": 0,
                "receipt": {"ok": True, "code": "ok", "message": "", "events": self.events.get(tx.kind, []),
                            "fee_paid": 0}}

    def content_put(self, params: dict[str, Any]) -> dict[str, Any]:
        """Check the upload's hash and signature like a node would, and keep the bytes."""
        data = base64.b64decode(params["data"])
        auth = UploadAuth(bytes.fromhex(params["hash"]), pubkey_from_address(params["uploader"]), params["time_ms"],
                          bytes.fromhex(params["signature"]))
        if content_hash(data) != auth.hash or not auth.verify(CHAIN_ID):
            raise Refuse(-32000, "content refused: wrong hash or signature", {"reason": "bad_signature"})
        self.blobs[auth.hash.hex()] = data
        return {"hash": auth.hash.hex(), "content_type": "application/octet-stream", "size": len(data),
                "pinned": False, "expires_ms": None, "url": f"/content/{auth.hash.hex()}"}

    @staticmethod
    def sent_tx(params: dict[str, Any]) -> Tx:
        return Tx.decode(from_hex(params["tx"], "tx"))

    def last_tx(self) -> Tx:
        sent = [params for method, params in self.calls if method == "tx_send"]
        assert sent, f"no tx was sent; calls: {[m for m, _ in self.calls]}"
        return self.sent_tx(sent[-1])

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        method, params = request.get("method"), request.get("params") or {}
        self.calls.append((method, params))
        reply: dict[str, Any] = {"jsonrpc": "2.0", "id": request.get("id")}
        handler = self.methods.get(method)
        if handler is None:
            reply["error"] = {"code": -32601, "message": f"method not found: {method!r}"}
            return reply
        try:
            reply["result"] = handler(params)
        except Refuse as exc:
            reply["error"] = {"code": exc.code, "message": exc.message, "data": exc.data}
        return reply

    @classmethod
    @contextmanager
    def running(cls) -> Iterator[FakeNode]:
        node = cls()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                data = json.dumps(node.answer(body)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                data = node.blobs.get(self.path.removeprefix("/content/"))
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        node.url = f"http://127.0.0.1:{server.server_address[1]}/"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield node
        finally:
            server.shutdown()
            server.server_close()
