"""The application boundary the node drives (like ABCI): genesis, check, apply.

Ordering contract: for each committed block the node calls ``apply_block`` on
a fresh ``StateOverlay`` over its database, then stores the overlay's
``changes()`` and the state tree over them (core/smt.py, whose root is the
next header's ``state_root``) in one batch. Signatures are
verified by the caller, once, before any of these see a tx.
"""

from __future__ import annotations

from collections.abc import Sequence

from marketnode.core.encoding import decode
from marketnode.core.errors import RuleError
from marketnode.core.merkle import merkle_root
from marketnode.core.types import Tx
from marketnode.market import keys, roles, store
from marketnode.market.accounts import REWARD_POOL, balance, bump_nonce, move, next_nonce
from marketnode.market.assets import create_asset, in_units
from marketnode.market.authority import (
    Authority,
    allowance_left,
    balances,
    check_outflow,
    check_signers,
    spend_allowance,
)
from marketnode.market.codes import (
    BAD_NONCE,
    BAD_SIGNERS,
    CANNOT_PAY_FEE,
    FEE_TOO_LOW,
    OK,
    WRONG_CHAIN,
    require,
)
from marketnode.market.context import BlockContext, TxContext
from marketnode.market.dispatch import HANDLERS
from marketnode.market.genesis import Genesis
from marketnode.market.params import Params
from marketnode.market.receipts import Receipt
from marketnode.market.schema import validate_body
from marketnode.market.state import State, StateReader

_params_cache: dict[bytes, Params] = {}
MAX_MESSAGE_CHARS = 256  # failure messages can quote user input; receipts stay small and decodable


def init_genesis(state: State, genesis: Genesis) -> None:
    """Write block 0's state: meta, params, assets with supply, balances, pool, roles."""
    store.save(state, keys.CHAIN_ID, genesis.chain_id)
    store.save(state, keys.PARAMS, genesis.params.to_obj())
    store.save(state, keys.GENESIS_HASH, genesis.hash)
    supply = genesis.supply()
    native = genesis.params.native_asset
    if native not in {a.asset for a in genesis.assets}:
        create_asset(state, native, native, 0, None, None, supply[native])
    for a in genesis.assets:
        create_asset(state, a.asset, a.name, a.decimals, a.issuer, a.max_supply, supply[a.asset])
    for holder in genesis.accounts:
        for asset_id, amount in sorted(holder.balances.items()):
            store.save_int(state, keys.balance(holder.address, asset_id), amount)
    for asset_id, amount in sorted(genesis.reward_pool.items()):
        store.save_int(state, keys.balance(REWARD_POOL, asset_id), amount)
    for role, members in sorted(genesis.roles.items()):
        for member in members:
            roles.grant(state, role, member)


def load_params(state: StateReader) -> Params:
    """The chain's params from state (decoded once per distinct value)."""
    raw = state.get(keys.PARAMS)
    if raw is None:
        raise RuleError(WRONG_CHAIN, "state has no genesis")
    params = _params_cache.get(raw)
    if params is None:
        if len(_params_cache) > 16:
            _params_cache.clear()
        params = _params_cache[raw] = Params.from_obj(decode(raw))
    return params


def check_chain(tx: Tx, chain_id: str) -> None:
    """WRONG_CHAIN unless ``tx`` names ``chain_id`` (its signatures cover the name: docs/PROTOCOL.md)."""
    require(tx.chain_id == chain_id, WRONG_CHAIN, f"tx is for chain {tx.chain_id!r}, not {chain_id!r}")


def check_nonce(tx: Tx, expected: int, exact: bool) -> None:
    """BAD_NONCE unless ``tx.nonce`` is the sender's next nonce (``exact``) or, at admission, not below it."""
    nonce_ok = tx.nonce == expected if exact else tx.nonce >= expected
    require(nonce_ok, BAD_NONCE, f"nonce {tx.nonce}, the sender's next nonce is {expected}")


def _admit(state: StateReader, tx: Tx, chain_id: str, params: Params, exact_nonce: bool,
           expected_nonce: int | None = None) -> Authority:
    """The checks that decide whether a tx executes at all (and so pays its fee); returns the sender's authority.

    The signers are checked against the key set in ``state``: at admission
    that is the head, at execution the block's state so far, so a key rotated
    out in between is refused here (no fee, no nonce) rather than trusted.
    ``expected_nonce``: the sender's next nonce if the caller already read it
    from ``state`` (the mempool does, once per admission).
    """
    check_chain(tx, chain_id)
    auth = check_signers(state, tx, params)
    check_nonce(tx, next_nonce(state, tx.sender) if expected_nonce is None else expected_nonce, exact_nonce)
    native = params.native_asset
    floor = tx.fee_floor(params.min_fee)
    require(tx.fee >= floor, FEE_TOO_LOW,
            f"fee {in_units(state, native, tx.fee)} below the minimum {in_units(state, native, floor)} "
            f"({len(tx.signatures())} signatures)")
    have = balance(state, tx.sender, native)
    require(have >= tx.fee, CANNOT_PAY_FEE,
            f"fee {in_units(state, native, tx.fee)} but the balance is {in_units(state, native, have)}")
    return auth


def check_tx(state: StateReader, tx: Tx, params: Params, now_ms: int | None = None,
             next_nonce: int | None = None) -> None:
    """The chain rules at admission: raise RuleError unless the tx could execute and pay its fee.

    Checks chain id, signers, nonce >= next nonce, fee >= min and payable, kind,
    body schema; with ``now_ms`` (the head's block time) also that a fee
    paid by fewer than the threshold fits the account's one-key allowance.
    ``next_nonce``: the sender's next nonce in ``state`` when the caller has
    read it already, so admission reads it once. Does not verify the
    signatures (the caller does, once).
    """
    auth = _admit(state, tx, store.load(state, keys.CHAIN_ID), params, exact_nonce=False, expected_nonce=next_nonce)
    if now_ms is not None:
        left = allowance_left(state, auth, tx, params, now_ms)
        require(left is None or tx.fee <= left, BAD_SIGNERS,
                f"fee {tx.fee} exceeds what fewer than the threshold of keys may still spend this period ({left})")
    validate_body(tx.kind, tx.body)


def apply_tx(state: State, ctx: BlockContext, tx: Tx) -> Receipt:
    """Execute one tx whose signature the caller has verified.

    Refused up front (wrong chain, nonce, fee): no change, fee_paid 0. Otherwise
    the nonce is consumed and the fee paid to the block proposer, and the rule
    runs; if it fails, its writes are rolled back and the receipt carries the
    failure code.
    """
    params = load_params(state)
    try:
        auth = _admit(state, tx, ctx.chain_id, params, exact_nonce=True)
        left = allowance_left(state, auth, tx, params, ctx.timestamp_ms)
        require(left is None or tx.fee <= left, BAD_SIGNERS,
                f"fee {tx.fee} exceeds what fewer than the threshold of keys may still spend this period ({left})")
    except RuleError as exc:
        return Receipt(tx.hash, False, exc.code, exc.message[:MAX_MESSAGE_CHARS], 0)
    move(state, tx.sender, ctx.proposer, params.native_asset, tx.fee)
    bump_nonce(state, tx.sender, tx.nonce)
    if left is not None:
        spend_allowance(state, tx.sender, params, ctx.timestamp_ms, tx.fee)
    call = TxContext(state, ctx, params, tx.sender, tx.hash)
    try:
        _run_isolated(call, tx, None if left is None else left - tx.fee)
    except RuleError as exc:
        return Receipt(tx.hash, False, exc.code, exc.message[:MAX_MESSAGE_CHARS], tx.fee)
    return Receipt(tx.hash, True, OK, "", tx.fee, tuple(call.events))


def _run_isolated(call: TxContext, tx: Tx, limit: int | None = None) -> None:
    """Check the body and run the handler so that a RuleError leaves no write behind.

    ``limit``: the native amount the tx may move out of the sender (fewer
    than its threshold signed: what is left of the period's allowance after
    the fee, market/authority.py); more fails the tx.
    """
    state = call.state
    token = state.savepoint()
    try:
        _execute(call, tx, limit)
    except RuleError:
        state.rollback(token)
        raise
    state.release(token)


def _execute(call: TxContext, tx: Tx, limit: int | None) -> None:
    body = validate_body(tx.kind, tx.body)  # unknown kinds fail here
    if limit is None:
        HANDLERS[tx.kind](call, body)
        return
    before = balances(call.state, tx.sender)
    HANDLERS[tx.kind](call, body)
    lost = check_outflow(before, balances(call.state, tx.sender), call.params.native_asset, limit)
    spend_allowance(call.state, tx.sender, call.params, call.now_ms, lost)


def apply_block(state: State, ctx: BlockContext, txs: Sequence[Tx]) -> list[Receipt]:
    """Apply the block's txs in order; one receipt per tx, same order.

    Then store the Merkle root of the receipt hashes under
    ``keys.receipts_root(height)``: the next header's state root commits to
    it, so a wallet can check a tx's outcome (status, code, events) and not
    only its inclusion.
    """
    receipts = [apply_tx(state, ctx, tx) for tx in txs]
    store.save(state, keys.receipts_root(ctx.height), merkle_root([r.hash for r in receipts]))
    return receipts
