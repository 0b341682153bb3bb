"""Refuse to run a source folder under its bare name.

The repository's folders are installed as ``marketnode.core``, ``marketnode.node``, …
(setup.py maps them). From the repository's root Python would also find ``core/`` as a
top-level ``core`` package: a second copy of every module, with its own globals, that
any other distribution's ``core`` could shadow. Each package's ``__init__`` calls
:func:`require_namespace` so that ``import core`` fails with a message saying what to write.
"""

from __future__ import annotations

NAMESPACE = "marketnode"


def require_namespace(module_name: str) -> None:
    """Raise ImportError unless ``module_name`` is under ``marketnode.``."""
    if not module_name.startswith(NAMESPACE + "."):
        raise ImportError(f"{module_name!r} is a marketnode source folder; import it as "
                          f"'{NAMESPACE}.{module_name}' (installed by `pip install -e .`)")
