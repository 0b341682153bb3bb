"""The marketnode command answers --version and --help without touching the network or disk."""

from __future__ import annotations

from click.testing import CliRunner

from marketnode.cli.main import main
from marketnode.core import __version__
from marketnode.core.keys import PrivateKey, pubkey_from_address


def test_version_prints_the_package_version():
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"marketnode, version {__version__}"


def test_help_explains_the_command_and_lists_subcommands():
    result = CliRunner().invoke(main, ["--help"], prog_name="marketnode")
    assert result.exit_code == 0
    assert "Usage: marketnode" in result.output
    assert "keygen" in result.output


def test_short_help_flag_is_the_same_as_long():
    runner = CliRunner()
    assert runner.invoke(main, ["-h"]).output == runner.invoke(main, ["--help"]).output


def test_keygen_from_a_seed_prints_its_address_and_public_key():
    key = PrivateKey(bytes([7]) * 32)
    result = CliRunner().invoke(main, ["keygen", "--seed", key.seed.hex()])
    assert result.exit_code == 0
    lines = dict(line.split(":", 1) for line in result.output.splitlines())
    assert pubkey_from_address(lines["address"].strip()) == key.public_key
    assert lines["public key"].strip() == key.public_key.hex()


def test_an_unknown_command_is_a_usage_error():
    result = CliRunner().invoke(main, ["no-such-command"])
    assert result.exit_code == 2
    assert "No such command" in result.output
