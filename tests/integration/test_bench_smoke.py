"""Seconds-long smoke runs of every `marketnode bench` mode: they start, measure and report.

Benchmarks are not tests (docs/BENCHMARKS.md); these only prove each mode runs
end to end and writes the fields the docs promise.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from harness import free_base_port

from cli.main import main

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


def test_bench_sync_measures_a_fresh_observer(tmp_path):
    report = run_bench(tmp_path, "sync", "--txs", "300")
    assert report["txs"] == 300 and report["tx_per_s"] > 0 and report["blocks"] >= 1


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
