"""`marketnode bench MODE`: benchmarks that report ratios to this machine's limits."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

import click

from marketnode.tools.bench.gaps import DEFAULT_STALL_MS
from marketnode.tools.bench.offer import SPREADS


@click.group()
@click.pass_context
def bench(ctx: click.Context) -> None:
    """Benchmarks (not tests): each starts its own local testnet in a temp dir.

    \b
    marketnode bench tps --validators 4 --duration 30 --json out.json
    marketnode bench tps --busy 1          # with a CPU hog beside the nodes
    marketnode bench load-curve --json curve.json
    Results and how to read them: docs/BENCHMARKS.md.
    """
    # SIGTERM unwinds like Ctrl-C, so the nodes and --busy hogs a run started are stopped on the way out
    previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
    ctx.call_on_close(lambda: signal.signal(signal.SIGTERM, previous))


def _emit(result: dict, json_path: Path | None) -> None:
    text = json.dumps(result, indent=2)
    click.echo(text)
    if json_path:
        json_path.write_text(text + "\n")
        click.echo(f"written to {json_path}")


def _stall_ms_option(f):
    return click.option("--stall-ms", default=DEFAULT_STALL_MS, show_default=True, type=click.IntRange(1),
                        help="A gap between blocks this long (ms) while accepted txs wait is a stall: "
                             "the command exits with status 1 and names the gap.")(f)


def _busy_option(f):
    return click.option("--busy", "busy", default=0, show_default=True, type=click.IntRange(0, 64), metavar="CORES",
                        help="Run CORES CPU-hog processes (busy loops) beside the nodes for the whole run, as on "
                             "a machine shared with other work; they are killed at the end, even on error or "
                             "Ctrl-C. The signature bound is measured before they start.")(f)


def _spread_option(f):
    return click.option("--spread", type=click.Choice(SPREADS), default="nonces", show_default=True,
                        help="nonces: each tick's chunk goes to the next node, so a sender's consecutive nonces "
                             "land on different nodes (the realistic case: nodes must gossip the gaps closed). "
                             "senders: all of a sender's txs go to one node, in nonce order.")(f)


def _fail_on_stall(gaps: list[tuple[str, dict]], stall_ms: int) -> None:
    """Exit 1 naming every run whose longest block gap with work pending reached ``stall_ms``."""
    from marketnode.tools.bench.gaps import gap_of, stall_message

    problems = [f"{label}: {msg}" if label else msg for label, report in gaps
                if (msg := stall_message(gap_of(report), stall_ms))]
    if problems:
        raise click.ClickException("\n".join(problems))


def _run_or_explain(run: Callable[[], dict]) -> dict:
    """Run a benchmark; a BenchError (a node died, a setup tx refused) becomes a one-line error, exit 1."""
    from marketnode.tools.bench.cluster import BenchError

    try:
        return run()
    except BenchError as exc:
        raise click.ClickException(str(exc)) from None


def _gap_text(report: dict) -> str:
    where = report.get("longest_block_gap")
    if not where:
        return "no block gap with work pending"
    after, before = where["after_height"], where["before_height"]
    span = f"heights {after}-{before}" if before is not None else f"after height {after} to the end"
    return f"longest block gap with work pending {report['longest_block_gap_ms']} ms ({span})"


@bench.command("tps")
@click.option("--validators", default=4, show_default=True, type=click.IntRange(1, 16),
              help="Validators in the local testnet (all on this machine).")
@click.option("--observers", default=0, show_default=True, type=click.IntRange(0, 4),
              help="Non-voting nodes that also take load.")
@click.option("--duration", default=30.0, show_default=True, help="Seconds of steady load.")
@click.option("--rate", default=3000, show_default=True, help="Offered load in tx/s.")
@_busy_option
@_spread_option
@_stall_ms_option
@click.option("--keep", is_flag=True, help="Keep the testnet directory (each node's node.log) to read after a stall.")
@click.option("--base-port", default=24600, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the result here.")
def tps_cmd(validators: int, observers: int, duration: float, rate: int, busy: int, spread: str, stall_ms: int,
            keep: bool, base_port: int, json_path: Path | None) -> None:
    """Committed tx/s, commit latency p50/p99 and the ratio to the signature bound.

    Offers RATE tx/s of a marketplace mix (transfers, orders placed, shipped,
    confirmed) for DURATION s, open loop. A tx a node refuses with a retry
    hint (data.retry_after_ms, or -32005 rate limit / full mempool) is
    counted and resent after the hint, like a well-made wallet. Fields:

    \b
    submitted     distinct txs offered
    accepted      txs a node acknowledged (admitted to its mempool)
    refused       refusal answers with a retry hint (one tx may count twice)
    rejected      final errors, never resent (a bug in the bench's txs)
    committed     accepted txs seen in a block by 30 s after the load
    tps           goodput: accepted txs committed per s in the window
                  (from 10 % of DURATION, at most 2 s, to DURATION)
    ratio         tps / sig_bound_tps (ed25519 verifications/s per core
                  x cores / validators, measured before the run)
    latency_*     accepted attempt sent -> its block first seen at any node
    longest_block_gap_ms  longest time between two new heights (as first
                  seen at any node) while some accepted tx, whose
                  sender's earlier txs were all accepted too, was not
                  committed; --stall-ms or more exits 1
    behind_unaccepted  accepted txs stuck behind an earlier nonce of
                  their sender that was never accepted
    More in docs/BENCHMARKS.md.
    """
    from marketnode.tools.bench.tps import run_tps

    result = _run_or_explain(lambda: run_tps(validators, duration, rate, click.echo, observers, base_port,
                                             keep_dir=keep, busy=busy, spread=spread))
    _emit(result, json_path)
    click.echo(f"tps {result['tps']:.0f} of bound {result['sig_bound_tps']:.0f}: ratio {result['ratio']:.3f}; "
               f"p50 {result['latency_p50_ms']:.0f} ms, p99 {result['latency_p99_ms']:.0f} ms; "
               f"accepted {result['accepted']} of {result['submitted']} submitted, {result['refused']} refusals; "
               f"{_gap_text(result)}")
    _fail_on_stall([("", result)], stall_ms)


@bench.command("load-curve")
@click.option("--validators", default=4, show_default=True, type=click.IntRange(1, 16),
              help="Validators in the local testnet (all on this machine).")
@click.option("--step-duration", default=10.0, show_default=True, type=click.FloatRange(1),
              help="Seconds of load per step (the capacity probe runs half as long).")
@click.option("--probe-rate", type=click.IntRange(1), default=None,
              help="Offered tx/s of the capacity probe  [default: half the signature bound].")
@_busy_option
@_spread_option
@_stall_ms_option
@click.option("--base-port", default=24600, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write the result here.")
def load_curve_cmd(validators: int, step_duration: float, probe_rate: int | None, busy: int, spread: str,
                   stall_ms: int, base_port: int, json_path: Path | None) -> None:
    """Goodput and latency at 0.5x, 1x, 2x and 4x of the measured capacity.

    First a probe offers far more than the network can commit (default:
    half the signature bound); what it commits per second from its first
    offer to its last commit is the capacity (JSON: capacity_tps). Then one
    cluster takes four steps of STEP_DURATION s each, every step waiting
    for its accepted txs to commit before the next. Refusals with a retry
    hint are counted and resent after it (see `bench tps --help`).
    Columns (and JSON fields of each step):

    \b
    offered/s   offered tx/s (JSON: offered)
    goodput/s   accepted txs committed per s in the step's window
    of peak     goodput / peak_goodput (the best step's goodput)
    accepted    txs a node acknowledged
    refused     refusal answers with a retry hint
    p50/p99 ms  latency of accepted txs: accepted attempt -> committed
    ratio       goodput / sig_bound_tps (ed25519 verifications/s per
                core x cores / validators, measured before the run)
    max gap ms  longest time between blocks while accepted txs waited
                (JSON: longest_block_gap_ms); --stall-ms or more exits 1
    More in docs/BENCHMARKS.md.
    """
    from marketnode.tools.bench.curve import load_curve_async, table
    from marketnode.tools.bench.modes import run

    report = _run_or_explain(lambda: run(load_curve_async(validators, step_duration, click.echo, base_port, busy, spread, probe_rate,
                                  stall_ms)))
    _emit(report, json_path)
    click.echo(table(report))
    click.echo(f"signature bound {report['sig_bound_tps']:.0f} tx/s; capacity (probe) {report['capacity_tps']:.0f}; "
               f"peak goodput {report['peak_goodput']:.0f}")
    _fail_on_stall([("probe", report["probe"])] + [(f"{s['multiple']:g}x step", s) for s in report["steps"]],
                   stall_ms)


@bench.command("scale")
@click.option("--duration", default=15.0, show_default=True)
@click.option("--rate", default=2000, show_default=True)
@click.option("--base-port", default=24600, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
def scale_cmd(duration: float, rate: int, base_port: int, json_path: Path | None) -> None:
    """tps for 4, 7 and 10 validators and 4 + an observer: how cost grows with N."""
    from marketnode.tools.bench.modes import run, scale_async

    _emit(run(scale_async(duration, rate, click.echo, base_port)), json_path)


@bench.command("sync")
@click.option("--txs", default=100_000, show_default=True, type=click.IntRange(100))
@click.option("--mode", "modes", type=click.Choice(["replay", "snapshot"]), multiple=True,
              help="How the fresh observer joins (repeat for both, on the same chain); default replay.")
@click.option("--snapshot-interval", default=10, show_default=True, type=click.IntRange(1),
              help="Validators offer their state every K blocks (sync.snapshot_interval).")
@click.option("--base-port", default=24600, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
def sync_cmd(txs: int, modes: tuple[str, ...], snapshot_interval: int, base_port: int, json_path: Path | None) -> None:
    """A fresh observer catching up TXS committed txs: join time; for replay, tx/s and the ratio to the bound."""
    from marketnode.tools.bench.modes import run, sync_async

    _emit(run(sync_async(txs, click.echo, base_port, tuple(dict.fromkeys(modes)) or ("replay",), snapshot_interval)),
          json_path)


@bench.command("query")
@click.option("--listings", default=100_000, show_default=True, type=click.IntRange(10))
@click.option("--orders", default=100_000, show_default=True, type=click.IntRange(10))
@click.option("--calls", default=300, show_default=True, help="Calls per query kind.")
@click.option("--base-port", default=24600, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
def query_cmd(listings: int, orders: int, calls: int, base_port: int, json_path: Path | None) -> None:
    """listing_search and order_list p50/p99 over RPC with many listings and orders in state."""
    from marketnode.tools.bench.modes import query_async, run

    _emit(run(query_async(listings, orders, calls, click.echo, base_port)), json_path)


@bench.command("memory")
@click.option("--milestones", default="100000,300000", show_default=True,
              help="Committed-tx counts at which to sample RSS (e.g. 100000,300000,1000000).")
@click.option("--base-port", default=24600, show_default=True)
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
def memory_cmd(milestones: str, base_port: int, json_path: Path | None) -> None:
    """Validator RSS as the chain grows (state lives in LevelDB, so growth should flatten)."""
    from marketnode.tools.bench.modes import memory_async, run

    points = sorted(int(x) for x in milestones.split(","))
    _emit(run(memory_async(points, click.echo, base_port)), json_path)


@bench.command("stages")
@click.option("--txs", default=5000, show_default=True, type=click.IntRange(10, 100_000))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
def stages_cmd(txs: int, json_path: Path | None) -> None:
    """Per-tx CPU cost of admission, block build, validation and execution, in one process."""
    from marketnode.tools.bench.stages import run_stages

    _emit(run_stages(txs), json_path)


@bench.command("tree")
@click.option("--keys", default=100_000, show_default=True, type=click.IntRange(100, 10_000_000))
@click.option("--changed", default=15_000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--blocks", default=3, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
def tree_cmd(keys: int, changed: int, blocks: int, json_path: Path | None) -> None:
    """State-tree cost per changed key at a state of KEYS entries (bench stages' state is only 100 accounts)."""
    from marketnode.tools.bench.statetree import run_tree

    _emit(run_tree(keys, min(changed, keys), blocks), json_path)


@bench.command("journal")
@click.option("--txs", default=2000, show_default=True, type=click.IntRange(10, 100_000))
@click.option("--clients", default=100, show_default=True, type=click.IntRange(1, 10_000))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path))
def journal_cmd(txs: int, clients: int, json_path: Path | None) -> None:
    """What the mempool journal (fsync before tx_send answers) costs per tx on this disk."""
    from marketnode.tools.bench.journal import run_journal

    _emit(run_journal(txs, clients), json_path)
