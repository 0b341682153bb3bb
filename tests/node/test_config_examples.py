"""The shipped examples in configs/ must stay loadable: operators copy them verbatim."""

from pathlib import Path

import pytest

from marketnode.core.errors import ConfigError
from marketnode.market.genesis import Genesis
from marketnode.node.config import CONFIG_FILE, NodeConfig, load_config, render_config

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def test_example_node_config_loads(tmp_path):
    (tmp_path / CONFIG_FILE).write_text((CONFIGS / "node.example.toml").read_text())
    cfg = load_config(tmp_path)
    assert cfg.rpc.listen_host == "127.0.0.1"
    assert cfg.rpc.enable_faucet is False


def test_example_genesis_loads():
    genesis = Genesis.from_json((CONFIGS / "genesis.testnet.example.json").read_text())
    assert len(genesis.validators) == 4


def test_rendered_config_round_trips(tmp_path):
    cfg = NodeConfig(home=tmp_path.resolve(), moniker="x")
    (tmp_path / CONFIG_FILE).write_text(render_config(cfg))
    assert load_config(tmp_path) == cfg


@pytest.mark.parametrize(
    "text, message",
    [
        ("[p2p]\nlisten_port = -1\n", "p2p.listen_port"),
        ("[rpc]\nnope = 1\n", "unknown setting 'nope'"),
        ("moniker = 5\n", "config.moniker"),
        ("[log]\nlevel = 'loud'\n", "log.level"),
        ("[p2p\n", "invalid TOML"),
        ("[p2p]\nseeds = 'a:1'\n", "p2p.seeds"),
        ("[mempool]\nmin_commit_tps = 0\n", "mempool.min_commit_tps"),
        ("[mempool]\nmax_pending_ms = -5\n", "mempool.max_pending_ms"),
        ("[mempool]\njournal_file = 3\n", "mempool.journal_file"),
    ],
)
def test_bad_config_names_the_setting(tmp_path, text, message):
    (tmp_path / CONFIG_FILE).write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path)


def test_missing_config_tells_how_to_create_one(tmp_path):
    with pytest.raises(ConfigError, match="marketnode init"):
        load_config(tmp_path)
