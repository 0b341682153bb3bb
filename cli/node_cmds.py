"""`marketnode init` and `marketnode run`: one node from its home directory."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import click

from marketnode.core.errors import MarketnodeError

HOME_OPTION = click.option("--home", type=click.Path(file_okay=False, path_type=Path), required=True,
                           help="The node's home directory (config.toml, node_key, genesis.json, data/).")


@click.command("init")
@HOME_OPTION
@click.option("--chain-id", default="marketnode-dev", show_default=True)
@click.option("--p2p-port", default=26656, show_default=True, type=click.IntRange(1, 65535))
@click.option("--rpc-port", default=26657, show_default=True, type=click.IntRange(1, 65535))
def init_cmd(home: Path, chain_id: str, p2p_port: int, rpc_port: int) -> None:
    """Write a config, a node key and a single-validator dev genesis into HOME.

    The node key becomes the only validator and a funded account; run the
    node with `marketnode run --home HOME`.
    """
    from marketnode.node.init_home import init_single_node_home

    try:
        paths = init_single_node_home(home, chain_id, p2p_port, rpc_port)
    except MarketnodeError as exc:
        raise click.ClickException(str(exc)) from None
    for label, path in paths.items():
        click.echo(f"{label:<8} {path}")
    click.echo(f"next: marketnode run --home {home}")


@click.command("run")
@HOME_OPTION
@click.option("--log-format", type=click.Choice(["plain", "json"]), default=None, help="Overrides log.format.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]), default=None)
@click.option("--sync", "sync_mode", type=click.Choice(["replay", "snapshot"]), default=None,
              help="Overrides sync.mode: how a node still at its genesis joins (snapshot: from peers' state).")
@click.option("--byzantine", default=None, hidden=True,
              help="TEST ONLY: misbehave as a Byzantine validator (equivocate, conflicting votes, garbage).")
def run_cmd(home: Path, log_format: str | None, log_level: str | None, sync_mode: str | None,
            byzantine: str | None) -> None:
    """Run the node in HOME until SIGINT or SIGTERM, then shut down cleanly."""
    from marketnode.node.config import load_config, tighten_config_mode
    from marketnode.node.logsetup import setup_logging
    from marketnode.node.process import run_node

    try:
        cfg = load_config(home)
    except MarketnodeError as exc:
        raise click.ClickException(str(exc)) from None
    if sync_mode is not None:
        cfg = dataclasses.replace(cfg, sync=dataclasses.replace(cfg.sync, mode=sync_mode))
    setup_logging(log_level or cfg.log.level, log_format or cfg.log.format, cfg.moniker)
    loose = tighten_config_mode(cfg.home)
    if loose is not None:
        logging.getLogger("marketnode.config").warning(loose)
    misbehave = None
    if byzantine:
        from functools import partial

        from marketnode.tools.byzantine import Misbehaviour

        misbehave = partial(Misbehaviour, byzantine)
    try:
        run_node(cfg, misbehave=misbehave)
    except MarketnodeError as exc:
        raise click.ClickException(str(exc)) from None
