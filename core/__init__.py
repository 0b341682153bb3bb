"""core: the primitives every other package builds on.

encoding (canonical msgpack) · hashing (domain-separated sha256) · keys
(ed25519, addresses) · merkle (roots, proofs) · types (Tx, Header, Block,
Vote, Certificate, Evidence) · errors (the project's exception tree).
Imports only the stdlib, msgpack and pynacl.
"""

from marketnode.core.namespace import require_namespace

require_namespace(__name__)

__version__ = "0.1.0"
