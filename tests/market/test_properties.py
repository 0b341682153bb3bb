"""Random blocks of valid and invalid txs; the market's invariants hold after every block.

Invariants: supply conserved (only mint adds); escrow equals the open orders'
escrow; stock never negative; terminal orders never change; every open order
has a timeout someone can claim; the reward pool paid out less than the
platform fees charged, in each asset; replaying the blocks gives the same root.
"""

from __future__ import annotations

import os
from collections import defaultdict
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from market_harness import CHAIN_ID, POOL, Chain, make_genesis

from marketnode.core.encoding import decode
from marketnode.market import keys, store
from marketnode.market.accounts import ESCROW, REWARD_POOL, TREASURY
from marketnode.market.context import BlockContext
from marketnode.market.engine import apply_tx
from marketnode.market.orders import CLAIMANT, OPEN, TERMINAL
from marketnode.market.params import BPS, DAY_MS
from marketnode.market.returns import AFTERSALES
from marketnode.market.returns import CLAIMANT as RETURN_CLAIMANT
from marketnode.market.returns import TERMINAL as RETURN_TERMINAL
from marketnode.market.state import State, StateOverlay
from marketnode.market.store import index_ids

PEOPLE = ("alice", "bob", "carol", "arb")
ORDER_ACTIONS = ("order_accept", "order_decline", "order_cancel", "order_ship", "order_confirm",
                 "order_dispute", "order_claim")

person = st.sampled_from(PEOPLE)
order_id = st.integers(0, 7)  # an index into the orders placed so far
party = st.sampled_from(["proper"] * 5 + ["buyer", "seller", "arbiter", "carol"])  # mostly the right one
order_op = st.tuples(st.sampled_from(ORDER_ACTIONS), party, order_id)
step_op = st.tuples(st.just("step"), st.integers(0, 5), order_id)  # a natural next move of an order
NEXT = {  # six choices each, weighted towards the happy path
    "placed": ("order_accept",) * 4 + ("order_cancel", "order_decline"),
    "accepted": ("order_ship",) * 3 + ("order_dispute", "order_decline", "order_refund_offer"),
    "shipped": ("order_confirm",) * 4 + ("order_dispute", "order_refund_offer"),
    "disputed": ("order_resolve",) * 3 + ("order_claim",) * 2 + ("order_refund_offer",),
}
op = st.one_of(
    *[step_op] * 6,
    st.tuples(st.just("order_place"), st.sampled_from(["bob", "bob", "carol", "alice"]),
              st.sampled_from([1, 1, 2, 3, 3, 4]), st.integers(1, 3), st.sampled_from(["arb", "arb", None, "bob"]),
              st.sampled_from([None, None, "SAVE15", "FIVE", "USED"])),
    st.tuples(st.just("order_cart"), st.sampled_from(["bob", "bob", "alice", "carol"]), st.integers(1, 2),
              st.sampled_from(["TEE-S", "TEE-L"]), st.sampled_from([None, None, "FIVE"])),
    st.tuples(st.just("order_refund_offer"), party, order_id, st.integers(0, 12_000)),
    *[st.tuples(st.just("return_step"), st.integers(0, 5), order_id)] * 2,
    st.tuples(st.just("aftersales"), st.sampled_from(["aftersales_deposit", "aftersales_withdraw"]),
              st.integers(1, 15_000)),
    st.tuples(st.just("order_refund_accept"), party, order_id),
    *[order_op] * 2,
    st.tuples(st.just("order_resolve"), party, order_id, st.integers(0, 300)),
    st.tuples(st.just("transfer"), person, person, st.sampled_from(["USD", "MKT", "EUR"]), st.integers(1, 2_000)),
    st.tuples(st.just("listing_update"), st.sampled_from(["alice", "carol"]), st.integers(1, 2), st.integers(0, 5)),
    st.tuples(st.just("asset_mint"), st.sampled_from(["issuer", "alice"]), st.integers(1, 500)),
    st.tuples(st.just("review"), party, order_id),
    st.tuples(st.just("bad_nonce"), person),
)
block = st.tuples(st.lists(op, min_size=1, max_size=6), st.sampled_from([0] * 6 + [60_000, 3_600_000, DAY_MS, 3 * DAY_MS, 8 * DAY_MS, 15 * DAY_MS]))


REFUND_ACTIONS = ("order_refund_offer", "order_refund_accept")
PROPER = {"order_accept": "seller", "order_decline": "seller", "order_ship": "seller", "order_cancel": "buyer",
          "order_confirm": "buyer", "order_dispute": "buyer", "order_resolve": "arbiter", "review": "buyer"}


def _actor(chain: Chain, state: State, kind: str, role: str, oid: int) -> str:
    """Turn a role ("proper": the one the action needs) into the name of that party on order ``oid``."""
    order = store.load(state, keys.order(oid))
    if order is None:
        return "alice"
    if role == "proper" and kind == "order_refund_accept":  # the side that did not make the offer
        offer_by = (order.get("refund_offer") or {}).get("by")
        role = "seller" if offer_by == order["buyer"] else "buyer"
    if role == "proper":
        role = PROPER.get(kind) or CLAIMANT.get(order["status"], "buyer")
        role = "buyer" if role == "buyer or seller" else role
    if role not in ("buyer", "seller", "arbiter") or order[role] is None:
        return "carol"
    return next(n for n in chain.keys if chain.acct(n) == order[role])


def _body(chain: Chain, state: State, action: tuple[Any, ...]) -> tuple[str, str, dict[str, Any]]:
    """Resolve an action against ``state`` (which already holds the block's earlier txs)."""
    kind, who, *args = action
    placed = store.load_int(state, keys.counter("order"))
    if kind == "step" and placed:
        open_ids = [i for i in range(1, placed + 1) if store.load(state, keys.order(i))["status"] in OPEN]
        oid = open_ids[args[0] % len(open_ids)] if open_ids else 1 + args[0] % placed  # move live orders on
        order = store.load(state, keys.order(oid))
        status, offer = order["status"], order.get("refund_offer") or {}
        kind = NEXT.get(status, ("review",) * 6)[who]
        if offer.get("status") == status and who % 2 == 0:  # an open offer: the other side takes it, mostly
            kind = "order_refund_accept"
        who, args = "proper", [args[0], 50]
    if kind in (*ORDER_ACTIONS, *REFUND_ACTIONS, "order_resolve", "review", "step") and not placed:
        kind, who, args = "order_place", "bob", [1 + args[0] % 2, 1, "arb"]  # nothing to act on yet
    if kind in (*ORDER_ACTIONS, *REFUND_ACTIONS, "order_resolve", "review"):
        args[0] = 1 + args[0] % placed
        who = _actor(chain, state, kind, who, args[0])
    if kind == "order_place":
        listing, quantity, arbiter, *coupon = args
        terms = dict(variant=("TEE-S", "TEE-L")[quantity % 2], shipping="post", region="DE") if listing == 3 else {}
        return who, kind, dict(listing=listing, quantity=quantity, max_total=10**6, address_seller=b"a",
                               arbiter=chain.acct(arbiter) if arbiter else None, coupon=(coupon or [None])[0],
                               **terms)
    if kind == "order_cart":  # carol's plain listing and her tee in one order
        quantity, variant, coupon = args
        items = [{"listing": 2, "quantity": quantity, "variant": ""}, {"listing": 3, "quantity": 1, "variant": variant}]
        return who, kind, dict(items=items, max_total=10**6, address_seller=b"a", arbiter=chain.acct("arb"),
                               shipping="post", region="DE", coupon=coupon)
    if kind == "return_step":
        return _return_step(chain, state, who, args[0], placed)
    if kind == "aftersales":
        return "alice", who, dict(shop=1, asset="USD", amount=args[0])
    if kind == "order_refund_offer":
        return who, kind, dict(order=args[0], buyer_amount=args[1])
    if kind == "order_refund_accept":
        offer = store.load(state, keys.order(args[0])).get("refund_offer") or {}
        return who, kind, dict(order=args[0], buyer_amount=offer.get("buyer_amount", 0))
    if kind in ORDER_ACTIONS:
        extra = {"reason_hash": bytes(32)} if kind == "order_dispute" else {}
        return who, kind, dict(order=args[0], **extra)
    if kind == "order_resolve":
        return who, kind, dict(order=args[0], buyer_amount=args[1])
    if kind == "transfer":
        return who, kind, dict(to=chain.acct(args[0]), asset=args[1], amount=args[2])
    if kind == "listing_update":
        return who, kind, dict(listing=args[0], stock=args[1])
    if kind == "asset_mint":
        return who, kind, dict(asset="USD", to=chain.acct("bob"), amount=args[0])
    if kind == "review":
        ratings = dict(overall=5, quality=5, accuracy=5, delivery=5, service=5)
        return who, kind, dict(order=args[0], ratings=ratings, text_hash=bytes(32))
    return who, "transfer", dict(to=chain.acct("bob"), asset="MKT", amount=1)


RETURN_NEXT = {  # by return status: the natural next step, and who takes it
    "requested": (("return_answer", "seller", {"accept": True}),) * 2 + (("return_answer", "seller", {"accept": False}),
                                                                          ("return_claim", "buyer", {})),
    "disputed": (("return_resolve", "arbiter", {"accept": True}), ("return_resolve", "arbiter", {"accept": False}),
                 ("return_claim", "buyer", {}), ("return_claim", "seller", {})),
    "accepted": (("return_ship", "buyer", {"tracking_hash": b"t"}),) * 3 + (("return_claim", "seller", {}),),
    "returning": (("return_receive", "seller", {}),) * 3 + (("return_claim", "buyer", {}),),
    "owed": (("return_collect", "buyer", {}),) * 4,
}


def _return_step(chain: Chain, state: State, choice: int, index: int, placed: int) -> tuple[str, str, dict[str, Any]]:
    """Request a return of a completed order, or take the next step of one under way."""
    if not placed:
        return "bob", "transfer", dict(to=chain.acct("alice"), asset="MKT", amount=1)
    orders = {oid: store.load(state, keys.order(oid)) for oid in range(1, placed + 1)}
    completed = [oid for oid, order in orders.items() if order["status"] == "completed"]  # the returnable ones
    if not completed:  # push an order along towards completion instead
        return _body(chain, state, ("step", choice, index))
    oid = completed[index % len(completed)]
    order = orders[oid]
    record = store.load(state, keys.order_return(oid))
    if record is None:
        return _name(chain, order["buyer"]), "return_request", dict(order=oid, reason_hash=bytes(32))
    kind, role, body = RETURN_NEXT.get(record["status"], (("return_claim", "buyer", {}),) * 4)[choice % 4]
    who = record[role] if record[role] is not None else chain.acct("carol")
    return _name(chain, who), kind, dict(order=oid, **body)


def _name(chain: Chain, account: bytes) -> str:
    return next(n for n in chain.keys if chain.acct(n) == account)


def _setup() -> Chain:
    chain = Chain(make_genesis(review_reward=10**6, referral_reward=10**6))  # only the fee rebate bounds rewards
    chain.arbiter("arb")
    chain.register("alice", "carol")
    chain.ok("bob", "register", name="Bob", commitment=bytes(32), inviter=chain.acct("carol"))  # referrals too
    for seller in ("alice", "carol"):  # prices above reward_min_total, so orders earn rewards
        chain.listing(seller, chain.shop(seller), stock=3, price=10_000 if seller == "alice" else 7_000)
    chain.listing("carol", 2, stock=5, price=5_000, options=[{"name": "size", "values": ["S", "L"]}],
                  variants=[{"sku": "TEE-S", "choice": ["S"], "price_delta": -1_000, "stock": 2},
                            {"sku": "TEE-L", "choice": ["L"], "price_delta": 500, "stock": 3}],
                  shipping=[{"service": "post", "regions": ["DE"], "price": 450, "min_days": 1, "max_days": 3}],
                  return_window_ms=10 * DAY_MS)
    chain.ok("alice", "listing_update", listing=1, return_window_ms=5 * DAY_MS)
    chain.ok("carol", "listing_update", listing=2, return_window_ms=20 * DAY_MS)
    chain.ok("alice", "aftersales_deposit", shop=1, asset="USD", amount=6_000)  # less than one refund
    chain.ok("carol", "aftersales_deposit", shop=2, asset="USD", amount=3_000)
    far = chain.now_ms + 30 * DAY_MS
    chain.ok("alice", "coupon_issue", shop=1, coupon="SAVE15", percent_bps=1_500, max_uses=4, expires_ms=far)
    chain.ok("carol", "coupon_issue", shop=2, coupon="FIVE", amount=5_001, asset="USD", max_uses=3, expires_ms=far)
    chain.ok("carol", "coupon_issue", shop=2, coupon="USED", percent_bps=10_000, max_uses=1, expires_ms=far)
    return chain


def _orders(chain: Chain) -> dict[int, dict[str, Any]]:
    return {int.from_bytes(k[-8:], "big"): store.load(chain.state, k) for k, _ in chain.state.iterate(keys.ORDER_PREFIX)}


def _check_invariants(chain: Chain, terminal_seen: dict[int, str]) -> None:
    state = chain.state
    held: dict[str, int] = defaultdict(int)
    for key, raw in state.iterate(keys.BALANCE_PREFIX):
        asset = key[len(keys.BALANCE_PREFIX) + 32 + 1:].decode()
        held[asset] += decode(raw)
    for key, _ in state.iterate(keys.ASSET_PREFIX):
        asset = key[len(keys.ASSET_PREFIX) + 1:].decode()
        assert held.pop(asset, 0) == store.load(state, key)["supply"], f"supply of {asset} not conserved"
    assert not held, f"balances of unknown assets {held}"

    escrow: dict[str, int] = defaultdict(int)
    orders = _orders(chain)
    for oid, order in orders.items():
        status = order["status"]
        if oid in terminal_seen:
            assert status == terminal_seen[oid], f"order {oid} left terminal state {terminal_seen[oid]}"
        if status in TERMINAL:
            terminal_seen[oid] = status
            continue
        assert status in OPEN
        escrow[order["asset"]] += order["total"]
        assert state.get(keys.orders_by_status(status, oid)) is not None
        _assert_claimable(chain, oid, order)
    for status in OPEN:
        for oid in index_ids(state, keys.orders_by_status(status)):
            assert orders[oid]["status"] == status, f"order {oid} indexed as {status}"
    for asset in ("USD", "MKT"):
        assert chain.balance(ESCROW, asset) == escrow[asset], f"escrow of {asset} != open orders"
    _check_aftersales(chain)
    for key, raw in state.iterate(b"coupon/"):
        coupon = decode(raw)
        assert 0 <= coupon["used"] <= coupon["max_uses"], f"coupon {key!r} used beyond its limit"

    for _, raw in state.iterate(keys.STOCK_PREFIX):
        assert decode(raw) >= 0, "negative stock"
    for key, _ in state.iterate(keys.LISTING_PREFIX):
        variants = store.load(state, key).get("variants") or []
        if variants:
            listing_id = int.from_bytes(key[-8:], "big")
            held_units = sum(store.load_int(state, keys.variant_stock(listing_id, v["sku"])) for v in variants)
            assert held_units == store.load_int(state, keys.stock(listing_id)), "stock is not the variants' sum"

    params = chain.genesis.params
    share = params.review_reward_fee_bps + params.referral_reward_fee_bps
    for asset in ("USD", "MKT"):  # the treasury holds only platform fees; rewards are paid in the fee's asset
        paid_out, fees = POOL - chain.balance(REWARD_POOL, asset), chain.balance(TREASURY, asset)
        assert paid_out * BPS <= fees * share, f"{asset} rewards {paid_out} exceed {share} bps of the fees {fees}"


def _check_aftersales(chain: Chain) -> None:
    """The AFTERSALES account holds exactly the free deposits plus the open returns' holds; debts add up."""
    state = chain.state
    holds: dict[str, int] = defaultdict(int)
    owed: dict[tuple[int, str], int] = defaultdict(int)
    for key, raw in state.iterate(keys.RETURN_PREFIX):
        record, oid = decode(raw), int.from_bytes(key[-8:], "big")
        assert record["paid"] + record["held"] + record["owed"] <= record["refund"]
        if record["status"] in RETURN_TERMINAL:
            assert record["held"] == 0 and record["owed"] == 0
        holds[record["asset"]] += record["held"]
        owed[(record["shop"], record["asset"])] += record["owed"]
        if record["status"] in RETURN_CLAIMANT:  # at its deadline, the table's claimant can settle it
            claimant = _name(chain, record[RETURN_CLAIMANT[record["status"]]])
            ctx = BlockContext(CHAIN_ID, chain.height + 1, record["deadline_ms"], chain.acct("proposer"))
            receipt = apply_tx(StateOverlay(state), ctx, chain.tx(claimant, "return_claim", order=oid))
            assert receipt.ok, f"return {oid} ({record['status']}) not claimable: {receipt.message}"
    for asset in ("USD", "MKT"):
        free = sum(store.load_int(state, keys.aftersales_deposit(shop, asset)) for shop in (1, 2))
        assert chain.balance(AFTERSALES, asset) == free + holds[asset], f"after-sales {asset} does not add up"
        for shop in (1, 2):
            assert store.load_int(state, keys.aftersales_owed(shop, asset)) == owed[(shop, asset)]


def _assert_claimable(chain: Chain, oid: int, order: dict[str, Any]) -> None:
    """At the deadline, the state's claimant can settle it (tried on a throwaway overlay)."""
    claimant = order["seller"] if CLAIMANT[order["status"]] == "seller" else order["buyer"]
    name = next(n for n in chain.keys if chain.acct(n) == claimant)
    scratch = StateOverlay(chain.state)
    ctx = BlockContext(CHAIN_ID, chain.height + 1, order["deadline_ms"], chain.acct("proposer"))
    receipt = apply_tx(scratch, ctx, chain.tx(name, "order_claim", order=oid))
    assert receipt.ok, f"order {oid} ({order['status']}) not claimable: {receipt.code} {receipt.message}"


@settings(max_examples=int(os.environ.get("MARKET_PROPERTY_EXAMPLES", "120")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(block, min_size=3, max_size=12))
def test_invariants_hold_after_every_block(blocks: list[tuple[list[tuple[Any, ...]], int]]) -> None:
    chain = _setup()
    preamble = len(chain.blocks)
    terminal_seen: dict[int, str] = {}
    for actions, advance_ms in blocks:
        chain.advance(advance_ms)
        scratch = StateOverlay(chain.state)  # the block as built so far, to aim txs at fresh orders
        ctx = BlockContext(CHAIN_ID, chain.height + 1, chain.now_ms, chain.acct("proposer"))
        txs = []
        for action in actions:
            who, kind, body = _body(chain, scratch, action)
            nonce = store.load_int(scratch, keys.nonce(chain.acct(who)))
            txs.append(chain.tx(who, kind, nonce=nonce + 5 if action[0] == "bad_nonce" else nonce, **body))
            apply_tx(scratch, ctx, txs[-1])
        receipts = chain.block(txs)
        assert len(receipts) == len(txs)
        _check_invariants(chain, terminal_seen)

    replay = Chain(chain.genesis)
    for ctx, txs in chain.blocks:
        replay.now_ms = ctx.timestamp_ms
        replay.block(txs)
    assert replay.root == chain.root and replay.state.items() == chain.state.items()
    assert len(chain.blocks) > preamble
