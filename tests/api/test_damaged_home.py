"""A damaged file in a node's home stops the start with a clear error naming it, never a traceback or a guess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_helpers import write_home

from marketnode.core.errors import ConfigError, StorageCorruption, StorageError
from marketnode.core.keys import PrivateKey
from marketnode.node.config import NodeConfig, load_config, render_config
from marketnode.node.process import first_marketnode_error
from marketnode.node.rpc.errors import error_object
from marketnode.node.service import Node
from marketnode.node.storage import schema
from marketnode.node.storage.kv import WriteBatch
from marketnode.node.storage.level import LevelKV

NOT_UTF8 = b"\xff\xfe\x00 not text"


def start_and_close(cfg: NodeConfig) -> None:
    """Open the home as a node does (writes the genesis), then release it."""
    node = Node.open(cfg)
    node.close()


@pytest.mark.parametrize(("name", "what"), [("genesis.json", "genesis"), ("node_key", "key file")])
def test_a_home_file_that_is_not_text_is_a_config_error_naming_it(tmp_path: Path, name: str, what: str) -> None:
    cfg, _ = write_home(tmp_path, faucet=False)
    (tmp_path / name).write_bytes(NOT_UTF8)
    with pytest.raises(ConfigError, match=f"the {what} at {tmp_path / name} is damaged: it is not UTF-8"):
        Node.open(cfg)


def test_a_config_that_is_not_text_is_a_config_error(tmp_path: Path) -> None:
    cfg, _ = write_home(tmp_path, faucet=False)
    (tmp_path / "config.toml").write_text(render_config(cfg))
    assert load_config(tmp_path).moniker == cfg.moniker
    (tmp_path / "config.toml").write_bytes(NOT_UTF8)
    with pytest.raises(ConfigError, match=r"the config at .* is damaged"):
        load_config(tmp_path)


def test_a_directory_in_place_of_the_key_file_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "node_key").mkdir()
    with pytest.raises(ConfigError, match="cannot read the key file"):
        PrivateKey.load(tmp_path / "node_key")


def test_a_changed_genesis_file_is_told_apart_from_another_chain(tmp_path: Path) -> None:
    cfg, _ = write_home(tmp_path, faucet=False)
    start_and_close(cfg)
    genesis = tmp_path / "genesis.json"
    doc = json.loads(genesis.read_text())
    doc["genesis_time_ms"] += 1
    genesis.write_text(json.dumps(doc))
    with pytest.raises(StorageError, match="if that file was changed, restore it"):
        Node.open(cfg)


def test_a_damaged_last_signed_record_refuses_the_start_with_what_to_do(tmp_path: Path) -> None:
    cfg, _ = write_home(tmp_path, faucet=False)
    start_and_close(cfg)
    kv = LevelKV(cfg.data_path)
    batch = WriteBatch()
    batch.put(schema.LAST_SIGNED, b"\x93\x01")
    kv.write(batch)
    kv.close()
    with pytest.raises(StorageCorruption, match=r"last-signed record .* is damaged.*marketnode data reset --home"):
        Node.open(cfg)
    LevelKV(cfg.data_path).close()  # the refusal released the database lock


def test_a_damaged_database_is_answered_as_such_and_a_plain_storage_error_only_by_incident() -> None:
    damaged = error_object(StorageCorruption("the database at /x is damaged (Corruption: bad block)"), "chain_getBlock")
    assert damaged["code"] == -32603 and "database is damaged" in damaged["message"]
    assert damaged["data"]["storage"] == "damaged" and damaged["data"]["incident"] in damaged["message"]
    other = error_object(StorageError("the database at /x is closed"), "chain_getBlock")
    assert other["code"] == -32603 and "damaged" not in other["message"] and "storage" not in other["data"]


def test_the_error_that_stopped_the_task_group_is_surfaced_not_the_group() -> None:
    damage = StorageCorruption("the database at /x is damaged")
    group = BaseExceptionGroup("tasks", [ValueError("other"), BaseExceptionGroup("inner", [damage])])
    assert first_marketnode_error(group) is damage
    assert first_marketnode_error(BaseExceptionGroup("tasks", [ValueError("other")])) is None
