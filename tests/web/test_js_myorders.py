"""The "My orders" page's rules (myorders-rules.js) under Node.js: who each order waits on, from either side,
before and after its deadline; the shop sales sums in exact integers; and every text the page shows has its
zh-CN translation (issue 17.6; the catalogs themselves: test_js_i18n.py, which reads every module)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from marketnode.node.web import STATIC_DIR

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")

SCRIPT = """
const rules = await import(process.argv[1] + "/myorders-rules.js");
const input = JSON.parse(process.argv[2]);
const sales = rules.salesByShop(input.orders).map((r) => ({ ...r, sold: r.sold.toString(), escrow: r.escrow.toString() }));
console.log(JSON.stringify({
  waits: input.waits.map(([order, role, now]) => rules.waitingOn(order, role, now)),
  sales,
}));
"""


def run(waits: list, orders: list) -> dict:
    payload = json.dumps({"waits": waits, "orders": orders})
    out = subprocess.run(["node", "--input-type=module", "-e", SCRIPT, str(STATIC_DIR), payload],
                         capture_output=True, text=True, timeout=30, check=True, env={"LANG": "C"})
    return json.loads(out.stdout)


def test_who_each_order_waits_on_before_and_after_its_deadline():
    placed, shipped = {"status": "placed", "deadline_ms": 100}, {"status": "shipped", "deadline_ms": 100}
    disputed, done = {"status": "disputed", "deadline_ms": 100}, {"status": "completed", "deadline_ms": 0}
    waits = run([[placed, "seller", 50], [placed, "buyer", 50], [placed, "buyer", 100], [shipped, "buyer", 99],
                 [shipped, "seller", 100], [disputed, "buyer", 50], [disputed, "seller", 100], [done, "buyer", 5]],
                [])["waits"]
    assert waits[0] == {"who": "you", "action": "accept", "claim": False}
    assert waits[1] == {"who": "seller", "action": "accept", "claim": False}
    assert waits[2] == {"who": "you", "action": "claim", "claim": True}  # the seller never accepted
    assert waits[3]["who"] == "you" and waits[3]["action"] == "confirm"
    assert waits[4] == {"who": "you", "action": "claim", "claim": True}
    assert waits[5] == {"who": "arbiter", "action": "rule", "claim": False}
    assert waits[6]["who"] == "you" and waits[7] == {"who": None, "action": None, "claim": False}


def test_shop_sales_add_up_in_exact_integers_beyond_2_53():
    big = str(2**60 + 1)
    orders = [{"shop": 2, "asset": "USDX", "status": "completed", "total": big},
              {"shop": 2, "asset": "USDX", "status": "completed", "total": 3},
              {"shop": 2, "asset": "USDX", "status": "shipped", "total": 7},
              {"shop": 1, "asset": "MKT", "status": "cancelled", "total": 9}]
    sales = run([], orders)["sales"]
    assert sales == [{"shop": 1, "asset": "MKT", "orders": 1, "completed": 0, "sold": "0", "escrow": "0"},
                     {"shop": 2, "asset": "USDX", "orders": 3, "completed": 2, "sold": str(2**60 + 4), "escrow": "7"}]

