"""docs/MARKET.md's reference sections match the code they are generated from."""

from __future__ import annotations

from market import docs
from market.codes import DESCRIPTIONS
from market.dispatch import HANDLERS
from market.schema import KINDS


def test_generated_sections_are_fresh() -> None:
    assert docs.main(["--check"]) == 0, "run: python -m market.docs"


def test_every_kind_has_a_handler_and_every_code_a_description() -> None:
    assert set(HANDLERS) == set(KINDS)
    import market.codes as codes

    defined = {v for k, v in vars(codes).items() if k.isupper() and isinstance(v, str)}
    assert defined == set(DESCRIPTIONS)
