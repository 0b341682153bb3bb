"""State sync: join from a snapshot of the state instead of replaying every block.

``format`` is the canonical chunk and manifest encoding, ``offers`` the
serving side (the state views a node keeps and the requests it answers),
``fetch`` the sans-IO machine that verifies an anchor, a manifest and its
chunks, and ``client`` the asyncio edge that drives it over p2p
(docs/P2P.md "State sync", docs/PROTOCOL.md §7.4).
"""
