"""docs/ARCHITECTURE.md is current with the code, and nothing in the repository points outside it (issue 15.11).

The package table's "may import" column is checked against every module's real imports, so the map
cannot drift; README and docs links must resolve to files inside the repository.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGES = ("core", "market", "consensus", "p2p", "node", "wallet", "cli", "tools")
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"


def tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / line for line in out.splitlines() if line]


def declared_imports() -> dict[str, set[str]]:
    """package -> what ARCHITECTURE.md's table says it may import."""
    table = {}
    for row in re.findall(r"^\| `(\w+)/` \|.*\| ([^|]+) \|$", ARCHITECTURE.read_text(), re.M):
        name, allowed = row
        table[name] = {w.strip() for w in allowed.split(",") if w.strip() not in ("—", "")}
    return table


def real_imports(package: str) -> set[str]:
    """First- and third-party top-level modules ``package`` imports (stdlib left out)."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            for name in names:
                parts = name.split(".")
                top = parts[1] if parts[0] == "marketnode" and len(parts) > 1 else parts[0]
                if top != package and top not in sys.stdlib_module_names and top != "__future__":
                    found.add(top)
    return found


def test_the_readme_links_the_architecture_document():
    assert "(docs/ARCHITECTURE.md)" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_imports_only_what_the_architecture_says(package):
    declared = declared_imports()
    assert package in declared, f"docs/ARCHITECTURE.md has no row for {package}/"
    extra = real_imports(package) - declared[package]
    assert not extra, f"{package}/ imports {sorted(extra)}, which docs/ARCHITECTURE.md does not allow it"


def test_only_the_leveldb_module_imports_plyvel():
    users = [p for p in (ROOT / "node").rglob("*.py") if re.search(r"^\s*(import|from) plyvel", p.read_text(), re.M)]
    assert [p.relative_to(ROOT).as_posix() for p in users] == ["node/storage/level.py"]


def test_nothing_in_the_repository_points_outside_it():
    outside = re.compile(r"\.\./shared|/work/")
    offenders = [p.relative_to(ROOT).as_posix() for p in tracked_files()
                 if p.suffix in (".md", ".py", ".js", ".toml", ".html", ".sh", ".mjs") and "tests" not in p.parts
                 and p.exists() and outside.search(p.read_text(errors="replace"))]
    assert offenders == []


def test_every_relative_link_in_the_docs_resolves_inside_the_repository():
    broken = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # http:, mailto:
            resolved = (doc.parent / target).resolve()
            if not resolved.is_relative_to(ROOT.resolve()) or not resolved.exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert broken == []


@pytest.mark.parametrize("folder", PACKAGES)
def test_each_folder_is_importable_only_under_the_marketnode_namespace(folder, tmp_path):
    """From the repository's root a bare ``import core`` would find the folder: it must refuse, and say why."""
    bare = subprocess.run([sys.executable, "-c", f"import {folder}"], cwd=ROOT, capture_output=True, text=True)
    assert bare.returncode != 0 and f"marketnode.{folder}" in bare.stderr, bare.stderr
    named = subprocess.run([sys.executable, "-c", f"import marketnode.{folder}"], cwd=tmp_path, capture_output=True,
                           text=True)
    assert named.returncode == 0, named.stderr
