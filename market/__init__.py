"""market: the marketplace rules, a pure deterministic state machine (docs/MARKET.md).

The node drives ``engine`` (init_genesis, check_tx, apply_tx, apply_block)
over a ``state.State``; ``dispatch`` maps each tx kind to a
handler in its domain module (accounts, assets, kyc, arbiters, shops,
listings, orders, reviews/rewards, provenance, certificates). ``schema``
describes every body, ``codes`` every error, ``keys`` every state key.
Never touches disk, clock, network or randomness; imports only ``core``.
"""

from marketnode.core.namespace import require_namespace

require_namespace(__name__)
