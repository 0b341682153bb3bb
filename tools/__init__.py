"""tools: benchmarks, testnet tooling and test behaviours; production code never imports them."""

from marketnode.core.namespace import require_namespace

require_namespace(__name__)
