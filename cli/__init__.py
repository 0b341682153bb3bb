"""cli: the ``marketnode`` command, thin over node/ and wallet/ (docs/ARCHITECTURE.md)."""

from marketnode.core.namespace import require_namespace

require_namespace(__name__)
