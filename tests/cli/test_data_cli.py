"""`marketnode data check` and `marketnode data reset` on a real home (init) and a real LevelDB."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from marketnode.cli.main import main
from marketnode.node.config import load_config
from marketnode.node.storage import schema
from marketnode.node.storage.kv import WriteBatch
from marketnode.node.storage.level import LevelKV


def home_with_chain(tmp_path: Path) -> Path:
    """A `marketnode init` home whose data directory holds the genesis (as after a first start)."""
    home = tmp_path / "home"
    assert CliRunner().invoke(main, ["init", "--home", str(home)]).exit_code == 0
    from marketnode.node.service import Node

    node = Node.open(load_config(home))
    node.close()
    return home


def test_check_passes_on_an_intact_home(tmp_path: Path) -> None:
    home = home_with_chain(tmp_path)
    result = CliRunner().invoke(main, ["data", "check", "--home", str(home)])
    assert result.exit_code == 0, result.output
    assert "ok: no blocks yet and" in result.output


def test_check_names_the_damage_and_the_fix(tmp_path: Path) -> None:
    home = home_with_chain(tmp_path)
    kv = LevelKV(load_config(home).data_path)
    batch = WriteBatch()
    batch.put(schema.state(b"damaged"), b"1")
    kv.write(batch)
    kv.close()
    result = CliRunner().invoke(main, ["data", "check", "--home", str(home)])
    assert result.exit_code == 1
    assert "does not match its digest" in result.output and f"marketnode data reset --home {home}" in result.output


def test_reset_asks_first_and_then_empties_the_data_but_keeps_the_home(tmp_path: Path) -> None:
    home = home_with_chain(tmp_path)
    cfg = load_config(home)
    refused = CliRunner().invoke(main, ["data", "reset", "--home", str(home)], input="n\n")
    assert refused.exit_code == 1 and cfg.data_path.exists()
    kv = LevelKV(cfg.data_path)
    assert kv.get(schema.GENESIS) is not None
    kv.close()
    done = CliRunner().invoke(main, ["data", "reset", "--home", str(home)], input="y\n")
    assert done.exit_code == 0, done.output
    assert "emptied" in done.output and cfg.key_path.exists() and cfg.genesis_path.exists()
    kv = LevelKV(cfg.data_path)
    assert kv.get(schema.GENESIS) is None
    kv.close()
