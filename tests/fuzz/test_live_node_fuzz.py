"""Fuzz a running node (a real process) through its two doors: JSON-RPC over HTTP and the p2p websocket.

Whatever arrives, the node answers with a clear error (a JSON-RPC error
object with a code from docs/RPC.md and a message; a refused handshake on
p2p), never an internal error, never a crash, and it keeps committing.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import urllib.error
import urllib.request
from typing import Any

import aiohttp
import pytest
from harness import Testnet, wait_for
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketnode.core.encoding import encode
from marketnode.node.rpc.errors import ERROR_MESSAGES, INTERNAL_ERROR

pytestmark = pytest.mark.integration

FUZZ = settings(max_examples=int(os.environ.get("MARKETNODE_FUZZ_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
KNOWN_CODES = set(ERROR_MESSAGES)


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    net = Testnet(tmp_path_factory.mktemp("fuzz"), validators=1)
    path = net.entries["validator-0"].home / "config.toml"
    # Lift the per-IP rate so every fuzz input reaches the dispatcher (the rate limit has its own test).
    path.write_text(path.read_text().replace("requests_per_s = 2000", "requests_per_s = 100000"))
    net.start()
    methods = _Methods(net.call("validator-0", "rpc_discover")["methods"])
    yield net, methods
    log = net.log("validator-0")
    net.close()
    assert "Traceback" not in log, log[log.index("Traceback") - 500:][:4000]


class _Methods(list):
    """The OpenRPC method list, with a short repr so a failing example prints readably."""

    def __repr__(self) -> str:
        return f"<{len(self)} RPC methods>"


def post(net: Testnet, body: bytes, content_type: str = "application/json") -> tuple[int, Any]:
    request = urllib.request.Request(net.url("validator-0"), data=body, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    return status, json.loads(raw) if raw else None


def assert_clear(reply: Any) -> None:
    """A JSON-RPC response (or batch of them): a result, or an error with a known code and a message."""
    for item in reply if isinstance(reply, list) else [reply]:
        assert isinstance(item, dict) and item.get("jsonrpc") == "2.0", item
        if "error" in item:
            error = item["error"]
            assert error["code"] != INTERNAL_ERROR, f"internal error (a bug): {item}"
            assert error["code"] in KNOWN_CODES, item
            assert isinstance(error["message"], str) and error["message"], item
        else:
            assert "result" in item, item


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.text(max_size=40)
    | st.sampled_from(["0x", "00" * 32, "ff" * 64, "a" * 10_000, "-1", "1e400"]),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)


@FUZZ
@given(st.data())
def test_any_params_to_any_method_get_a_result_or_a_clear_error(node, data):
    net, methods = node
    method = data.draw(st.sampled_from(methods))
    names = [p["name"] for p in method.get("params", [])] + ["extra", ""]
    if data.draw(st.booleans()):
        params: Any = data.draw(st.dictionaries(st.sampled_from(names), json_values, max_size=4))
    else:
        params = data.draw(st.lists(json_values, max_size=4))
    body = {"jsonrpc": "2.0", "id": data.draw(st.integers(0, 2**31) | st.text(max_size=5)), "method": method["name"],
            "params": params}
    status, reply = post(net, json.dumps(body).encode())
    assert status == 200
    assert_clear(reply)


@FUZZ
@given(json_values)
def test_any_json_document_as_a_request_gets_a_clear_error(node, document):
    net, _ = node
    status, reply = post(net, json.dumps(document).encode())
    if reply is not None:  # notifications (no id) get no body
        assert_clear(reply)
    assert status in (200, 204, 400, 413), status


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from(["application/json", "text/plain", "application/octet-stream", ""]))
def test_any_bytes_as_a_body_get_a_clear_error(node, body, content_type):
    net, _ = node
    status, reply = post(net, body, content_type)
    if reply is not None:
        assert_clear(reply)
    assert status in (200, 204, 400, 413, 415), status


@FUZZ
@given(st.lists(st.binary(max_size=300), min_size=1, max_size=3),
       st.dictionaries(st.sampled_from(["type", "chain_id", "version", "node_key", "eph_key", "challenge", "advertise"]),
                       st.none() | st.integers(-(2**63), 2**64 - 1) | st.binary(max_size=40) | st.text(max_size=40), max_size=7))
def test_any_handshake_bytes_on_the_p2p_port_are_refused_without_harm(node, frames, hello):
    net, _ = node
    port = net.p2p_port("validator-0")

    async def attempt() -> None:
        async with aiohttp.ClientSession() as session:
            for payload in [encode(hello), *frames]:
                try:
                    async with session.ws_connect(f"ws://127.0.0.1:{port}/p2p",
                                                  timeout=aiohttp.ClientWSTimeout(ws_close=2)) as ws:
                        await ws.send_bytes(payload)
                        await ws.receive(timeout=3)
                except (TimeoutError, aiohttp.ClientError):
                    pass

    asyncio.run(attempt())


@FUZZ
@given(st.binary(max_size=600))
def test_raw_bytes_on_the_p2p_port_are_refused_without_harm(node, payload):
    net, _ = node
    with socket.create_connection(("127.0.0.1", net.p2p_port("validator-0")), timeout=5) as s:
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            s.recv(100)
        except OSError:
            pass


def test_after_all_the_fuzzing_the_node_answers_and_commits(node):
    net, _ = node
    assert net.procs["validator-0"].poll() is None
    status = wait_for(lambda: net.status("validator-0"), 5, "node_status after fuzzing")
    assert status["height"] >= 0
    tx = net.transfer("alice", "bob", 5, via="validator-0")
    assert net.send(tx, "validator-0", wait="commit")["status"] == "committed"
