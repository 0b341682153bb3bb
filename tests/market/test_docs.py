"""docs/MARKET.md's reference sections match the code, and every declared rejection is tested."""

from __future__ import annotations

import re
from pathlib import Path

import marketnode.market.codes as codes
from marketnode.market import docs
from marketnode.market.dispatch import HANDLERS
from marketnode.market.schema import ERRORS, KINDS


def test_generated_sections_are_fresh() -> None:
    assert docs.main(["--check"]) == 0, "run: python -m marketnode.market.docs"


def test_every_kind_has_a_handler_and_every_code_a_description() -> None:
    assert set(HANDLERS) == set(KINDS) == set(ERRORS)
    defined = {v for k, v in vars(codes).items() if k.isupper() and isinstance(v, str)}
    assert defined == set(codes.DESCRIPTIONS)


def test_every_declared_rejection_of_every_kind_is_tested() -> None:
    """Each (kind, code) in schema.ERRORS appears in some ``chain.fails(codes.NAME, who, "kind", ...)``."""
    here = Path(__file__).parent
    source = "\n".join(p.read_text() for p in here.glob("test_*.py") if p.name != Path(__file__).name)
    found = re.findall(r'fails\(\s*codes\.(\w+),\s*[^,]+,\s*"(\w+)"', source)
    tested = {(kind, getattr(codes, name)) for name, kind in found}
    missing = sorted((kind, code) for kind, errors in ERRORS.items() for code in errors if (kind, code) not in tested)
    assert not missing, f"untested rejections: {missing}"
