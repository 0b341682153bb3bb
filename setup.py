"""Install the repository's top-level folders as one namespace, ``marketnode.*``.

The folders stay at the top of the repository (docs/ARCHITECTURE.md) but are
installed as ``marketnode.core``, ``marketnode.node``, …, so no other
distribution's ``core`` or ``wallet`` can shadow ours or be overwritten by it.
Everything else about the build lives in pyproject.toml; this file only lists
the packages, which pyproject.toml cannot derive under a mapped name.
"""

from setuptools import find_packages, setup

FOLDERS = ("core", "market", "consensus", "p2p", "node", "wallet", "cli", "tools")

setup(
    package_dir={f"marketnode.{folder}": folder for folder in FOLDERS},
    packages=[f"marketnode.{folder}{sub}" for folder in FOLDERS
              for sub in ["", *(f".{name}" for name in find_packages(folder))]],
)
