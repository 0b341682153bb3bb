"""The node's JSON-RPC methods, one module per namespace, all on one Registry.

``build_registry()`` declares every method once; dispatch, parameter checks
and the OpenRPC document (rpc_discover, docs/RPC.md) all come from it.
"""

from __future__ import annotations

from marketnode.node.rpc.registry import Registry


def build_registry() -> Registry:
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

    registry = Registry()
    for module in (node_methods, chain, txs, accounts, market, provenance, content, messages, proofs, faucet, admin,
                   authority):
        module.register(registry)
    aftersales.register(registry)
    results.apply(registry)
    return registry
