"""The ``marketnode`` command: thin click wrappers over node/ and wallet/."""

from __future__ import annotations

import click

from marketnode.core import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="marketnode")
def main() -> None:
    """marketnode: a marketplace with no central server.

    Every participant runs a node. Nodes gossip listings and orders, a
    validator set orders them with PBFT consensus, and wallets talk to any
    node over JSON-RPC. Start with `marketnode testnet --help`.
    """


@main.command()
@click.option("--seed", metavar="HEX", help="32-byte seed as hex (default: a fresh random key).")
def keygen(seed: str | None) -> None:
    """Print a new ed25519 key's address and public key (and seed)."""
    from marketnode.core.keys import PrivateKey

    key = PrivateKey(bytes.fromhex(seed)) if seed else PrivateKey.generate()
    click.echo(f"address:    {key.address}")
    click.echo(f"public key: {key.public_key.hex()}")
    click.echo(f"seed:       {key.seed.hex()}  (keep secret)")


def _register() -> None:
    from marketnode.cli.bench import bench
    from marketnode.cli.data_cmds import data
    from marketnode.cli.node_cmds import init_cmd, run_cmd
    from marketnode.cli.testnet import testnet

    main.add_command(init_cmd)
    main.add_command(run_cmd)
    main.add_command(testnet)
    main.add_command(bench)
    main.add_command(data)
    _register_wallet_commands()


def _register_wallet_commands() -> None:
    """wallet, register, transfer and every marketplace action (thin over wallet/)."""
    from marketnode.cli import (
        account_cmds,
        authority_cmds,  # noqa: F401  (adds keys, rotate, guardians, recover to `account`)
        content_cmds,
        listing_cmds,
        message_cmds,
        order_cmds,
        provenance_cmds,
        review_cmds,
        roles_cmds,
        shop_cmds,
        wallet_cmds,
    )
    from marketnode.cli.commerce_cmds import COMMANDS as COMMERCE  # also adds to the order and shop groups
    from marketnode.cli.demo import demo

    for module in (
        wallet_cmds, account_cmds, roles_cmds, shop_cmds, listing_cmds, review_cmds,
        order_cmds, provenance_cmds, content_cmds, message_cmds,
    ):
        for command in module.COMMANDS:
            main.add_command(command)
    for command in COMMERCE:
        main.add_command(command)
    main.add_command(demo)


_register()

if __name__ == "__main__":
    main()
