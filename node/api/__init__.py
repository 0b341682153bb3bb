"""The node's JSON-RPC methods, one module per namespace, all on one Registry.

``build_registry()`` declares every method once; dispatch, parameter checks
and the OpenRPC document (rpc_discover, docs/RPC.md) all come from it.
"""

from __future__ import annotations

from marketnode.node.api import (
    accounts,
    admin,
    aftersales,
    authority,
    chain,
    content,
    faucet,
    market,
    messages,
    node_methods,
    proofs,
    provenance,
    results,
    txs,
)
from marketnode.node.api.faucet import FaucetSource
from marketnode.node.rpc.registry import Registry


def build_registry(faucet_source: FaucetSource | None = None) -> Registry:
    """Every method of the node; ``faucet_source`` serves dev_faucet (default: disabled, as for the docs)."""
    registry = Registry()
    for module in (node_methods, chain, txs, accounts, market, provenance, content, messages, proofs, admin,
                   authority):
        module.register(registry)
    faucet.register(registry, faucet_source)
    aftersales.register(registry)
    results.apply(registry)
    return registry
