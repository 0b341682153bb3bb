"""Lay out a local testnet on disk: node homes, keys, one genesis, demo accounts.

``DIR/testnet.json`` lists the nodes; ``DIR/<name>/`` is each node's home;
``DIR/accounts/<name>.key`` holds each funded demo account's seed (mode 0600,
testnet only); ``DIR/<name>/faucet.key`` is the funded account that node's
``dev_faucet`` pays from. Ports: node i gets p2p ``base + 2i`` and RPC ``base + 2i + 1``.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from marketnode.core.errors import ConfigError
from marketnode.core.keys import PrivateKey
from marketnode.node.config import NodeConfig, P2PSection, RpcSection, new_admin_token, write_config
from marketnode.tools.testnet.ports import Port
from marketnode.tools.testnet.procs import MANIFEST

DEMO_ACCOUNTS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")
DEMO_BALANCE = 1_000_000_000_000
CHAIN_ID_PREFIX = "marketnode-testnet"


def new_chain_id() -> str:
    """A chain id of its own for each new testnet, so two testnets' nodes, txs and signatures never mix."""
    return f"{CHAIN_ID_PREFIX}-{secrets.token_hex(4)}"


def node_names(validators: int, observers: int = 0) -> list[str]:
    return [f"validator-{i}" for i in range(validators)] + [f"observer-{i}" for i in range(observers)]


def planned_ports(validators: int, base_port: int, observers: int = 0, host: str = "127.0.0.1") -> list[Port]:
    """The ports ``init_testnet`` gives its nodes: node i gets p2p base+2i and RPC base+2i+1."""
    return [Port(name, kind, host, base_port + 2 * i + offset)
            for i, name in enumerate(node_names(validators, observers)) for offset, kind in ((0, "p2p"), (1, "rpc"))]


def init_testnet(directory: Path, validators: int, observers: int = 0, base_port: int = 26600,
                 chain_id: str | None = None, host: str = "127.0.0.1") -> dict:
    """Write every node home and the shared genesis; refuse to overwrite a testnet.

    Without ``chain_id`` the testnet gets a fresh one (``new_chain_id``)."""
    from marketnode.node.api.faucet import FAUCET_KEY_FILE
    from marketnode.node.genesis_setup import write_dev_genesis  # market-aware part

    directory = Path(directory)
    if (directory / MANIFEST).exists():
        raise ConfigError(f"{directory} already holds a testnet; stop it and remove the directory first")
    if validators < 1:
        raise ConfigError("a testnet needs at least one validator")
    if not 1 <= base_port <= 65535 - 2 * (validators + observers):
        raise ConfigError(f"base port {base_port} leaves no room for {validators + observers} nodes")
    chain_id = chain_id or new_chain_id()
    directory.mkdir(parents=True, exist_ok=True)
    names = node_names(validators, observers)
    keys = {name: PrivateKey.generate() for name in names}
    ports: dict[str, tuple[int, int]] = {}
    for port in planned_ports(validators, base_port, observers, host):
        ports[port.node] = (*ports.get(port.node, ()), port.port)  # type: ignore[assignment]
    seeds = tuple(f"{keys[n].public_key.hex()}@{host}:{ports[n][0]}" for n in names[:validators])

    accounts = {}
    for name in DEMO_ACCOUNTS:
        key = PrivateKey.generate()
        key.save(directory / "accounts" / f"{name}.key")
        accounts[name] = key.public_key

    # Each node's dev_faucet signs from its own funded account, so nodes never race for one nonce.
    faucets = {name: PrivateKey.generate() for name in names}
    for name, key in faucets.items():
        key.save(directory / name / FAUCET_KEY_FILE)
        accounts[f"faucet-{name}"] = key.public_key

    validator_entries = [(n, keys[n].public_key, f"{host}:{ports[n][0]}") for n in names[:validators]]
    genesis_text = write_dev_genesis(chain_id, validator_entries, accounts, DEMO_BALANCE)

    nodes = []
    for name in names:
        home = directory / name
        home.mkdir(parents=True, exist_ok=True)
        keys[name].save(home / "node_key")
        (home / "genesis.json").write_text(genesis_text)
        p2p_port, rpc_port = ports[name]
        cfg = NodeConfig(
            home=home, moniker=name, validator=name.startswith("validator"),
            p2p=P2PSection(listen_host=host, listen_port=p2p_port,
                           seeds=tuple(s for s in seeds if not s.startswith(keys[name].public_key.hex()))),
            rpc=RpcSection(listen_host=host, listen_port=rpc_port, admin_token=new_admin_token(), enable_faucet=True),
        )
        write_config(cfg)
        nodes.append({"name": name, "role": "validator" if cfg.validator else "observer", "home": name,
                      "rpc": f"http://{host}:{rpc_port}/", "p2p": f"{host}:{p2p_port}"})
    manifest = {"chain_id": chain_id, "nodes": nodes,
                "accounts": {n: f"accounts/{n}.key" for n in DEMO_ACCOUNTS}}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest
