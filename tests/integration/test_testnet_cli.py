"""The testnet commands scripts depend on, in their exact forms, against real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from harness import free_base_port, wait_for

pytestmark = pytest.mark.integration


def marketnode(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "marketnode.cli.main", *args], capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, PYTHONUNBUFFERED="1"))


def test_testnet_init_start_status_load_stop(tmp_path):
    directory = str(tmp_path / "tn")
    port = str(free_base_port(5))
    init = marketnode("testnet", "init", "--validators", "4", "--observers", "1", "--dir", directory, "--base-port", port)
    assert init.returncode == 0, init.stderr
    assert "validator-3" in init.stdout and "observer-0" in init.stdout
    again = marketnode("testnet", "init", "--validators", "4", "--dir", directory)
    assert again.returncode != 0 and "already holds a testnet" in again.stderr
    try:
        start = marketnode("testnet", "start", "--dir", directory)
        assert start.returncode == 0, start.stdout + start.stderr
        status = json.loads(marketnode("testnet", "status", "--dir", directory, "--json").stdout)
        nodes = status["nodes"]
        assert [n["role"] for n in nodes] == ["validator"] * 4 + ["observer"]
        for node in nodes:
            assert {"name", "role", "pid", "home", "rpc", "p2p", "height"} <= set(node)
            assert node["pid"] and node["rpc"].startswith("http://127.0.0.1:")
        load = marketnode("testnet", "load", "--dir", directory, "--txs", "300")
        assert load.returncode == 0, load.stdout + load.stderr
        report = json.loads(load.stdout.strip().splitlines()[-1])
        assert report["committed"] == 300 and report["missing"] == 0
        wait_for(lambda: all(n["height"] == report["height"] for n in
                             json.loads(marketnode("testnet", "status", "--dir", directory, "--json").stdout)["nodes"]),
                 30, "every node at the loaded height")
    finally:
        stop = marketnode("testnet", "stop", "--dir", directory)
    assert stop.returncode == 0 and stop.stdout.count("stopped") == 5, stop.stdout
    status = json.loads(marketnode("testnet", "status", "--dir", directory, "--json").stdout)
    assert all(n["pid"] is None for n in status["nodes"])
    for name in ("validator-0", "observer-0"):
        assert "stopped cleanly" in (tmp_path / "tn" / name / "node.log").read_text()


def test_testnet_up_creates_a_testnet_runs_it_and_stops_on_ctrl_c(tmp_path):
    """The README's main command: `testnet up` on an empty dir creates a 4-validator testnet and runs it."""
    import signal
    import threading

    directory = tmp_path / "fresh"
    port = str(free_base_port(4))
    proc = subprocess.Popen([sys.executable, "-m", "marketnode.cli.main", "testnet", "up", "--dir", str(directory),
                             "--base-port", port],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        wait_for(lambda: any("the testnet is up" in line for line in lines), 90, "testnet up to announce itself")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)
        reader.join(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    out = "".join(lines)
    assert proc.returncode == 0, out
    assert "creating one with 4 validators" in out and "marketnode demo" in out and "all nodes stopped" in out
    status = json.loads(marketnode("testnet", "status", "--dir", str(directory), "--json").stdout)
    assert len(status["nodes"]) == 4 and all(n["pid"] is None for n in status["nodes"])


def test_testnet_up_beside_a_running_testnet_on_the_same_ports_exits_naming_the_port(tmp_path):
    """Issue 15.1: a second testnet on the first one's ports is refused within 30 s, naming the port,
    both as a new directory and as an existing one laid out on those ports."""
    first, second = str(tmp_path / "t1"), str(tmp_path / "t2")
    port = free_base_port(2)
    assert marketnode("testnet", "init", "--validators", "2", "--dir", first, "--base-port", str(port)).returncode == 0
    assert marketnode("testnet", "init", "--validators", "2", "--dir", second, "--base-port", str(port)).returncode == 0
    try:
        start = marketnode("testnet", "start", "--dir", first)
        assert start.returncode == 0, start.stdout + start.stderr
        for directory in (second, str(tmp_path / "t3")):
            up = marketnode("testnet", "up", "--dir", directory, "--base-port", str(port), timeout=30)
            assert up.returncode != 0, up.stdout
            assert f"port {port} is already in use" in up.stderr and "a marketnode node of chain" in up.stderr
        status = json.loads(marketnode("testnet", "status", "--dir", second, "--json").stdout)
        assert all(n["pid"] is None and n["height"] is None for n in status["nodes"])
    finally:
        marketnode("testnet", "stop", "--dir", first)
