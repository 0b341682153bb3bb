"""The one exception tree for the whole project.

Every error marketnode raises on purpose derives from ``MarketnodeError``, so a
caller at an edge (RPC, p2p, CLI) can turn any of them into a clear message::

    MarketnodeError
    ├── DecodeError          bytes that are not a canonical encoding of the expected type
    ├── ValidationError      well-formed, but breaks a rule
    │   ├── SignatureError   a signature that does not verify
    │   └── RuleError        a marketplace rule refused a tx (carries a stable ``code``)
    ├── ConsensusError       a consensus message or certificate that is invalid
    ├── StorageError         the database is missing, corrupt or closed
    │   └── StorageCorruption the database is damaged: what it holds cannot be trusted
    ├── P2PError             a peer broke the wire protocol or the handshake
    ├── RpcError             a JSON-RPC call failed (carries a JSON-RPC ``code``)
    └── ConfigError          a config file, genesis or key file that cannot be used
"""

from __future__ import annotations


class MarketnodeError(Exception):
    """Root of every error marketnode raises on purpose."""


class DecodeError(MarketnodeError):
    """Input bytes are not the canonical encoding of the expected type."""


class ValidationError(MarketnodeError):
    """Input decoded fine but breaks a rule (size, range, chain id, ...)."""


class SignatureError(ValidationError):
    """A signature does not verify against the claimed key and message."""


class RuleError(ValidationError):
    """A marketplace rule rejected a transaction.

    ``code`` is stable and documented (docs/MARKET.md); the message is for humans.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class ConsensusError(MarketnodeError):
    """A consensus message, vote or certificate is invalid."""


class StorageError(MarketnodeError):
    """The database is missing, corrupt or closed."""


class StorageCorruption(StorageError):
    """The database is damaged (a checksum, a lost record, a chain that does not hold together).

    Never retried and never read around: the node reports itself unhealthy
    and the operator rebuilds the data directory (docs/OPERATIONS.md).
    """


class P2PError(MarketnodeError):
    """A peer broke the wire protocol or failed the handshake."""


class RpcError(MarketnodeError):
    """A JSON-RPC call failed; ``code`` is the JSON-RPC error code."""

    def __init__(self, code: int, message: str, data: object = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


class ConfigError(MarketnodeError):
    """A config, genesis or key file cannot be used."""
