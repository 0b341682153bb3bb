"""node: the composition root that wires storage, mempool, consensus, p2p and RPC (docs/ARCHITECTURE.md)."""

from marketnode.core.namespace import require_namespace

require_namespace(__name__)
