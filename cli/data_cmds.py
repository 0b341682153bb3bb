"""`marketnode data check` and `marketnode data reset`: the node's chain data on disk (node/datadir.py)."""

from __future__ import annotations

from pathlib import Path

import click

from marketnode.cli.node_cmds import HOME_OPTION
from marketnode.core.errors import MarketnodeError


@click.group("data")
def data() -> None:
    """Check the chain data a node stores, recover it after a torn write, or wipe it so the node re-syncs."""


@data.command("check")
@HOME_OPTION
def check_cmd(home: Path) -> None:
    """Check every stored block, certificate, tx index entry and the state digest (the node must be stopped)."""
    import logging

    from marketnode.node.config import load_config
    from marketnode.node.datadir import open_checked

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")  # progress; a no-op if set up already
    try:
        cfg = load_config(home)
        kv, _, check = open_checked(cfg.data_path, cfg.home, lambda store: None, full=True)
    except MarketnodeError as exc:
        raise click.ClickException(str(exc)) from None
    kv.close()
    blocks = f"blocks 1..{check.head_height} ({check.txs} txs)" if check.head_height else "no blocks yet"
    click.echo(f"ok: {blocks} and {check.state_entries} state entries hold together")


@data.command("recover")
@HOME_OPTION
def recover_cmd(home: Path) -> None:
    """Let LevelDB drop what fails its checksum, then check the whole chain (the node must be stopped).

    Saves a re-sync when a power cut tore the last write. If the chain does
    not hold together afterwards, it says so: run `marketnode data reset`.
    """
    import logging

    from marketnode.node.config import load_config
    from marketnode.node.datadir import recover

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        cfg = load_config(home)
        check = recover(cfg.data_path, cfg.home)
    except MarketnodeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"recovered: the chain holds together up to block {check.head_height}; start the node to catch up")
    if cfg.validator:
        click.echo("warning: this is a validator and a dropped record may have been its last-signed record: set "
                   "validator = false in config.toml until it has caught up past the height it last voted on, "
                   "then set it back", err=True)


@data.command("reset")
@HOME_OPTION
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def reset_cmd(home: Path, yes: bool) -> None:
    """Delete the stored chain (blocks, state, query index) so the node re-syncs it from its peers.

    Keeps the node key, config.toml, genesis.json and the validator's
    last-signed record (so it cannot sign a vote that conflicts with one it
    sent before). Stop the node first.
    """
    from marketnode.node.config import CONFIG_FILE, load_config
    from marketnode.node.datadir import reset

    try:
        cfg = load_config(home)
    except MarketnodeError as exc:
        raise click.ClickException(str(exc)) from None
    if not yes:
        click.confirm(f"delete the chain data in {cfg.data_path}?", abort=True)
    try:
        report = reset(cfg.data_path, keep=(cfg.key_path, cfg.genesis_path, cfg.home / CONFIG_FILE))
    except MarketnodeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"emptied {report.data_path}; last-signed record {'kept' if report.kept_last_signed else 'none'}")
    if report.warning:
        click.echo(f"warning: {report.warning}. If this node is a validator, set validator = false in config.toml "
                   "until it has caught up past the height it last voted on, then set it back", err=True)
    click.echo(f"next: marketnode run --home {home} (it re-syncs from its peers)")
