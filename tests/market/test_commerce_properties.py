"""Returns, deposits, refunds and variant stock under random play: no value is created or lost.

test_properties.py plays whole order lives at random, so few of them reach a
return; here every run starts from completed, returnable orders (one with a
variant and a shipping option), then plays return steps, deposits,
withdrawals, refund offers and time at random, checking the same invariants
after every block (supply, escrow, the after-sales account, claimability).
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from market_harness import Chain
from test_properties import _check_invariants, _return_step, _setup

from marketnode.market import keys, store
from marketnode.market.params import DAY_MS

op = st.one_of(
    *[st.tuples(st.just("return_step"), st.integers(0, 3), st.integers(0, 7))] * 4,
    st.tuples(st.just("aftersales"), st.sampled_from(["aftersales_deposit", "aftersales_withdraw"]),
              st.integers(1, 12_000), st.sampled_from(["alice", "carol"])),
    st.tuples(st.just("offer"), st.integers(0, 7), st.integers(0, 6_000)),
)
block = st.tuples(st.lists(op, min_size=1, max_size=5), st.sampled_from([0, 0, 0, DAY_MS, 4 * DAY_MS, 15 * DAY_MS]))


def _completed_orders(chain: Chain) -> None:
    """Three completed orders (alice's, carol's, carol's variant with shipping) and two still shipped."""
    for listing, terms in ((1, {}), (2, {}), (3, dict(variant="TEE-L", shipping="post", region="DE")),
                           (1, {}), (2, {})):
        order = chain.shipped(listing, seller="alice" if listing == 1 else "carol", **terms)
        if order <= 3:
            chain.ok("bob", "order_confirm", order=order)


def _action(chain: Chain, action: tuple[Any, ...]) -> tuple[str, str, dict[str, Any]]:
    kind, *args = action
    if kind == "return_step":
        return _return_step(chain, chain.state, args[0], args[1], store.load_int(chain.state, keys.counter("order")))
    if kind == "aftersales":
        name, amount, owner = args
        return owner, name, dict(shop=1 if owner == "alice" else 2, asset="USD", amount=amount)
    oid = 4 + args[0] % 2  # the shipped ones: offers, and the other side's acceptance
    offer = store.load(chain.state, keys.order(oid)).get("refund_offer")
    if offer and args[0] % 3:
        seller = "alice" if oid == 4 else "carol"
        accepter = seller if offer["by"] == chain.acct("bob") else "bob"
        return accepter, "order_refund_accept", dict(order=oid, buyer_amount=offer["buyer_amount"])
    return ("bob", "alice" if oid == 4 else "carol")[args[0] % 2], "order_refund_offer", dict(
        order=oid, buyer_amount=args[1])


@settings(max_examples=int(os.environ.get("MARKET_PROPERTY_EXAMPLES", "120")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(block, min_size=2, max_size=10))
def test_after_sales_money_adds_up_after_every_block(blocks: list[tuple[list[tuple[Any, ...]], int]]) -> None:
    chain = _setup()
    _completed_orders(chain)
    terminal_seen: dict[int, str] = {}
    _check_invariants(chain, terminal_seen)
    outcomes: set[str] = set()
    for actions, advance_ms in blocks:
        chain.advance(advance_ms)
        for action in actions:  # one tx per block: each reads the state the last one left
            who, kind, body = _action(chain, action)
            receipt = chain.block([chain.tx(who, kind, **body)])[0]
            outcomes.add(f"{kind}:{receipt.code}")
            _check_invariants(chain, terminal_seen)
    assert outcomes
