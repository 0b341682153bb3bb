"""node: the composition root that wires storage, mempool, consensus, p2p and RPC (docs/ARCHITECTURE.md)."""
