"""Every error code a market rule can return, in one place.

Codes are stable strings (they appear in receipts and RPC errors and are
documented in docs/MARKET.md); messages are for humans and may change.
"""

from __future__ import annotations

from typing import NoReturn

from marketnode.core.errors import RuleError

OK = "ok"

# Refused before execution: nothing changes, no nonce consumed, no fee paid.
WRONG_CHAIN = "wrong_chain"
BAD_NONCE = "bad_nonce"
FEE_TOO_LOW = "fee_too_low"
CANNOT_PAY_FEE = "cannot_pay_fee"
BAD_SIGNERS = "bad_signers"

# Failed during execution: nonce consumed, fee paid, other writes rolled back.
UNKNOWN_KIND = "unknown_kind"
BAD_BODY = "bad_body"
NOT_FOUND = "not_found"
NOT_AUTHORIZED = "not_authorized"
NOT_REGISTERED = "not_registered"
ALREADY_EXISTS = "already_exists"
INSUFFICIENT_FUNDS = "insufficient_funds"
AMOUNT_OVERFLOW = "amount_overflow"
KYC_REQUIRED = "kyc_required"
SHOP_CLOSED = "shop_closed"
LISTING_INACTIVE = "listing_inactive"
ASSET_NOT_ACCEPTED = "asset_not_accepted"
ARBITER_NOT_ACCEPTED = "arbiter_not_accepted"
OUT_OF_STOCK = "out_of_stock"
PRICE_CHANGED = "price_changed"
SELF_DEALING = "self_dealing"
BAD_TRANSITION = "bad_transition"
WINDOW_CLOSED = "window_closed"
TOO_EARLY = "too_early"
NO_ARBITER = "no_arbiter"
BAD_SPLIT = "bad_split"
DELIVERY_REQUIRED = "delivery_required"
ALREADY_REVIEWED = "already_reviewed"
RECORD_FINAL = "record_final"
PROPOSAL_STALE = "proposal_stale"
REVOKED = "revoked"
BAD_TERMS = "bad_terms"
NO_SUCH_VARIANT = "no_such_variant"
NO_SUCH_SHIPPING = "no_such_shipping"
REGION_NOT_SERVED = "region_not_served"
NO_OFFER = "no_offer"
NO_RETURNS = "no_returns"
BAD_COUPON = "bad_coupon"
MIXED_CART = "mixed_cart"
COUPON_INVALID = "coupon_invalid"
OWES_BUYERS = "owes_buyers"
# accounts' key sets and recovery (market/authority.py, market/recovery.py)
THRESHOLD_REQUIRED = "threshold_required"
BAD_KEY_SET = "bad_key_set"
BAD_GUARDIANS = "bad_guardians"
STALE_RECOVERY = "stale_recovery"

DESCRIPTIONS: dict[str, str] = {
    OK: "the tx succeeded",
    WRONG_CHAIN: "tx.chain_id is not this chain's id (tx not executed)",
    BAD_NONCE: "tx.nonce is not the sender's next nonce (tx not executed)",
    FEE_TOO_LOW: "tx.fee is below params.min_fee (tx not executed)",
    CANNOT_PAY_FEE: "the sender's native balance is below tx.fee (tx not executed)",
    BAD_SIGNERS: "the signing keys cannot act for the sender: a key outside its key set (e.g. rotated out), fewer "
                 "than its policy needs, a new key that did not sign, or more than params.max_tx_signers "
                 "(tx not executed)",
    UNKNOWN_KIND: "tx.kind names no market rule",
    BAD_BODY: "the body breaks the kind's schema (missing, unknown, mistyped or out-of-range field)",
    NOT_FOUND: "a referenced account, asset, shop, listing, order, record, proposal or certificate does not exist",
    NOT_AUTHORIZED: "the sender lacks the role or ownership this action needs",
    NOT_REGISTERED: "the sender (or a named account) has not sent `register`",
    ALREADY_EXISTS: "the thing to create exists already",
    INSUFFICIENT_FUNDS: "a balance is too low for the amount to move",
    AMOUNT_OVERFLOW: "an amount or a supply would exceed its cap or 2**64-1",
    KYC_REQUIRED: "the account's valid KYC level is below what params require",
    SHOP_CLOSED: "the shop is closed",
    LISTING_INACTIVE: "the listing was delisted",
    ASSET_NOT_ACCEPTED: "the shop does not accept this asset",
    ARBITER_NOT_ACCEPTED: "the arbiter is not accepted by the shop or is not active",
    OUT_OF_STOCK: "the listing's stock is below the quantity",
    PRICE_CHANGED: "the order's total exceeds the buyer's max_total",
    SELF_DEALING: "an account tried to trade with, review, invite or arbitrate for itself",
    BAD_TRANSITION: "the order or record is not in a state that allows this action",
    WINDOW_CLOSED: "the action's time window has passed (a timeout claim is now possible)",
    TOO_EARLY: "a timeout claim before the deadline",
    NO_ARBITER: "a dispute on an order placed without an arbiter",
    BAD_SPLIT: "the arbiter's split exceeds the escrow left after the arbiter fee",
    DELIVERY_REQUIRED: "a digital order shipped without the encrypted content key",
    ALREADY_REVIEWED: "the order was already reviewed, or the review already has a reply",
    RECORD_FINAL: "the provenance record was finalized",
    PROPOSAL_STALE: "the proposer no longer holds the role it offered",
    REVOKED: "the certificate was revoked",
    BAD_TERMS: "a listing's options, variants or shipping options contradict each other or its price and stock",
    NO_SUCH_VARIANT: "the order names no variant of a listing that has variants, an unknown one, or one of a "
                     "listing without variants",
    NO_SUCH_SHIPPING: "the order names no shipping option of a listing that has them, an unknown one, or one of "
                      "a listing without",
    REGION_NOT_SERVED: "the buyer's declared region is not one the listing (or the chosen shipping option) ships to",
    MIXED_CART: "a cart's listings are not all of one shop, one asset and one type (place separate orders)",
    BAD_COUPON: "a coupon must be either percent_bps or a fixed amount with its asset, and expire in the future",
    COUPON_INVALID: "the coupon is unknown to the listing's shop, revoked, expired, used up, or in another asset",
    NO_RETURNS: "the order's listing declared no return window (`return_window_ms` 0) when it was ordered",
    OWES_BUYERS: "the shop still owes buyers refunds for returns; its deposit cannot be withdrawn until they collect",
    NO_OFFER: "no refund offer from the other party is open on the order in its current state, or its amount "
              "differs",
    THRESHOLD_REQUIRED: "the tx moved more than the account lets fewer than its threshold of keys move "
                        "(its `above` limit, or any non-native asset); sign with the threshold",
    BAD_KEY_SET: "the key set would be invalid: no key or more than params.max_account_keys, a threshold of 0 or "
                 "above the key count or params.max_tx_signers, an unknown kind, or a key already in or not in the set",
    BAD_GUARDIANS: "the guardian set is invalid: more than params.max_guardians, a threshold of 0 or above their "
                   "count, or a delay below params.recovery_min_delay_ms",
    STALE_RECOVERY: "the recovery named is not the account's pending one (finished, vetoed, cancelled or another), "
                    "names another new key, or its approvals no longer meet the guardian threshold",
}


def fail(code: str, message: str) -> NoReturn:
    """Reject the tx with a documented ``code``."""
    raise RuleError(code, message)


def require(condition: bool, code: str, message: str) -> None:
    """Reject the tx with ``code`` unless ``condition`` holds."""
    if not condition:
        raise RuleError(code, message)
