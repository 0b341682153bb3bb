"""cli: the ``marketnode`` command, thin over node/ and wallet/ (docs/ARCHITECTURE.md)."""
