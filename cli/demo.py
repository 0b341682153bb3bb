"""`marketnode demo --dir DIR`: walk the whole marketplace story on a local testnet.

Starts the testnet in DIR when it is not running (through `marketnode testnet
start`), gives each character a wallet on a different node (so the story
crosses the peer-to-peer network), runs cli/demo_story.py, then prints where
to look: RPC URLs and the web pages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from marketnode.cli.demo_story import CAST, ROLES, Outcome, Step, Story
from marketnode.cli.testnet import DIR_OPTION, start_cmd
from marketnode.cli.wallet_common import reported_errors
from marketnode.core.keys import PrivateKey
from marketnode.tools.testnet import procs as procs
from marketnode.wallet.account import Wallet
from marketnode.wallet.client import RpcClient

CLIENT_TIMEOUT_S = 75.0


@click.command("demo")
@DIR_OPTION
@click.option("--validators", default=4, show_default=True, help="Used only when DIR holds no testnet yet.")
@click.option("--rpc", default=None, metavar="URL",
              help="Send everything through this node instead of spreading the characters over the testnet's nodes.")
@click.option("--json", "as_json", is_flag=True, help="Print the steps, ids and URLs as one JSON document at the end.")
@click.pass_context
def demo(ctx: click.Context, directory: Path, validators: int, rpc: str | None, as_json: bool) -> None:
    """Walk the marketplace story on the testnet in DIR, starting it if needed.

    A seller opens a shop and lists goods; a buyer finds them by search,
    orders, the seller ships, the buyer confirms, reviews and earns a reward;
    a second order is disputed and split by an arbiter; a T-shirt in sizes
    and colours sells with a shipping option and a coupon, comes back as a
    return, another is settled by a mutual refund, and a cart holds two
    listings in one escrow; the coffee lot is
    traced from its producer through a carrier to the buyer, with its
    certificate. Each step prints its tx hash and block height.

    \b
    marketnode demo --dir testnet
    marketnode demo --dir testnet --json > story.json
    """
    if not _all_running(directory):
        ctx.invoke(start_cmd, directory=directory, validators=validators, wait=True)
    urls = [rpc] if rpc else _node_urls(directory)
    cast = {name: Wallet(PrivateKey.load(directory / "accounts" / f"{name}.key"),
                         RpcClient(urls[i % len(urls)], timeout_s=CLIENT_TIMEOUT_S))
            for i, name in enumerate(CAST)}
    if not as_json:
        for name in CAST:
            click.echo(f"  {name:<6} {ROLES[name]:<32} {cast[name].address[:16]}…  via {cast[name].client.url}")
    say = _silent if as_json else _print_step
    note = _silent if as_json else (lambda text: click.secho(f"\n{text}", bold=True))
    with reported_errors(as_json):
        outcome = Story(cast, say, note).run()
    links = web_links(urls[0], outcome, cast["bob"].address)
    if as_json:
        click.echo(json.dumps({"steps": [s.to_json() for s in outcome.steps], "ids": outcome.ids,
                               "addresses": {n: w.address for n, w in cast.items()},
                               "balances_before": outcome.balances_before, "balances_after": outcome.balances_after,
                               "rpc": urls, "web": links}, indent=2))
        return
    click.secho("\nLook around", bold=True)
    click.echo(f"  JSON-RPC:    {', '.join(urls)}")
    for label, url in links.items():
        click.echo(f"  {label + ':':<12} {url}")
    click.echo(f"  CLI:         marketnode order show {outcome.ids['sale_order']} --rpc {urls[0]}")
    click.echo(f"               marketnode record history {outcome.ids['record']} --rpc {urls[0]}")
    click.echo(f"               marketnode cert verify {outcome.ids['certificate']} --rpc {urls[0]}")


def web_links(url: str, outcome: Outcome, buyer: str) -> dict[str, str]:
    """The web pages (served at the node's RPC URL root) showing what the story made."""
    base = url.rstrip("/") + "/"
    ids = outcome.ids
    return {
        "web": base, "shop": f"{base}#/shop/{ids['shop']}", "listing": f"{base}#/listing/{ids['coffee_listing']}",
        "order": f"{base}#/order/{ids['sale_order']}", "dispute": f"{base}#/order/{ids['dispute_order']}",
        "record": f"{base}#/record/{ids['record']}", "certificate": f"{base}#/cert/{ids['certificate']}",
        "buyer": f"{base}#/account/{buyer}",
    }


def _all_running(directory: Path) -> bool:
    if not (directory / procs.MANIFEST).exists():
        return False
    return all(procs.read_pid(entry) is not None for entry in procs.nodes_of(directory))


def _node_urls(directory: Path) -> list[str]:
    return [procs.rpc_url(entry.config()) for entry in procs.nodes_of(directory)]


def _print_step(step: Step) -> None:
    click.echo(f"{step.number:>3}. {step.actor:<6} {step.text}")
    if step.tx is not None:
        click.echo(f"{'':12}block {step.tx.height:<5} tx {step.tx.hash}")


def _silent(_: Any) -> None:
    pass
