"""`marketnode init`: one node home with a config, a node key and a single-validator dev genesis."""

from __future__ import annotations

from pathlib import Path

from marketnode.core.errors import ConfigError
from marketnode.core.keys import PrivateKey
from marketnode.node.config import CONFIG_FILE, NodeConfig, P2PSection, RpcSection, new_admin_token, write_config
from marketnode.node.genesis_setup import write_dev_genesis

DEV_BALANCE = 1_000_000_000_000


def init_single_node_home(home: Path, chain_id: str, p2p_port: int, rpc_port: int) -> dict[str, Path]:
    """Write HOME; refuse to overwrite an existing config or key."""
    home = Path(home)
    for name in (CONFIG_FILE, "node_key", "genesis.json"):
        if (home / name).exists():
            raise ConfigError(f"{home / name} already exists; refusing to overwrite (choose an empty --home)")
    home.mkdir(parents=True, exist_ok=True)
    key = PrivateKey.generate()
    key.save(home / "node_key")
    account = PrivateKey.generate()
    account.save(home / "account.key")
    genesis = write_dev_genesis(chain_id, [("validator-0", key.public_key, f"127.0.0.1:{p2p_port}")],
                                {"owner": account.public_key}, DEV_BALANCE)
    (home / "genesis.json").write_text(genesis)
    cfg = NodeConfig(home=home, moniker="node", p2p=P2PSection(listen_port=p2p_port),
                     rpc=RpcSection(listen_port=rpc_port, admin_token=new_admin_token()))
    write_config(cfg)
    return {"config": home / CONFIG_FILE, "node key": home / "node_key", "account": home / "account.key",
            "genesis": home / "genesis.json", "data": home / "data"}
