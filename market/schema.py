"""The body schema of every tx kind: the one machine-readable source.

Handlers, docs/MARKET.md (``markdown()``) and wallet builders all derive from
``KINDS``. ``validate_body`` is the only place a body is checked for shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marketnode.core.keys import PUBKEY_SIZE
from marketnode.core.types import MAX_TX_SIGS
from marketnode.market import codes as c
from marketnode.market import coupons, terms
from marketnode.market.codes import BAD_BODY, UNKNOWN_KIND, fail
from marketnode.market.fields import (
    ACCOUNT,
    AMOUNT,
    ASSET,
    BPS,
    DESCRIPTION,
    HASH,
    ID,
    INT_DELTA,
    LABEL,
    NAME,
    RECORD_ID,
    REGION,
    Field,
    Flag,
    ListOf,
    MapOf,
    OneOf,
    Raw,
    Records,
    Scalar,
    Struct,
    Text,
    UInt,
)
from marketnode.market.params import MAX_WINDOW_MS

LISTING_TYPES = ("physical", "digital", "service")
RECORD_ROLES = ("owner", "custodian", "reporter")
RATINGS = ("overall", "quality", "accuracy", "delivery", "service")
MAX_STOCK = terms.MAX_STOCK
MAX_SEALED = 1024
MAX_CART_LINES = 20
MAX_DAYS = 365
SKU = Text(32, 1, r"[A-Za-z0-9][A-Za-z0-9._-]{0,31}")
SERVICE = Text(64, 1)
CHOICE = Text(32, 1)
COUPON_CODE = Text(16, 1, r"[A-Z0-9][A-Z0-9-]{0,15}")
MAX_TIME_MS = 2**53 - 1  # a block time JavaScript holds exactly
KEY = Raw(PUBKEY_SIZE, PUBKEY_SIZE)  # an ed25519 public key in an account's key set
KIND_NAME = Text(32, 1, r"[a-z][a-z_]{0,31}")


@dataclass(frozen=True)
class KindSpec:
    """A tx kind: who may send it and what its body holds (its failure codes: ``ERRORS``)."""

    name: str
    summary: str
    fields: tuple[Field, ...]


def _kind(name: str, summary: str, *fields: Field) -> KindSpec:
    return KindSpec(name, summary, fields)


def _opt(name: str, kind: Any, doc: str) -> Field:
    return Field(name, kind, doc, optional=True)


ORDER = Field("order", ID, "order id (from the `order_placed` event)")
LISTING = Field("listing", ID, "listing id")
SHOP = Field("shop", ID, "shop id")
RECORD = Field("record", RECORD_ID, "provenance record id")
CERTIFICATE = Field("certificate", ID, "certificate id")

_SHOP_FIELDS = (
    ("name", NAME, "shop name"),
    ("description", DESCRIPTION, "free text"),
    ("region", REGION, "ISO 3166 country or subdivision, e.g. `DE` or `US-CA`"),
    ("accepted_assets", ListOf(ASSET, 8), "assets the shop's listings may be priced in (at least one)"),
    ("arbiters", ListOf(ACCOUNT, 16), "arbiters buyers may choose for this shop's orders"),
)
_LISTING_FIELDS = (
    ("title", Text(128, 1), "title"),
    ("description", DESCRIPTION, "free text"),
    ("category", LABEL, "category label, e.g. `art`"),
    ("tags", ListOf(LABEL, 10), "search tags"),
    ("price", AMOUNT, "unit price in the smallest unit of `asset`"),
    ("asset", ASSET, "asset of the price; the shop must accept it"),
    ("stock", UInt(0, MAX_STOCK), "units available (reserved by orders when placed)"),
    ("regions", ListOf(REGION, 32), "regions shipped to (empty: anywhere / not applicable)"),
    ("images", ListOf(HASH, 10), "sha256 content hashes of the images"),
)
_LISTING_LINKS = (
    ("record", RECORD_ID, "provenance record of the item"),
    ("certificate", ID, "authenticity certificate of the item"),
)
_LISTING_TERMS = (
    ("options", Records(Struct((("name", CHOICE), ("values", ListOf(CHOICE, 16)))), 3, key="name"),
     "what a buyer chooses, e.g. `{name: size, values: [S, M, L]}` (at most 3 options of 16 values)"),
    ("variants", Records(Struct((("sku", SKU), ("choice", ListOf(CHOICE, 3, distinct=False)),
                                 ("price_delta", INT_DELTA), ("stock", UInt(0, MAX_STOCK)))), 64, key="sku"),
     "one per sold combination: `choice` is one value per option in order, unit price = `price` + `price_delta` "
     "(≥ 1), own stock (the listing's `stock` must be their sum); orders name one by `sku`"),
    ("shipping", Records(Struct((("service", SERVICE), ("regions", ListOf(REGION, 32)), ("price", UInt()),
                                 ("min_days", UInt(0, MAX_DAYS)), ("max_days", UInt(0, MAX_DAYS)))), 16,
                         key="service"),
     "shipping options: service, regions served (empty: wherever the listing ships), price per order, "
     "delivery window in days; with any, an order must choose one"),
    ("return_window_ms", UInt(0, MAX_WINDOW_MS), "how long after completion the buyer may ask to return the "
     "goods (0 or absent: no returns); fixed into each order when placed"),
)

KINDS: dict[str, KindSpec] = {
    spec.name: spec
    for spec in (
        _kind("register", "sender registers a display name once; private data only as a salted hash",
              Field("name", NAME, "display name"),
              Field("commitment", HASH, "sha256(salt ‖ canonical msgpack of the private data map, text → text), "
                    "salt 16 random bytes the account keeps (wallet/builders.commitment)"),
              _opt("inviter", ACCOUNT, "registered account that referred the sender")),
        _kind("transfer", "sender moves an amount of an asset to another account",
              Field("to", ACCOUNT, "recipient"),
              Field("asset", ASSET, "asset id"),
              Field("amount", AMOUNT, "amount in the smallest unit"),
              _opt("memo", Text(256), "free text")),
        # account key sets and guardian recovery (market/authority.py, market/recovery.py)
        _kind("account_rotate", "the account replaces one of its keys; address, balances, shop and reputation stay "
              "(signed by its threshold and by the new key)",
              Field("new_key", KEY, "the key that takes the old one's place"),
              _opt("old_key", KEY, "the key to replace (default: the only key)")),
        _kind("account_set_authority", "the account sets its key set and when a tx needs `threshold` of them "
              "(signed by its current threshold and by every new key)",
              Field("keys", ListOf(KEY, MAX_TX_SIGS), "the key set (≤ params.max_account_keys)"),
              Field("threshold", UInt(1, MAX_TX_SIGS), "how many keys a guarded tx needs"),
              _opt("kinds", ListOf(KIND_NAME, 64), "kinds that need the threshold (with `above` absent too: all)"),
              _opt("above", UInt(), "native amount (fees included) fewer keys may move out per "
                   "params.single_key_period_ms; more, or any other asset, needs the threshold")),
        _kind("account_set_guardians", "the account names guardians, k of whom can recover it after `delay_ms`; "
              "empty: none (cancels a pending recovery)",
              Field("guardians", ListOf(ACCOUNT, 64), "guardian accounts (≤ params.max_guardians)"),
              Field("threshold", UInt(0, 64), "approvals a recovery needs (0 with no guardians)"),
              Field("delay_ms", UInt(0, MAX_WINDOW_MS), "veto time after the k-th approval "
                    "(≥ params.recovery_min_delay_ms)")),
        _kind("recovery_start", "a guardian proposes moving the account to a new key and approves it",
              Field("account", ACCOUNT, "the account to recover"),
              Field("new_key", KEY, "the key the account's owner now holds")),
        _kind("recovery_approve", "another guardian approves the pending recovery",
              Field("account", ACCOUNT, "the account"),
              Field("recovery", ID, "recovery id (from `recovery_started`)"),
              Field("new_key", KEY, "must match the pending recovery's key")),
        _kind("recovery_veto", "the account (its full threshold) stops its pending recovery",
              Field("recovery", ID, "recovery id")),
        _kind("recovery_finish", "anyone, at or after the deadline, installs the new key (or expires a stalled one)",
              Field("account", ACCOUNT, "the account"),
              Field("recovery", ID, "recovery id")),
        _kind("asset_issue", "an `asset_issuer` creates a new asset and becomes its issuer",
              Field("asset", ASSET, "new asset id"),
              Field("name", NAME, "human name"),
              Field("decimals", UInt(0, 18), "display decimals"),
              _opt("max_supply", AMOUNT, "cap on total supply (none: 2^64-1)")),
        _kind("asset_mint", "the asset's issuer creates new units",
              Field("asset", ASSET, "asset id"),
              Field("to", ACCOUNT, "recipient"),
              Field("amount", AMOUNT, "amount to create")),
        _kind("kyc_attest", "a `kyc_attester` sets an account's KYC level and expiry",
              Field("account", ACCOUNT, "attested account"),
              Field("level", UInt(1, 3), "1 basic, 2 verified identity, 3 enhanced"),
              Field("expires_ms", UInt(1), "block time at which the attestation lapses")),
        _kind("kyc_revoke", "a `kyc_attester` removes an account's KYC attestation",
              Field("account", ACCOUNT, "account")),
        _kind("arbiter_register", "a registered account offers arbitration",
              Field("fee_fixed", UInt(), "fixed fee, in units of the disputed order's asset"),
              Field("fee_bps", BPS, "fee share of the escrow in basis points (≤ params.max_arbiter_fee_bps)"),
              Field("description", DESCRIPTION, "languages, expertise, terms")),
        _kind("arbiter_update", "an arbiter changes its terms or (de)activates itself; absent fields are unchanged",
              _opt("fee_fixed", UInt(), "fixed fee"),
              _opt("fee_bps", BPS, "fee share in basis points"),
              _opt("description", DESCRIPTION, "terms"),
              _opt("active", Flag(), "false: no new orders may name this arbiter")),
        _kind("shop_create", "a registered account opens a shop and owns it",
              *(Field(n, k, d) for n, k, d in _SHOP_FIELDS)),
        _kind("shop_update", "the owner changes the shop; absent fields are unchanged",
              SHOP, *(_opt(n, k, d) for n, k, d in _SHOP_FIELDS)),
        _kind("shop_close", "the owner closes the shop: no new listings or orders, open orders continue", SHOP),
        _kind("listing_create", "the shop owner lists goods",
              SHOP,
              Field("type", OneOf(LISTING_TYPES), "what is sold; `digital` orders ship an encrypted content key"),
              *(Field(n, k, d) for n, k, d in _LISTING_FIELDS),
              *(_opt(n, k, d) for n, k, d in _LISTING_LINKS + _LISTING_TERMS)),
        _kind("listing_update", "the seller changes the listing; absent fields are unchanged",
              LISTING, *(_opt(n, k, d) for n, k, d in _LISTING_FIELDS + _LISTING_LINKS + _LISTING_TERMS)),
        _kind("listing_delist", "the seller withdraws the listing; open orders continue", LISTING),
        _kind("order_place", "a registered buyer orders; the total moves into escrow and stock is reserved",
              LISTING,
              Field("quantity", UInt(1, MAX_STOCK), "units"),
              Field("max_total", AMOUNT, "refuse if price * quantity exceeds this (price changed in flight)"),
              _opt("arbiter", ACCOUNT, "an active arbiter the shop accepts (none: no disputes possible)"),
              Field("address_seller", Raw(MAX_SEALED), "shipping address sealed to the seller (may be empty)"),
              _opt("address_arbiter", Raw(MAX_SEALED), "shipping address sealed to the arbiter"),
              _opt("variant", SKU, "the variant's `sku` (required when the listing has variants)"),
              _opt("shipping", SERVICE, "the shipping option's `service` (required when the listing has any); "
                   "its price is added to the total once"),
              _opt("region", REGION, "where the sealed address is, checked against the listing's and the shipping "
                   "option's regions (required with `shipping`)"),
              _opt("coupon", COUPON_CODE, "a coupon of the listing's shop, applied to the goods (not shipping)")),
        _kind("order_cart", "a registered buyer orders several listings of one shop at once: one order, one escrow "
              "(the lines ship, confirm and settle together)",
              Field("items", ListOf(Struct((("listing", ID), ("quantity", UInt(1, MAX_STOCK)),
                                            ("variant", Text(32, 0, r"([A-Za-z0-9][A-Za-z0-9._-]{0,31})?")))),
                                    MAX_CART_LINES, distinct=False),
                    f"1..{MAX_CART_LINES} lines `{{listing, quantity, variant}}` (`variant` \"\" when the listing has "
                    "none), each listing and variant once, all of one shop, asset and type"),
              Field("max_total", AMOUNT, "refuse if the cart's total exceeds this"),
              _opt("arbiter", ACCOUNT, "an active arbiter the shop accepts (none: no disputes possible)"),
              Field("address_seller", Raw(MAX_SEALED), "shipping address sealed to the seller (may be empty)"),
              _opt("address_arbiter", Raw(MAX_SEALED), "shipping address sealed to the arbiter"),
              _opt("shipping", SERVICE, "one service every line with shipping options offers; the highest of their "
                   "prices is paid once"),
              _opt("region", REGION, "where the sealed address is, checked against every line"),
              _opt("coupon", COUPON_CODE, "a coupon of the shop, applied to all the goods")),
        _kind("order_accept", "the seller accepts a placed order before the accept deadline", ORDER),
        _kind("order_decline", "the seller declines a placed or accepted order: full refund",
              ORDER, _opt("reason", Text(256), "why")),
        _kind("order_cancel", "the buyer cancels an order not yet accepted: full refund", ORDER),
        _kind("order_ship", "the seller ships an accepted order before the ship deadline",
              ORDER,
              _opt("tracking_hash", Raw(64), "hash of the carrier's tracking reference"),
              _opt("delivery", Raw(MAX_SEALED, 1), "content key sealed to the buyer (required for digital)")),
        _kind("order_confirm", "the buyer confirms receipt: escrow released to the seller", ORDER),
        _kind("order_dispute", "buyer or seller opens a dispute before the current deadline",
              ORDER, Field("reason_hash", HASH, "sha256 of the statement given to the arbiter (UTF-8 text)"),
              _opt("evidence", HASH, "sha256 of an evidence file (an image or a text)")),
        _kind("order_respond", "the party that did not open a dispute answers it once, before the ruling deadline",
              ORDER, Field("response_hash", HASH, "sha256 of the answer to the statement (UTF-8 text)"),
              _opt("evidence", HASH, "sha256 of an evidence file (an image or a text)")),
        _kind("order_resolve", "the order's arbiter splits the escrow after its fee",
              ORDER,
              Field("buyer_amount", UInt(), "refund to the buyer; the seller gets the rest after the fee"),
              _opt("ruling_hash", HASH, "sha256 of the written ruling (UTF-8 text)")),
        _kind("order_claim", "after a deadline, the waiting party settles the order (see the state table)", ORDER),
        _kind("order_refund_offer", "buyer or seller offers to settle an accepted, shipped or disputed order by "
              "returning an amount to the buyer; the state does not change",
              ORDER, Field("buyer_amount", UInt(), "what goes back to the buyer (≤ total); the seller gets the rest "
                           "less the platform fee")),
        _kind("order_refund_accept", "the other party accepts the open offer: escrow splits, the order is settled",
              ORDER, Field("buyer_amount", UInt(), "the offer's amount, repeated")),
        _kind("coupon_issue", "the shop's owner issues a discount code: percent off or a fixed amount off the goods",
              SHOP, Field("coupon", COUPON_CODE, "the code buyers type, e.g. `SPRING-10`"),
              _opt("percent_bps", UInt(1, 10_000), "share off the goods in basis points (rounded down)"),
              _opt("amount", AMOUNT, "fixed amount off the goods, in `asset`"),
              _opt("asset", ASSET, "the fixed amount's asset (an accepted one; only listings priced in it)"),
              Field("max_uses", UInt(1, coupons.MAX_USES), "how many orders may use it"),
              Field("expires_ms", UInt(1, MAX_TIME_MS), "block time from which it is refused")),
        _kind("coupon_revoke", "the shop's owner withdraws a coupon for good", SHOP,
              Field("coupon", COUPON_CODE, "the coupon's code")),
        _kind("aftersales_deposit", "the shop's owner adds to the shop's after-sales deposit, which pays returns",
              SHOP, Field("asset", ASSET, "an asset the shop accepts"), Field("amount", AMOUNT, "amount to add")),
        _kind("aftersales_withdraw", "the shop's owner takes free deposit back, unless the shop owes buyers",
              SHOP, Field("asset", ASSET, "asset"), Field("amount", AMOUNT, "amount to take back")),
        _kind("return_request", "the buyer of a completed order asks to return it within the return window",
              ORDER, Field("reason_hash", HASH, "sha256 of the reason (UTF-8 text, served by the content store)")),
        _kind("return_answer", "the seller accepts a requested return, or refuses it (then the order's arbiter "
              "rules; without one the return is rejected)",
              ORDER, Field("accept", Flag(), "true: the buyer ships the goods back")),
        _kind("return_resolve", "the order's arbiter rules on a refused return",
              ORDER, Field("accept", Flag(), "true: the return goes ahead; false: rejected"),
              _opt("ruling_hash", HASH, "sha256 of the written ruling (UTF-8 text)")),
        _kind("return_ship", "the buyer ships the goods of an accepted return back",
              ORDER, Field("tracking_hash", Raw(64, 1), "hash of the carrier's tracking reference")),
        _kind("return_receive", "the seller confirms the goods came back: the refund is paid from the deposit",
              ORDER),
        _kind("return_collect", "the buyer collects a refund the deposit could not pay, once it is topped up",
              ORDER),
        _kind("return_claim", "after a return's deadline, the waiting party settles it (see the return table)",
              ORDER),
        _kind("review", "the buyer of a completed order rates it once, weighted by its total, and may earn the reward",
              ORDER,
              Field("ratings", Struct(tuple((r, UInt(1, 5)) for r in RATINGS)), "each 1..5"),
              Field("text_hash", HASH, "sha256 of the review text (UTF-8, served by every node's content store)"),
              _opt("photo", HASH, "sha256 of a photo of the item received (JPEG, PNG or WebP)")),
        _kind("review_reply", "the seller replies once to a review",
              ORDER, Field("text_hash", HASH, "sha256 of the reply text (UTF-8)")),
        _kind("record_create", "a producer registers a product or batch and becomes owner and custodian",
              RECORD,
              Field("type", LABEL, "record type, e.g. `artwork`, `coffee-batch`"),
              Field("attributes", MapOf(32, LABEL, Scalar(256)), "fixed attributes")),
        _kind("record_report", "an authorized reporter or the custodian appends a property value",
              RECORD,
              Field("property", LABEL, "e.g. `location`, `temperature`, `handling`"),
              Field("value", Scalar(256), "the value")),
        _kind("record_propose", "owner (owner/reporter roles) or custodian (custody) offers a role to someone",
              RECORD,
              Field("receiver", ACCOUNT, "who is offered the role"),
              Field("role", OneOf(RECORD_ROLES), "what is handed over"),
              _opt("terms", Text(256), "free text")),
        _kind("record_answer", "the receiver accepts or rejects a proposal, or its issuer cancels it",
              RECORD,
              Field("role", OneOf(RECORD_ROLES), "the proposal's role"),
              Field("response", OneOf(("accept", "reject", "cancel")), "answer"),
              _opt("receiver", ACCOUNT, "the proposal's receiver (required to cancel; default: sender)")),
        _kind("record_finalize", "the owner, also custodian, closes the record to further change", RECORD),
        _kind("cert_issue", "a `certifier` certifies an item fingerprint",
              Field("fingerprint", HASH, "e.g. sha256 of the artwork's reference image"),
              _opt("owner", ACCOUNT, "first owner (default: sender)"),
              _opt("record", RECORD_ID, "linked provenance record"),
              _opt("metadata_hash", HASH, "hash of the certificate document")),
        _kind("cert_transfer", "the certificate's owner hands it to another account",
              CERTIFICATE, Field("to", ACCOUNT, "new owner")),
        _kind("cert_revoke", "the issuer revokes the certificate for good",
              CERTIFICATE, _opt("reason", Text(256), "why")),
    )
}


# Codes any kind can return (admission, then the body check); ERRORS lists the rest per kind.
COMMON_ERRORS = (c.WRONG_CHAIN, c.BAD_SIGNERS, c.BAD_NONCE, c.FEE_TOO_LOW, c.CANNOT_PAY_FEE, c.UNKNOWN_KIND, c.BAD_BODY,
                 c.THRESHOLD_REQUIRED)
_ORDER = (c.NOT_FOUND, c.BAD_TRANSITION, c.NOT_AUTHORIZED)
_RECORD = (c.NOT_FOUND, c.RECORD_FINAL, c.NOT_AUTHORIZED)
ERRORS: dict[str, tuple[str, ...]] = {
    "register": (c.ALREADY_EXISTS, c.SELF_DEALING, c.NOT_REGISTERED),
    "transfer": (c.NOT_FOUND, c.INSUFFICIENT_FUNDS),
    "account_rotate": (c.NOT_FOUND, c.ALREADY_EXISTS, c.BAD_KEY_SET),
    "account_set_authority": (c.BAD_KEY_SET,),
    "account_set_guardians": (c.BAD_GUARDIANS, c.SELF_DEALING),
    "recovery_start": (c.NOT_AUTHORIZED, c.ALREADY_EXISTS, c.BAD_KEY_SET),
    "recovery_approve": (c.NOT_AUTHORIZED, c.NOT_FOUND, c.STALE_RECOVERY, c.ALREADY_EXISTS, c.WINDOW_CLOSED),
    "recovery_veto": (c.NOT_FOUND, c.STALE_RECOVERY),
    "recovery_finish": (c.NOT_FOUND, c.STALE_RECOVERY, c.TOO_EARLY),
    "asset_issue": (c.NOT_AUTHORIZED, c.ALREADY_EXISTS),
    "asset_mint": (c.NOT_FOUND, c.NOT_AUTHORIZED, c.AMOUNT_OVERFLOW),
    "kyc_attest": (c.NOT_AUTHORIZED,),
    "kyc_revoke": (c.NOT_AUTHORIZED, c.NOT_FOUND),
    "arbiter_register": (c.NOT_REGISTERED, c.ALREADY_EXISTS),
    "arbiter_update": (c.NOT_FOUND,),
    "shop_create": (c.NOT_REGISTERED, c.KYC_REQUIRED, c.NOT_FOUND),
    "shop_update": (c.NOT_FOUND, c.NOT_AUTHORIZED, c.SHOP_CLOSED),
    "shop_close": (c.NOT_FOUND, c.NOT_AUTHORIZED, c.SHOP_CLOSED),
    "listing_create": (c.NOT_FOUND, c.NOT_AUTHORIZED, c.SHOP_CLOSED, c.ASSET_NOT_ACCEPTED, c.BAD_TERMS),
    "listing_update": (c.NOT_FOUND, c.NOT_AUTHORIZED, c.LISTING_INACTIVE, c.SHOP_CLOSED, c.ASSET_NOT_ACCEPTED,
                       c.BAD_TERMS),
    "listing_delist": (c.NOT_FOUND, c.NOT_AUTHORIZED, c.LISTING_INACTIVE),
    "order_place": (c.NOT_FOUND, c.LISTING_INACTIVE, c.SELF_DEALING, c.SHOP_CLOSED, c.NOT_REGISTERED,
                    c.AMOUNT_OVERFLOW, c.PRICE_CHANGED, c.KYC_REQUIRED, c.ARBITER_NOT_ACCEPTED, c.OUT_OF_STOCK,
                    c.INSUFFICIENT_FUNDS, c.NO_SUCH_VARIANT, c.NO_SUCH_SHIPPING, c.REGION_NOT_SERVED,
                    c.COUPON_INVALID),
    "order_cart": (c.NOT_FOUND, c.LISTING_INACTIVE, c.SELF_DEALING, c.MIXED_CART, c.SHOP_CLOSED,
                   c.NOT_REGISTERED, c.AMOUNT_OVERFLOW, c.PRICE_CHANGED, c.KYC_REQUIRED, c.ARBITER_NOT_ACCEPTED,
                   c.OUT_OF_STOCK, c.INSUFFICIENT_FUNDS, c.NO_SUCH_VARIANT, c.NO_SUCH_SHIPPING, c.REGION_NOT_SERVED,
                   c.COUPON_INVALID),
    "order_accept": (*_ORDER, c.WINDOW_CLOSED),
    "order_decline": _ORDER,
    "order_cancel": _ORDER,
    "order_ship": (*_ORDER, c.WINDOW_CLOSED, c.DELIVERY_REQUIRED),
    "order_confirm": _ORDER,
    "order_dispute": (*_ORDER, c.WINDOW_CLOSED, c.NO_ARBITER),
    "order_respond": (*_ORDER, c.WINDOW_CLOSED, c.ALREADY_EXISTS),
    "order_resolve": (*_ORDER, c.WINDOW_CLOSED, c.BAD_SPLIT),
    "order_claim": (*_ORDER, c.TOO_EARLY),
    "order_refund_offer": (*_ORDER, c.BAD_SPLIT),
    "order_refund_accept": (*_ORDER, c.NO_OFFER),
    "coupon_issue": (c.NOT_FOUND, c.NOT_AUTHORIZED, c.SHOP_CLOSED, c.BAD_COUPON, c.ASSET_NOT_ACCEPTED,
                     c.ALREADY_EXISTS),
    "coupon_revoke": (c.NOT_FOUND, c.NOT_AUTHORIZED, c.SHOP_CLOSED, c.COUPON_INVALID),
    "aftersales_deposit": (c.NOT_FOUND, c.NOT_AUTHORIZED, c.SHOP_CLOSED, c.ASSET_NOT_ACCEPTED,
                           c.INSUFFICIENT_FUNDS),
    "aftersales_withdraw": (c.NOT_FOUND, c.NOT_AUTHORIZED, c.OWES_BUYERS, c.INSUFFICIENT_FUNDS),
    "return_request": (*_ORDER, c.NO_RETURNS, c.WINDOW_CLOSED, c.ALREADY_EXISTS),
    "return_answer": (*_ORDER, c.WINDOW_CLOSED),
    "return_resolve": (*_ORDER, c.WINDOW_CLOSED),
    "return_ship": (*_ORDER, c.WINDOW_CLOSED),
    "return_receive": _ORDER,
    "return_collect": (*_ORDER, c.INSUFFICIENT_FUNDS),
    "return_claim": (*_ORDER, c.TOO_EARLY),
    "review": (*_ORDER, c.ALREADY_REVIEWED),
    "review_reply": (c.NOT_FOUND, c.NOT_AUTHORIZED, c.ALREADY_REVIEWED),
    "record_create": (c.ALREADY_EXISTS,),
    "record_report": _RECORD,
    "record_propose": (*_RECORD, c.SELF_DEALING, c.ALREADY_EXISTS),
    "record_answer": (*_RECORD, c.PROPOSAL_STALE),
    "record_finalize": _RECORD,
    "cert_issue": (c.NOT_AUTHORIZED, c.NOT_FOUND),
    "cert_transfer": (c.NOT_FOUND, c.NOT_AUTHORIZED, c.REVOKED, c.SELF_DEALING),
    "cert_revoke": (c.NOT_FOUND, c.NOT_AUTHORIZED, c.REVOKED),
}
assert set(ERRORS) == set(KINDS), set(ERRORS) ^ set(KINDS)


def errors_of(kind: str) -> tuple[str, ...]:
    """Every code a tx of ``kind`` can fail with: the common ones, then its own."""
    return COMMON_ERRORS + ERRORS.get(kind, ())


def validate_body(kind: str, body: Any) -> dict[str, Any]:
    """Return the checked body with every field present (absent optional → None)."""
    spec = KINDS.get(kind)
    if spec is None:
        fail(UNKNOWN_KIND, f"no tx kind {kind!r}")
    if not isinstance(body, dict):
        fail(BAD_BODY, "the body must be a map")
    names = {f.name for f in spec.fields}
    unknown = sorted(set(body) - names)
    if unknown:
        fail(BAD_BODY, f"{kind}: unknown fields {unknown}")
    checked: dict[str, Any] = {}
    for field in spec.fields:
        value = body.get(field.name)
        if value is None:
            if not field.optional:
                fail(BAD_BODY, f"{kind}.{field.name}: required")
            checked[field.name] = None
        else:
            checked[field.name] = field.kind.check(value, f"{kind}.{field.name}")
    return checked


def markdown() -> str:
    """The tx-kind reference section of docs/MARKET.md, generated from KINDS."""
    lines = []
    for spec in KINDS.values():
        lines += [f"### `{spec.name}`", "", spec.summary[0].upper() + spec.summary[1:] + ".", ""]
        lines += ["| field | type | required | meaning |", "|---|---|---|---|"]
        for field in spec.fields:
            need = "optional" if field.optional else "yes"
            lines.append(f"| `{field.name}` | {field.kind.describe()} | {need} | {field.doc} |")
        lines += ["", "Fails with: " + ", ".join(f"`{code}`" for code in ERRORS[spec.name]) + ".", ""]
    lines += ["Every kind can also fail with " + ", ".join(f"`{code}`" for code in COMMON_ERRORS) + ".", ""]
    return "\n".join(lines)
