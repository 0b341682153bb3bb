"""The web wallet's buy rules (buyrules.js) under Node.js: physical goods need an agreed address and a
region the listing ships to (issue 15.7)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from marketnode.node.web import STATIC_DIR

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

SCRIPT = """
const rules = await import(process.argv[1] + "/buyrules.js");
const cases = JSON.parse(process.argv[2]);
console.log(JSON.stringify(cases.map(([listing, answers]) => rules.deliveryProblem(listing, answers))));
"""


def problems(cases: list) -> list:
    out = subprocess.run(["node", "--input-type=module", "-e", SCRIPT, str(STATIC_DIR), json.dumps(cases)],
                         capture_output=True, text=True, timeout=30, check=True)
    return json.loads(out.stdout)


def test_physical_goods_need_an_address_and_a_region_it_ships_to():
    physical = {"type": "physical", "regions": ["DE", "FR"]}
    found = problems([
        [physical, {"region": "de", "addressAgreed": True}],
        [physical, {"region": "US", "addressAgreed": True}],
        [physical, {"region": "DE", "addressAgreed": False}],
        [{"type": "physical", "regions": []}, {"addressAgreed": True}],
        [{"type": "digital", "regions": ["DE"]}, {}],
    ])
    assert found[0] is None and found[3] is None and found[4] is None
    assert found[1] == "This listing ships to DE, FR only."
    assert "shipping address" in found[2]
