"""The web wallet's listing-terms rules (termsrules.js) under Node.js: variant prices, regions served and the
order total match market/terms.py, in BigInt beyond 2^53 (the texts: test_js_i18n.py)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from marketnode.node.web import STATIC_DIR

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

SCRIPT = """
const rules = await import(process.argv[1] + "/termsrules.js");
const input = JSON.parse(process.argv[2]);
const show = (r) => ({ total: r.total === null ? null : r.total.toString(), problem: r.problem });
console.log(JSON.stringify({
  ships: input.ships.map(([declared, region]) => rules.shipsTo(declared, region)),
  totals: input.totals.map((args) => show(rules.orderTotal(input.listing, args))),
  options: rules.optionsFor(input.listing, "AT").map((o) => o.service),
  coupons: input.coupons.map(([goods, coupon, asset]) => {
    const r = rules.discounted(BigInt(goods), coupon, asset);
    return { goods: r.goods === null ? null : r.goods.toString(), problem: r.problem };
  }),
}));
"""

LISTING = {"price": str(2**60), "regions": ["DE", "AT"],
           "variants": [{"sku": "S", "price_delta": -5, "choice": ["S"]}, {"sku": "M", "price_delta": 0, "choice": ["M"]}],
           "shipping": [{"service": "DHL", "regions": ["DE"], "price": 7}, {"service": "Post", "regions": [], "price": 9}]}


def run(ships: list, totals: list, coupons: list = ()) -> dict:
    payload = json.dumps({"ships": ships, "totals": totals, "listing": LISTING, "coupons": list(coupons)})
    out = subprocess.run(["node", "--input-type=module", "-e", SCRIPT, str(STATIC_DIR), payload],
                         capture_output=True, text=True, timeout=30, check=True, env={"LANG": "C"})
    return json.loads(out.stdout)


def test_regions_variants_shipping_and_the_total_as_the_chain_computes_them():
    out = run([[[], "FR"], [["US"], "us-ca"], [["US-CA"], "US"], [["DE"], "DEX"]], [
        {"sku": "S", "service": "DHL", "region": "DE", "quantity": 2},
        {"sku": "M", "service": "Post", "region": "AT", "quantity": 1},
        {"sku": "X", "service": "DHL", "region": "DE", "quantity": 1},
        {"sku": "S", "service": None, "region": "DE", "quantity": 1},
        {"sku": "S", "service": "DHL", "region": "AT", "quantity": 1},
        {"sku": "S", "service": "Post", "region": "FR", "quantity": 1},
    ])
    assert out["ships"] == [True, True, False, False]
    assert out["totals"][0] == {"total": str((2**60 - 5) * 2 + 7), "problem": None}  # exact past 2^53
    assert out["totals"][1] == {"total": str(2**60 + 9), "problem": None}
    assert [t["problem"] for t in out["totals"][2:]] == ["variant", "shipping", "region", "region"]
    assert out["options"] == ["Post"]



def test_coupons_discount_as_the_chain_does():
    percent = {"valid": True, "percent_bps": 1250, "amount": None, "asset": None}
    fixed = {"valid": True, "percent_bps": None, "amount": 500, "asset": "USDX"}
    out = run([], [], [[999, percent, "USDX"], [str(2**60), percent, "USDX"], [300, fixed, "USDX"], [900, fixed, "USDX"],
                       [900, fixed, "MKT"], [900, {**percent, "valid": False}, "USDX"]])["coupons"]
    assert out[0]["goods"] == str(999 - 999 * 1250 // 10_000)  # the discount rounds down
    assert out[1]["goods"] == str(2**60 - 2**60 * 1250 // 10_000)
    assert [o["goods"] for o in out[2:4]] == ["0", "400"]
    assert [o["problem"] for o in out[4:]] == ["coupon-asset", "coupon"]
