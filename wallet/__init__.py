"""wallet: the Python SDK for talking to marketnode (see ../shared/DESIGN.md).

keystore (encrypted key files) · client (sync and async JSON-RPC clients) ·
proof (verify a tx's inclusion in a final block) · builders (signed txs).
Imports core/ only, never node/: a wallet must not need a node's code.
"""
