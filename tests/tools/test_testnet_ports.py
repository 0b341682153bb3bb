"""A testnet never starts on taken ports and never reports another network's nodes as its own (issue 15.1)."""

from __future__ import annotations

import json
import os
import socket
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from marketnode.cli.main import main
from marketnode.core.errors import ConfigError
from marketnode.tools.testnet import ports as ports
from marketnode.tools.testnet import procs as procs
from marketnode.tools.testnet.layout import init_testnet


def free_base(count: int) -> int:
    base = ports.free_base_port(count, start=21000 + (os.getpid() % 50) * 100)
    assert base is not None
    return base


@contextmanager
def listening(port: int):
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen()
    try:
        yield sock
    finally:
        sock.close()


@contextmanager
def status_server(port: int, status: dict):
    """An HTTP server on ``port`` answering every JSON-RPC call with ``status``."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            body = json.dumps({"jsonrpc": "2.0", "id": request.get("id"), "result": status}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


def test_a_taken_port_is_named_with_its_holder():
    base = free_base(1)
    with listening(base + 1), pytest.raises(ConfigError) as refused:
        ports.refuse_busy([ports.Port("validator-0", "p2p", "127.0.0.1", base),
                           ports.Port("validator-0", "rpc", "127.0.0.1", base + 1)], "try another")
    text = str(refused.value)
    assert f"port {base + 1} is already in use" in text and f"port {base} " not in text
    assert f"pid {os.getpid()}" in text and text.endswith("try another")
    ports.refuse_busy([ports.Port("validator-0", "rpc", "127.0.0.1", base + 1)], "free again")  # no raise


def test_testnet_up_on_taken_ports_exits_naming_the_port_and_writes_nothing(tmp_path):
    base = free_base(4)
    with listening(base + 3):
        result = CliRunner().invoke(main, ["testnet", "up", "--dir", str(tmp_path / "t2"), "--base-port", str(base)])
    assert result.exit_code != 0
    assert f"port {base + 3} is already in use" in result.output and "validator-1 rpc" in result.output
    assert "--base-port" in result.output
    assert not (tmp_path / "t2" / procs.MANIFEST).exists()


@pytest.mark.parametrize("command", ["up", "start"])
def test_an_existing_testnet_does_not_start_on_taken_ports(tmp_path, command):
    base = free_base(2)
    init_testnet(tmp_path / "t2", 2, base_port=base)
    with listening(base + 2):
        result = CliRunner().invoke(main, ["testnet", command, "--dir", str(tmp_path / "t2")])
    assert result.exit_code != 0
    assert f"port {base + 2} is already in use" in result.output and "validator-1 p2p" in result.output
    assert all(procs.read_pid(e) is None for e in procs.nodes_of(tmp_path / "t2"))


def test_status_never_reports_another_networks_node_as_ours(tmp_path):
    base = free_base(1)
    init_testnet(tmp_path / "t2", 1, base_port=base)
    [entry] = procs.nodes_of(tmp_path / "t2")
    entry.pid_file.write_text(f"{os.getpid()}\n")  # "running": a live pid
    other = {"chain_id": "marketnode-testnet-other", "node_id": "00" * 32, "moniker": "validator-0",
             "height": 67, "peers": 3}
    with status_server(base + 1, other):
        status = procs.node_status(entry)
        assert status["height"] is None and status["peers"] is None
        assert "marketnode-testnet-other" in status["foreign"]
        same_chain = {**other, "chain_id": entry.chain_id}  # same chain id, another node key
    with status_server(base + 1, same_chain):
        status = procs.node_status(entry)
        assert status["height"] is None and "another node" in status["foreign"]
    with status_server(base + 1, {**same_chain, "node_id": procs.node_id(entry)}):
        status = procs.node_status(entry)
        assert status["height"] == 67 and status["foreign"] is None


def test_each_new_testnet_gets_its_own_chain_id(tmp_path):
    first = init_testnet(tmp_path / "a", 1, base_port=free_base(1))
    second = init_testnet(tmp_path / "b", 1, base_port=free_base(1))
    assert first["chain_id"] != second["chain_id"]
    assert first["chain_id"].startswith("marketnode-testnet-")
    genesis = json.loads((tmp_path / "a" / "validator-0" / "genesis.json").read_text())
    assert json.dumps(genesis).count(first["chain_id"]) >= 1
