"""wallet: the Python SDK for talking to marketnode (docs/WALLET.md, docs/ARCHITECTURE.md).

keystore (encrypted key files) · client (sync and async JSON-RPC clients) ·
account (``Wallet``: a key, its nonce and an RPC client; send, estimate,
verify) · kinds (one typed builder per tx kind, generated from the market
schema) · builders (bodies only a wallet can make: sealed addresses,
commitments) · bodies (shape checks) · amounts (exact unit conversion) ·
proof (verify a tx's inclusion in a final block).
Imports core/ only, never node/: a wallet must not need a node's code.
"""

from marketnode.core.namespace import require_namespace

require_namespace(__name__)
