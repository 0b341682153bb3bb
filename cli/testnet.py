"""`marketnode testnet ...`: a local multi-node network in one command."""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

import click

from marketnode.core.errors import MarketnodeError
from marketnode.tools.testnet import ports as ports
from marketnode.tools.testnet import procs as procs

DIR_OPTION = click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("testnet"),
                          show_default=True, help="The testnet's directory.")


@click.group()
def testnet() -> None:
    """Create and run a local testnet: N validators (+ observers) on loopback ports.

    \b
    marketnode testnet init --validators 4 --dir testnet
    marketnode testnet up --dir testnet          # foreground, Ctrl-C stops
    marketnode testnet start --dir testnet       # detached; then status, stop
    marketnode testnet status --dir testnet
    marketnode testnet stop --dir testnet
    marketnode testnet load --dir testnet --txs 1000
    """


@testnet.command("init")
@click.option("--validators", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--observers", default=0, show_default=True, type=click.IntRange(0, 64))
@DIR_OPTION
@click.option("--base-port", default=26600, show_default=True, type=click.IntRange(1024, 65000),
              help="Node i listens on p2p base+2i and RPC base+2i+1.")
@click.option("--chain-id", default=None, help="Default: marketnode-testnet-<random>, a new one for each testnet.")
def init_cmd(validators: int, observers: int, directory: Path, base_port: int, chain_id: str | None) -> None:
    """Write node homes, keys, a genesis with funded demo accounts, and configs."""
    from marketnode.tools.testnet.layout import init_testnet

    manifest = _guard(lambda: init_testnet(directory, validators, observers, base_port, chain_id))
    click.echo(f"testnet {manifest['chain_id']} written to {directory}:")
    for node in manifest["nodes"]:
        click.echo(f"  {node['name']:<14} {node['role']:<10} rpc {node['rpc']}  p2p {node['p2p']}")
    click.echo(f"demo account keys: {directory / 'accounts'}")
    click.echo(f"next: marketnode testnet up --dir {directory}")
    click.echo(f"then, for wallet commands in another shell: {_export_line(directory, manifest['nodes'][0]['rpc'])}")


def _ensure_init(directory: Path, validators: int, base_port: int) -> None:
    if not (directory / procs.MANIFEST).exists():
        from marketnode.tools.testnet.layout import init_testnet, planned_ports

        # Refuse before writing anything: a testnet laid out on taken ports could never start.
        free = ports.free_base_port(validators)
        _guard(lambda: ports.refuse_busy(planned_ports(validators, base_port), (
            f"nothing was written. Stop what holds the port, or choose other ports: "
            f"marketnode testnet up --dir {directory} --base-port {free or 'PORT'}")))
        click.echo(f"no testnet in {directory}: creating one with {validators} validators")
        _guard(lambda: init_testnet(directory, validators, base_port=base_port))


def _refuse_taken_ports(directory: Path, entries: list[procs.NodeEntry]) -> None:
    """Exit non-zero naming each taken port before any node starts (a node that cannot bind just dies)."""
    _guard(lambda: ports.refuse_busy(procs.ports_of(entries), (
        f"no node of {directory} was started. Stop what holds the port (another testnet: "
        f"`marketnode testnet stop --dir THAT_DIR`), or make a new testnet on free ports: "
        f"marketnode testnet up --dir NEW_DIR --base-port {ports.free_base_port(len(entries)) or 'PORT'}")))


BASE_PORT_OPTION = click.option("--base-port", default=26600, show_default=True, type=click.IntRange(1024, 65000),
                                help="Used only when DIR holds no testnet yet.")


@testnet.command("up")
@DIR_OPTION
@click.option("--validators", default=4, show_default=True, help="Used only when DIR holds no testnet yet.")
@BASE_PORT_OPTION
def up_cmd(directory: Path, validators: int, base_port: int) -> None:
    """Run every node in the foreground with a live status line until Ctrl-C.

    Creates the testnet first when DIR holds none (like `testnet init`).
    """
    _ensure_init(directory, validators, base_port)
    entries = _guard(lambda: procs.nodes_of(directory))
    running = [e.name for e in entries if procs.read_pid(e)]
    if running:
        raise click.ClickException(f"already running: {', '.join(running)} (use `marketnode testnet stop --dir {directory}`)")
    _refuse_taken_ports(directory, entries)
    children = {e.name: procs.spawn(e, detached=False) for e in entries}
    stopping = False
    failed = ""

    def _stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    click.echo(f"started {len(children)} nodes; logs in {directory}/<node>/node.log; Ctrl-C stops them")
    _print_endpoints(entries)
    announced = False
    try:
        while not stopping:
            statuses = [procs.node_status(e) for e in entries]
            dead = [e.name for e in entries if children[e.name].poll() is not None]
            line = "  ".join(f"{s['name'].replace('validator-', 'v').replace('observer-', 'o')}:"
                             f"h={s['height'] if s['height'] is not None else '-'}"
                             f"/p={s['peers'] if s['peers'] is not None else '-'}" for s in statuses)
            foreign = [f"{s['name']}: {s['foreign']}" for s in statuses if s["foreign"]]
            if dead:
                line += f"  exited: {','.join(dead)} (see node.log)"
            sys.stdout.write("\r" + line[:200].ljust(120))
            sys.stdout.flush()
            if ((dead or foreign) and not announced) or len(dead) == len(entries):
                failed = _why_down(entries, dead, foreign)
                break
            if not announced and all(s["height"] is not None for s in statuses):
                announced = True
                sys.stdout.write("\n")
                _print_next_steps(directory, statuses)
            for _ in range(10):
                if stopping:
                    break
                time.sleep(0.1)
    finally:
        click.echo("\nstopping nodes ...")
        for entry in entries:
            proc = children[entry.name]
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for entry in entries:
            try:
                children[entry.name].wait(timeout=20)
            except Exception:
                children[entry.name].kill()
            entry.pid_file.unlink(missing_ok=True)
        click.echo("all nodes stopped")
    if failed:
        raise click.ClickException(failed)


def _why_down(entries: list[procs.NodeEntry], dead: list[str], foreign: list[str]) -> str:
    """The testnet did not come up: which nodes, and the last line each wrote to its log."""
    lines = [f"the testnet is not up: {', '.join(dead) or 'no node'} exited"] + [f"  {f}" for f in foreign]
    for entry in entries:
        if entry.name in dead:
            lines.append(f"  {entry.name}: {procs.last_log_line(entry) or '(empty log)'}  [{entry.log_file}]")
    return "\n".join(lines)


RPC_ENV_FILE = "rpc.env"


def _export_line(directory: Path, url: str) -> str:
    """The shell line that points wallet commands at this testnet; also written to DIR/rpc.env."""
    line = f"export MARKETNODE_RPC={url}"
    (directory / RPC_ENV_FILE).write_text(line + "\n")
    return line


def _print_endpoints(entries: list[procs.NodeEntry]) -> None:
    for entry in entries:
        cfg = entry.config()
        click.echo(f"  {entry.name:<14} rpc {procs.rpc_url(cfg)}  p2p {procs.p2p_address(cfg)}")


def _print_next_steps(directory: Path, statuses: list[dict]) -> None:
    url = statuses[0]["rpc"]
    click.echo("the testnet is up. Try, in another shell:")
    click.echo(f"  {_export_line(directory, url)}   # wallet commands then talk to it (also in {directory}/{RPC_ENV_FILE})")
    click.echo(f"  .venv/bin/marketnode demo --dir {directory}            # a whole marketplace story, step by step")
    click.echo(f"  .venv/bin/marketnode testnet load --dir {directory} --txs 1000")
    click.echo(f"  curl -s {url} -d '{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"node_status\"}}'")
    click.echo(f"  web pages (explorer and marketplace): {url}")


@testnet.command("start")
@DIR_OPTION
@click.option("--validators", default=4, show_default=True, help="Used only when DIR holds no testnet yet.")
@BASE_PORT_OPTION
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait until every node answers RPC.")
def start_cmd(directory: Path, validators: int, base_port: int, wait: bool) -> None:
    """Start every node detached (pid files in each home)."""
    _ensure_init(directory, validators, base_port)
    entries = _guard(lambda: procs.nodes_of(directory))
    _refuse_taken_ports(directory, [e for e in entries if not procs.read_pid(e)])
    for entry in entries:
        if procs.read_pid(entry):
            click.echo(f"{entry.name}: already running")
            continue
        proc = procs.spawn(entry, detached=True)
        click.echo(f"{entry.name}: started, pid {proc.pid}")
    if wait:
        ok = procs.wait_until(lambda: all(procs.node_status(e)["height"] is not None for e in entries), 60)
        foreign = [f"{s['name']}: {s['foreign']}" for s in map(procs.node_status, entries) if s["foreign"]]
        if foreign:
            raise click.ClickException("not our nodes:\n  " + "\n  ".join(foreign))
        if not ok:
            raise click.ClickException(f"not every node answered within 60 s; see {directory}/<node>/node.log")
        click.echo("all nodes answer RPC")


@testnet.command("stop")
@DIR_OPTION
def stop_cmd(directory: Path) -> None:
    """Stop every node of the testnet (SIGTERM, then SIGKILL after 15 s)."""
    entries = _guard(lambda: procs.nodes_of(directory))
    for entry in entries:
        pid = procs.read_pid(entry)
        if pid is None:
            click.echo(f"{entry.name}: not running")
        else:
            clean = procs.stop_pid(pid)
            click.echo(f"{entry.name}: stopped" + ("" if clean else " (killed after timeout)"))
        entry.pid_file.unlink(missing_ok=True)


@testnet.command("status")
@DIR_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print {\"nodes\": [...]} as JSON.")
def status_cmd(directory: Path, as_json: bool) -> None:
    """Show each node's role, pid, endpoints and height."""
    entries = _guard(lambda: procs.nodes_of(directory))
    statuses = [procs.node_status(e) for e in entries]
    if as_json:
        click.echo(json.dumps({"nodes": statuses}, indent=2))
        return
    click.echo(f"{'name':<14} {'role':<10} {'pid':>7} {'height':>7} {'peers':>5}  rpc")
    for s in statuses:
        click.echo(f"{s['name']:<14} {s['role']:<10} {s['pid'] or '-':>7} {s['height'] if s['height'] is not None else '-':>7}"
                   f" {s['peers'] if s['peers'] is not None else '-':>5}  {s['rpc']}"
                   + (f"  NOT OURS: {s['foreign']}" if s["foreign"] else ""))


@testnet.command("load")
@DIR_OPTION
@click.option("--txs", default=1000, show_default=True, type=click.IntRange(1, 10_000_000))
@click.option("--timeout", "timeout_s", default=120.0, show_default=True, help="Seconds to wait for receipts.")
def load_cmd(directory: Path, txs: int, timeout_s: float) -> None:
    """Send N signed transfers between the demo accounts and wait for their receipts."""
    from marketnode.tools.testnet.load import run_load
    from marketnode.wallet.client import RpcClient
    from marketnode.wallet.delivery import DeliveryPolicy
    from marketnode.wallet.delivery import send_batch as send_waiting_out_busy

    def send_batch(url: str, raws: list[str]) -> list:
        return send_waiting_out_busy(RpcClient(url, timeout_s=30.0), raws, policy=DeliveryPolicy(total_s=timeout_s))

    report = _guard(lambda: run_load(directory, txs, timeout_s, echo=click.echo, send_batch=send_batch))
    click.echo(json.dumps(report))
    if report["committed"] < txs:
        sys.exit(1)


def _guard(fn):  # type: ignore[no-untyped-def]
    try:
        return fn()
    except MarketnodeError as exc:
        raise click.ClickException(str(exc)) from None
