"""Seconds-long smoke runs of every `marketnode bench` mode: they start, measure and report.

Benchmarks are not tests (docs/BENCHMARKS.md); these only prove each mode runs
end to end and writes the fields the docs promise. The pure parts the figures
rest on (the block-gap measure, the stall verdict, the refusal rule, routing,
the retrying load generator) are tested here on synthetic data, in milliseconds.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from harness import free_base_port
from waiting import wait_for

from marketnode.cli.main import main

pytestmark = pytest.mark.integration


def run_bench(tmp_path, *args: str) -> dict:
    out = tmp_path / "out.json"
    port = str(free_base_port(11))
    result = CliRunner().invoke(main, ["bench", *args, "--base-port", port, "--json", str(out)])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return json.loads(out.read_text())


def test_bench_tps_reports_the_ratio_to_the_signature_bound(tmp_path):
    report = run_bench(tmp_path, "tps", "--validators", "4", "--duration", "3", "--rate", "200")
    for key in ("tps", "sig_bound_tps", "ratio", "latency_p50_ms", "latency_p99_ms", "validators", "duration_s"):
        assert key in report
    assert report["committed"] == report["submitted"] > 0
    assert report["tps"] > 0 and 0 < report["ratio"] < 10
    assert report["receipts_checked"] > 0 and report["receipts_failed"] == 0, report.get("receipt_failure_example")


def test_bench_sync_measures_a_fresh_observer(tmp_path):
    report = run_bench(tmp_path, "sync", "--txs", "300")
    assert report["txs"] == 300 and report["tx_per_s"] > 0 and report["blocks"] >= 1


def test_bench_sync_measures_a_snapshot_join_and_a_replay_on_one_chain(tmp_path):
    report = run_bench(tmp_path, "sync", "--txs", "300", "--mode", "snapshot", "--mode", "replay",
                       "--snapshot-interval", "1")
    snapshot, replay = report["runs"]["snapshot"], report["runs"]["replay"]
    assert 1 <= snapshot["snapshot_height"] < report["blocks"] and snapshot["state_entries"] > 100
    assert snapshot["blocks_replayed_after"] == report["blocks"] - snapshot["snapshot_height"]
    assert snapshot["seconds"] > 0 and replay["tx_per_s"] > 0 and report["tx_per_s"] == replay["tx_per_s"]


def test_bench_memory_samples_rss(tmp_path):
    report = run_bench(tmp_path, "memory", "--milestones", "200,400")
    assert [s["txs"] for s in report["samples"]] == [0, 200, 400]
    assert all(s["rss_mb"] > 0 for s in report["samples"])


def test_bench_query_times_search_and_order_lists(tmp_path):
    report = run_bench(tmp_path, "query", "--listings", "40", "--orders", "40", "--calls", "5")
    assert set(report["results"]) >= {"listing_search_text", "order_list_buyer"}
    assert all(r["p99_ms"] > 0 for r in report["results"].values())


def test_bench_scale_runs_every_size(tmp_path):
    report = run_bench(tmp_path, "scale", "--duration", "1", "--rate", "50")
    assert [(r["validators"], r["observers"]) for r in report["runs"]] == [(4, 0), (7, 0), (10, 0), (4, 1)]


def test_bench_stages_reports_each_stage(tmp_path):
    out = tmp_path / "stages.json"
    result = CliRunner().invoke(main, ["bench", "stages", "--txs", "200", "--json", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text())
    assert report["ok_receipts"] == 200
    assert all(v > 0 for v in report["us_per_tx"].values())


# --- the block-gap measure, the stall check and the refusal rule: pure, milliseconds ---

def test_longest_gap_counts_only_time_with_accepted_work_pending():
    from marketnode.tools.bench.gaps import longest_pending_gap

    blocks = [(10, 1_000), (11, 2_000), (12, 9_000), (13, 9_500)]
    # a tx accepted at 1,500 committed in 11; one accepted at 8,000 committed in 12: the 2,000..9,000 gap
    # had work pending only from 8,000 on, so it counts 1,000 ms, not 7,000
    accepted = [(1_500, 11), (8_000, 12), (9_100, 13)]
    gap = longest_pending_gap(blocks, accepted, end_ms=12_000)
    assert (gap.ms, gap.after_height, gap.before_height, gap.pending) == (1_000, 11, 12, 1)
    # an idle chain (no block because nothing is pending) is no gap at all
    assert longest_pending_gap(blocks, [], end_ms=60_000) is None


def test_a_tx_counts_as_pending_only_once_every_earlier_nonce_of_its_sender_was_accepted():
    from marketnode.tools.bench.gaps import ready_times

    order = [(b"a", "a0"), (b"b", "b0"), (b"a", "a1"), (b"b", "b1"), (b"a", "a2"), (b"b", "b2")]
    acked = {"a0": 5.0, "a1": 1.0, "a2": 7.0, "b1": 2.0, "b2": 3.0}  # b0 was never accepted
    # a1 was acknowledged first, but could commit only once a0 was in (5.0); b's txs never could.
    assert ready_times(order, acked) == {"a0": 5.0, "a1": 5.0, "a2": 7.0}


def test_longest_gap_sees_a_stall_that_never_ends():
    from marketnode.tools.bench.gaps import longest_pending_gap

    blocks = [(45, 0), (46, 1_000)]
    accepted = [(500, 46), (600, None), (700, None), (30_000, None)]
    gap = longest_pending_gap(blocks, accepted, end_ms=48_000)
    assert (gap.ms, gap.after_height, gap.before_height, gap.pending) == (47_000, 46, None, 3)


def test_longest_gap_picks_the_longest_of_several_and_counts_who_waited():
    from marketnode.tools.bench.gaps import longest_pending_gap

    blocks = [(63, 0), (64, 44_000), (65, 44_200)]
    accepted = [(-5, 64)] + [(t, 65) for t in range(1, 1_000)] + [(44_100, 65)]
    gap = longest_pending_gap(blocks, accepted, end_ms=44_300)
    assert (gap.ms, gap.after_height, gap.before_height) == (44_000, 63, 64)
    assert gap.pending == 1_000  # the txs that waited through it, not the one accepted after it


def test_stall_message_names_the_gap_and_the_heights():
    from marketnode.tools.bench.gaps import BlockGap, stall_message

    assert stall_message(BlockGap(4_999, 63, 64, 10), 5_000) is None
    assert stall_message(None, 5_000) is None
    text = stall_message(BlockGap(44_000, 63, 64, 57_000), 5_000)
    assert "44.0 s" in text and "63" in text and "64" in text and "57000" in text
    tail = stall_message(BlockGap(47_000, 46, None, 3), 5_000)
    assert "46" in tail and "end of the run" in tail


def test_a_busy_or_rate_limit_refusal_is_retried_after_its_hint_and_a_rule_error_is_final():
    from marketnode.core.refusals import DEFAULT_RETRY_MS
    from marketnode.tools.bench.offer import retry_after_ms

    assert retry_after_ms({"code": -32005, "message": "busy", "data": {"code": "busy", "retry_after_ms": 750}}) == 750
    assert retry_after_ms({"code": -32005, "message": "too many", "data": {"code": "rate"}}) == DEFAULT_RETRY_MS
    assert retry_after_ms({"code": -32005, "message": "body over 1 MB", "data": {"max": 1}}) is None
    assert retry_after_ms({"code": -32005, "message": "full", "data": {"code": "full"}}) == DEFAULT_RETRY_MS
    assert retry_after_ms({"code": -32005, "message": "faucet", "data": {"retry_after_s": 2}}) == 2_000
    assert retry_after_ms({"code": -32003, "message": "rejected", "data": {"code": "balance"}}) is None
    assert retry_after_ms({"code": -32000, "message": "bad", "data": {"retry_after_ms": "soon"}}) is None


def test_a_duplicate_answer_means_the_node_already_holds_the_tx_and_a_refused_request_refuses_each_tx():
    from marketnode.tools.bench.offer import tx_errors

    rule = {"code": -32003, "message": "rejected", "data": {"code": "balance"}}
    duplicate = {"code": -32003, "message": "already received", "data": {"code": "duplicate"}}
    reply = {"result": [{"hash": "aa", "status": "pending"}, {"error": duplicate}, {"error": rule}]}
    assert tx_errors(reply, 3) == [None, None, rule]
    limit = {"code": -32005, "message": "too many requests"}
    assert tx_errors({"error": limit}, 2) == [limit, limit]


class RefusingNode:
    """Stands in for the nodes' RPC: refuses each tx's first attempt, or the first whole request, then admits."""

    def __init__(self, error: dict, whole_request: bool = False) -> None:
        self.error, self.whole_request = error, whole_request
        self.attempts: dict[str, list[float]] = {}
        self.requests = 0

    async def post(self, url: str, method: str, txs: list[str]) -> dict:
        import time

        self.requests += 1
        for tx in txs:
            self.attempts.setdefault(tx, []).append(time.monotonic())
        if self.whole_request:
            if self.requests == 1:
                return {"jsonrpc": "2.0", "id": 1, "error": self.error}
            return {"jsonrpc": "2.0", "id": 1, "result": [{"hash": tx, "status": "pending"} for tx in txs]}
        return {"jsonrpc": "2.0", "id": 1, "result": [
            {"error": self.error} if len(self.attempts[tx]) == 1 else {"hash": tx, "status": "pending"}
            for tx in txs]}


def _offer(node: RefusingNode, count: int = 6):
    import asyncio
    import time

    from marketnode.tools.bench.offer import offer_open_loop

    raws = [bytes([i]) for i in range(count)]
    return asyncio.run(offer_open_loop(node, ["http://a", "http://b"], raws, [r.hex() for r in raws],
                                       [b"s"] * count, "nonces", 200, time.monotonic() + 10))


def test_the_load_generator_counts_a_busy_refusal_and_resends_after_the_hint():
    node = RefusingNode({"code": -32005, "message": "busy", "data": {"code": "busy", "retry_after_ms": 80}})
    offered = _offer(node)
    fields = offered.fields()
    assert (fields["submitted"], fields["accepted"], fields["refused"], fields["rejected"]) == (6, 6, 6, 0)
    assert fields["refused_by_code"] == {"-32005 busy": 6}
    for tx, times in node.attempts.items():
        assert len(times) == 2 and times[1] - times[0] >= 0.08  # resent once, not before the hint
        assert offered.sent[tx] == pytest.approx(times[1], abs=0.05)  # latency counts from the accepted attempt


def test_the_load_generator_holds_a_senders_later_txs_while_an_earlier_one_waits_out_a_refusal():
    """Regression (issue 12): later nonces were sent while the earlier one waited out its hint; a node can only
    refuse those (nonce_gap), and a run spent a million refusals, and the CPU they cost, on them."""
    node = RefusingNode({"code": -32005, "message": "busy", "data": {"code": "busy", "retry_after_ms": 80}})
    offered = _offer(node, count=30)  # 10 per 50 ms tick, all of one sender: ticks at 0, 50, 100 ms
    first_try = {tx: times[0] for tx, times in node.attempts.items()}
    start = min(first_try.values())
    assert offered.fields()["accepted"] == 30
    # The second tick's txs were due at 50 ms, but waited for the first tick's resend at 80 ms and went with it.
    assert min(first_try[bytes([i]).hex()] for i in range(10, 20)) - start >= 0.08
    for i in range(10, 20):
        assert first_try[bytes([i]).hex()] == pytest.approx(node.attempts[bytes([0]).hex()][1], abs=0.01)


def test_the_load_generator_resends_every_tx_of_a_request_refused_whole_and_drops_rule_errors():
    node = RefusingNode({"code": -32005, "message": "too many requests from this address",
                         "data": {"code": "rate", "retry_after_ms": 20}}, whole_request=True)
    fields = _offer(node, count=3).fields()
    assert (fields["accepted"], fields["refused"]) == (3, 3)
    final = RefusingNode({"code": -32003, "message": "transaction rejected: balance", "data": {"code": "balance"}})
    fields = _offer(final, count=3).fields()
    assert (fields["accepted"], fields["refused"], fields["rejected"]) == (0, 0, 3)
    assert all(len(t) == 1 for t in final.attempts.values())


def test_setup_submission_waits_out_a_busy_node_and_fails_clearly_on_a_rule_error():
    import asyncio

    from marketnode.tools.bench.cluster import BenchError, Rpc

    raws = [bytes([i]) for i in range(5)]
    busy = RefusingNode({"code": -32005, "message": "busy", "data": {"code": "busy", "retry_after_ms": 30}})
    rpc = Rpc(None)
    rpc.post = busy.post  # the node's side; send_all's retrying is what is tested
    asyncio.run(rpc.send_all(["http://a"], raws, "setup funding", chunk=2))
    assert sorted(len(t) for t in busy.attempts.values()) == [2] * 5
    final = RefusingNode({"code": -32003, "message": "transaction rejected: balance"})
    rpc.post = final.post
    with pytest.raises(BenchError, match=r"setup funding: 5 txs refused, e\.g\. transaction rejected: balance"):
        asyncio.run(rpc.send_all(["http://a"], raws, "setup funding", chunk=2))


def test_spread_nonces_sends_a_senders_consecutive_txs_to_different_nodes_and_senders_keeps_them_together():
    from marketnode.tools.bench.offer import route

    senders = [b"a", b"b", b"a", b"b", b"a", b"b", b"a", b"b"]
    by_nonce = route(senders, nodes=2, per_tick=2, spread="nonces")
    assert by_nonce == [0, 0, 1, 1, 0, 0, 1, 1]
    assert {by_nonce[i] for i in (0, 2)} == {0, 1}  # sender a's nonces 0 and 1 on different nodes
    by_sender = route(senders, nodes=2, per_tick=2, spread="senders")
    assert by_sender == [0, 1, 0, 1, 0, 1, 0, 1]


def test_a_stall_makes_bench_tps_exit_non_zero_and_still_writes_the_json(tmp_path, monkeypatch):
    import marketnode.tools.bench.tps as tps
    from marketnode.tools.bench.gaps import gap_fields, longest_pending_gap

    def stalled_run(*args, **kwargs):
        gap = longest_pending_gap([(63, 0), (64, 44_000)], [(-10, 64)], end_ms=44_100)
        return {"mode": "tps", "tps": 43.0, "sig_bound_tps": 13_000.0, "ratio": 0.003, "latency_p50_ms": 1.0,
                "latency_p99_ms": 2.0, "submitted": 1, "accepted": 1, "refused": 0, **gap_fields(gap)}

    monkeypatch.setattr(tps, "run_tps", stalled_run)
    out = tmp_path / "out.json"
    result = CliRunner().invoke(main, ["bench", "tps", "--json", str(out), "--stall-ms", "5000"])
    assert result.exit_code != 0
    assert "stall" in result.output and "63" in result.output and "64" in result.output
    assert json.loads(out.read_text())["longest_block_gap_ms"] == 44_000
    result = CliRunner().invoke(main, ["bench", "tps", "--json", str(out), "--stall-ms", "50000"])
    assert result.exit_code == 0, result.output


def test_cpu_hogs_are_killed_when_the_block_raises():
    from marketnode.tools.bench.busy import CpuHogs

    with pytest.raises(RuntimeError), CpuHogs(1) as hogs:
        pids = hogs.pids
        assert len(pids) == 1 and _alive(pids[0])
        raise RuntimeError("the bench failed")
    assert not any(_alive(p) for p in pids)


def test_a_cpu_hog_exits_when_the_bench_dies_without_cleaning_up(tmp_path):
    import subprocess
    import sys

    code = "import os\nfrom marketnode.tools.bench.busy import CpuHogs\nh = CpuHogs(1).__enter__()\nprint(h.pids[0], flush=True)\nos._exit(0)\n"
    parent = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    pid = int(parent.stdout.split()[0])
    wait_for(lambda: not _alive(pid), 10, f"the orphaned CPU hog {pid} to exit", interval_s=0.05)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# --- seconds-long runs of the new options and mode ---

NODE_MARK = "cli.main\x00run\x00--home"  # /proc/PID/cmdline separates arguments with NULs


def _children(parent: int, mark: str) -> list[int]:
    """Live child processes of ``parent`` whose command line contains ``mark``."""
    from pathlib import Path

    found = []
    for proc in Path("/proc").iterdir():
        try:
            if mark in (proc / "cmdline").read_text() and \
                    int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return [p for p in found if _alive(p)]


def _hogs_of_this_process() -> list[int]:
    import os

    from marketnode.tools.bench.busy import HOG_MARK

    return _children(os.getpid(), HOG_MARK)


def test_a_terminated_bench_stops_its_nodes_and_hogs(tmp_path):
    import os
    import signal
    import subprocess
    import sys

    from marketnode.tools.bench.busy import HOG_MARK

    bench = subprocess.Popen([sys.executable, "-m", "marketnode.cli.main", "bench", "tps", "--validators", "2", "--duration",
                              "30", "--rate", "50", "--busy", "1", "--base-port", str(free_base_port(3))],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path,
                             env=dict(os.environ, PYTHONPATH=os.getcwd()))
    hogs: list[int] = []
    nodes: list[int] = []
    try:

        def nodes_up() -> bool:
            assert bench.poll() is None, bench.stderr.read().decode()[-2000:]
            return len(_children(bench.pid, NODE_MARK)) >= 2

        wait_for(nodes_up, 60, "the bench's two nodes to start", interval_s=0.05)
        hogs, nodes = _children(bench.pid, HOG_MARK), _children(bench.pid, NODE_MARK)
        assert len(hogs) == 1 and len(nodes) == 2
        bench.send_signal(signal.SIGTERM)
        assert bench.wait(60) != 0
        assert not any(_alive(p) for p in hogs + nodes)
    finally:
        for pid in [bench.pid, *hogs, *nodes]:  # a failed run must not leave processes behind
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        bench.wait()


def test_bench_tps_busy_runs_a_cpu_hog_beside_the_nodes_and_stops_it(tmp_path):
    report = run_bench(tmp_path, "tps", "--validators", "4", "--duration", "2", "--rate", "100", "--busy", "1",
                       "--spread", "senders")
    assert report["busy"] == 1 and report["busy_cpu_s"] > 0.2
    assert report["spread"] == "senders"
    assert report["accepted"] == report["submitted"] > 0 and report["committed"] == report["accepted"]
    assert 0 <= report["longest_block_gap_ms"] < 5_000
    assert _hogs_of_this_process() == []


def test_bench_load_curve_offers_four_multiples_of_the_measured_capacity(tmp_path):
    # steps this short measure little (a tx's commit latency is a good part of the window); this proves the
    # mode runs every step on one cluster and reports what the docs promise
    report = run_bench(tmp_path, "load-curve", "--validators", "4", "--step-duration", "1", "--probe-rate", "300")
    # makespan: committed / (last commit - first offer); a probe that all commits can come out a little above
    # its offered rate (the last tick's txs go out before the nominal end), never far above it
    assert report["sig_bound_tps"] > 0 and 0 < report["capacity_tps"] <= 300 * 1.1
    assert report["probe"]["offered"] == 300 and report["capacity_tps"] == report["probe"]["makespan_tps"]
    steps = report["steps"]
    assert [s["multiple"] for s in steps] == [0.5, 1, 2, 4]
    for step, multiple in zip(steps, (0.5, 1, 2, 4)):
        assert set(step) >= {"offered", "goodput", "refused", "p50_ms", "p99_ms", "ratio", "longest_block_gap_ms"}
        assert step["offered"] == pytest.approx(multiple * report["capacity_tps"], abs=0.2)
        assert step["committed"] == step["accepted"] == step["submitted"] > 0 and step["p99_ms"] > 0
        assert step["ratio"] == pytest.approx(step["goodput"] / report["sig_bound_tps"], abs=0.001)
    assert report["peak_goodput"] == max(s["goodput"] for s in steps) > 0


def test_a_bench_cluster_refuses_ports_another_network_holds():
    """Regression: with a helper's testnet on the bench's default ports, bench tps talked to that chain
    and failed its setup with "balance of MKT is 0"; it must name the port instead, before starting."""
    import socket

    from marketnode.tools.bench.cluster import BenchError, Cluster
    from marketnode.tools.testnet.layout import planned_ports

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        base = port - planned_ports(1, 0)[0].port  # the cluster's first port lands on the taken one
        with pytest.raises(BenchError, match=rf"(?s)port {port} is already in use.*another --base-port"):
            Cluster(1, 0, base)
    finally:
        taken.close()
