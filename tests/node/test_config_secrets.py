"""config.toml holds the admin token: written 0600 by every command that makes one, and tightened on start."""

from __future__ import annotations

import stat

import pytest

from marketnode.core.errors import ConfigError
from marketnode.node.config import CONFIG_FILE, NodeConfig, RpcSection, load_config, tighten_config_mode, write_config
from marketnode.node.init_home import init_single_node_home
from marketnode.node.rpc import RpcLimits
from marketnode.node.rpc.access import AccessPolicy
from marketnode.tools.testnet.layout import init_testnet


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_marketnode_init_writes_the_config_owner_only(tmp_path):
    paths = init_single_node_home(tmp_path / "home", "chain-x", 26000, 26001)
    assert mode(paths["config"]) == 0o600
    assert load_config(tmp_path / "home").rpc.admin_token


def test_testnet_init_writes_every_config_owner_only(tmp_path):
    manifest = init_testnet(tmp_path / "net", validators=2, observers=1, base_port=27000)
    for node in manifest["nodes"]:
        assert mode(tmp_path / "net" / node["home"] / CONFIG_FILE) == 0o600, node["name"]


def test_a_config_readable_by_others_is_tightened_with_a_warning(tmp_path):
    path = write_config(NodeConfig(home=tmp_path, rpc=RpcSection(admin_token="a" * 32)))
    assert tighten_config_mode(tmp_path) is None  # already 0600: nothing to say
    path.chmod(0o644)
    warning = tighten_config_mode(tmp_path)
    assert warning is not None and "0644" in warning and "admin_token" in warning
    assert mode(path) == 0o600


def test_every_rpc_limit_and_the_access_lists_come_from_the_config(tmp_path):
    (tmp_path / CONFIG_FILE).write_text(
        "[rpc]\nmax_requests_per_client = 3\nbody_timeout_s = 2\nmax_batch_response_bytes = 999\n"
        "requests_per_s = 0\nallowed_hosts = ['Node.LAN']\nallowed_origins = ['https://wallet.example/']\n")
    section = load_config(tmp_path).rpc
    limits = RpcLimits.from_config(section)
    assert (limits.max_requests_per_client, limits.body_timeout_s, limits.max_batch_response_bytes) == (3, 2, 999)
    assert limits.requests_per_s is None
    assert AccessPolicy.from_config(section) == AccessPolicy(("node.lan",), ("https://wallet.example",))
    defaults = RpcLimits.from_config(RpcSection())
    assert defaults.max_ws_connections == RpcSection().max_ws_connections


def test_a_zero_limit_is_a_config_error_naming_it():
    with pytest.raises(ConfigError, match=r"rpc\.body_timeout_s"):
        RpcLimits.from_config(RpcSection(body_timeout_s=0))
