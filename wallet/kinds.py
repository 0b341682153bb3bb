"""One builder per market tx kind, and the table they check against. GENERATED: do not edit.

Rendered from market/schema.py by tests/wallet/kinds_gen.py (the wallet may not
import market/); tests/wallet/test_builders.py fails when this file is stale.
Each builder returns the wire body for ``wallet.builders.build_tx``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from marketnode.wallet.bodies import Account, FieldSpec, Hash, KindSpec, Scalar, make_body

KINDS: dict[str, KindSpec] = {
    "register": KindSpec(
        "register", "sender registers a display name once; private data only as a salted hash", (
            FieldSpec("name", "str", True, "display name"),
            FieldSpec("commitment", "hash", True, "sha256(salt ‖ canonical msgpack of the private data map, text → text), salt 16 random bytes the account keeps (wallet/builders.commitment)"),
            FieldSpec("inviter", "account", False, "registered account that referred the sender"),
        ),
    ),
    "transfer": KindSpec(
        "transfer", "sender moves an amount of an asset to another account", (
            FieldSpec("to", "account", True, "recipient"),
            FieldSpec("asset", "str", True, "asset id"),
            FieldSpec("amount", "uint", True, "amount in the smallest unit"),
            FieldSpec("memo", "str", False, "free text"),
        ),
    ),
    "account_rotate": KindSpec(
        "account_rotate", "the account replaces one of its keys; address, balances, shop and reputation stay (signed by its threshold and by the new key)", (
            FieldSpec("new_key", "bytes", True, "the key that takes the old one's place"),
            FieldSpec("old_key", "bytes", False, "the key to replace (default: the only key)"),
        ),
    ),
    "account_set_authority": KindSpec(
        "account_set_authority", "the account sets its key set and when a tx needs `threshold` of them (signed by its current threshold and by every new key)", (
            FieldSpec("keys", "list:bytes", True, "the key set (≤ params.max_account_keys)"),
            FieldSpec("threshold", "uint", True, "how many keys a guarded tx needs"),
            FieldSpec("kinds", "list:str", False, "kinds that need the threshold (with `above` absent too: all)"),
            FieldSpec("above", "uint", False, "native amount (fees included) fewer keys may move out per params.single_key_period_ms; more, or any other asset, needs the threshold"),
        ),
    ),
    "account_set_guardians": KindSpec(
        "account_set_guardians", "the account names guardians, k of whom can recover it after `delay_ms`; empty: none (cancels a pending recovery)", (
            FieldSpec("guardians", "list:account", True, "guardian accounts (≤ params.max_guardians)"),
            FieldSpec("threshold", "uint", True, "approvals a recovery needs (0 with no guardians)"),
            FieldSpec("delay_ms", "uint", True, "veto time after the k-th approval (≥ params.recovery_min_delay_ms)"),
        ),
    ),
    "recovery_start": KindSpec(
        "recovery_start", "a guardian proposes moving the account to a new key and approves it", (
            FieldSpec("account", "account", True, "the account to recover"),
            FieldSpec("new_key", "bytes", True, "the key the account's owner now holds"),
        ),
    ),
    "recovery_approve": KindSpec(
        "recovery_approve", "another guardian approves the pending recovery", (
            FieldSpec("account", "account", True, "the account"),
            FieldSpec("recovery", "uint", True, "recovery id (from `recovery_started`)"),
            FieldSpec("new_key", "bytes", True, "must match the pending recovery's key"),
        ),
    ),
    "recovery_veto": KindSpec(
        "recovery_veto", "the account (its full threshold) stops its pending recovery", (
            FieldSpec("recovery", "uint", True, "recovery id"),
        ),
    ),
    "recovery_finish": KindSpec(
        "recovery_finish", "anyone, at or after the deadline, installs the new key (or expires a stalled one)", (
            FieldSpec("account", "account", True, "the account"),
            FieldSpec("recovery", "uint", True, "recovery id"),
        ),
    ),
    "asset_issue": KindSpec(
        "asset_issue", "an `asset_issuer` creates a new asset and becomes its issuer", (
            FieldSpec("asset", "str", True, "new asset id"),
            FieldSpec("name", "str", True, "human name"),
            FieldSpec("decimals", "uint", True, "display decimals"),
            FieldSpec("max_supply", "uint", False, "cap on total supply (none: 2^64-1)"),
        ),
    ),
    "asset_mint": KindSpec(
        "asset_mint", "the asset's issuer creates new units", (
            FieldSpec("asset", "str", True, "asset id"),
            FieldSpec("to", "account", True, "recipient"),
            FieldSpec("amount", "uint", True, "amount to create"),
        ),
    ),
    "kyc_attest": KindSpec(
        "kyc_attest", "a `kyc_attester` sets an account's KYC level and expiry", (
            FieldSpec("account", "account", True, "attested account"),
            FieldSpec("level", "uint", True, "1 basic, 2 verified identity, 3 enhanced"),
            FieldSpec("expires_ms", "uint", True, "block time at which the attestation lapses"),
        ),
    ),
    "kyc_revoke": KindSpec(
        "kyc_revoke", "a `kyc_attester` removes an account's KYC attestation", (
            FieldSpec("account", "account", True, "account"),
        ),
    ),
    "arbiter_register": KindSpec(
        "arbiter_register", "a registered account offers arbitration", (
            FieldSpec("fee_fixed", "uint", True, "fixed fee, in units of the disputed order's asset"),
            FieldSpec("fee_bps", "uint", True, "fee share of the escrow in basis points (≤ params.max_arbiter_fee_bps)"),
            FieldSpec("description", "str", True, "languages, expertise, terms"),
        ),
    ),
    "arbiter_update": KindSpec(
        "arbiter_update", "an arbiter changes its terms or (de)activates itself; absent fields are unchanged", (
            FieldSpec("fee_fixed", "uint", False, "fixed fee"),
            FieldSpec("fee_bps", "uint", False, "fee share in basis points"),
            FieldSpec("description", "str", False, "terms"),
            FieldSpec("active", "bool", False, "false: no new orders may name this arbiter"),
        ),
    ),
    "shop_create": KindSpec(
        "shop_create", "a registered account opens a shop and owns it", (
            FieldSpec("name", "str", True, "shop name"),
            FieldSpec("description", "str", True, "free text"),
            FieldSpec("region", "str", True, "ISO 3166 country or subdivision, e.g. `DE` or `US-CA`"),
            FieldSpec("accepted_assets", "list:str", True, "assets the shop's listings may be priced in (at least one)"),
            FieldSpec("arbiters", "list:account", True, "arbiters buyers may choose for this shop's orders"),
        ),
    ),
    "shop_update": KindSpec(
        "shop_update", "the owner changes the shop; absent fields are unchanged", (
            FieldSpec("shop", "uint", True, "shop id"),
            FieldSpec("name", "str", False, "shop name"),
            FieldSpec("description", "str", False, "free text"),
            FieldSpec("region", "str", False, "ISO 3166 country or subdivision, e.g. `DE` or `US-CA`"),
            FieldSpec("accepted_assets", "list:str", False, "assets the shop's listings may be priced in (at least one)"),
            FieldSpec("arbiters", "list:account", False, "arbiters buyers may choose for this shop's orders"),
        ),
    ),
    "shop_close": KindSpec(
        "shop_close", "the owner closes the shop: no new listings or orders, open orders continue", (
            FieldSpec("shop", "uint", True, "shop id"),
        ),
    ),
    "listing_create": KindSpec(
        "listing_create", "the shop owner lists goods", (
            FieldSpec("shop", "uint", True, "shop id"),
            FieldSpec("type", "str", True, "what is sold; `digital` orders ship an encrypted content key", ("physical", "digital", "service")),
            FieldSpec("title", "str", True, "title"),
            FieldSpec("description", "str", True, "free text"),
            FieldSpec("category", "str", True, "category label, e.g. `art`"),
            FieldSpec("tags", "list:str", True, "search tags"),
            FieldSpec("price", "uint", True, "unit price in the smallest unit of `asset`"),
            FieldSpec("asset", "str", True, "asset of the price; the shop must accept it"),
            FieldSpec("stock", "uint", True, "units available (reserved by orders when placed)"),
            FieldSpec("regions", "list:str", True, "regions shipped to (empty: anywhere / not applicable)"),
            FieldSpec("images", "list:hash", True, "sha256 content hashes of the images"),
            FieldSpec("record", "str", False, "provenance record of the item"),
            FieldSpec("certificate", "uint", False, "authenticity certificate of the item"),
            FieldSpec("options", "list:struct", False, "what a buyer chooses, e.g. `{name: size, values: [S, M, L]}` (at most 3 options of 16 values)"),
            FieldSpec("variants", "list:struct", False, "one per sold combination: `choice` is one value per option in order, unit price = `price` + `price_delta` (≥ 1), own stock (the listing's `stock` must be their sum); orders name one by `sku`"),
            FieldSpec("shipping", "list:struct", False, "shipping options: service, regions served (empty: wherever the listing ships), price per order, delivery window in days; with any, an order must choose one"),
            FieldSpec("return_window_ms", "uint", False, "how long after completion the buyer may ask to return the goods (0 or absent: no returns); fixed into each order when placed"),
        ),
    ),
    "listing_update": KindSpec(
        "listing_update", "the seller changes the listing; absent fields are unchanged", (
            FieldSpec("listing", "uint", True, "listing id"),
            FieldSpec("title", "str", False, "title"),
            FieldSpec("description", "str", False, "free text"),
            FieldSpec("category", "str", False, "category label, e.g. `art`"),
            FieldSpec("tags", "list:str", False, "search tags"),
            FieldSpec("price", "uint", False, "unit price in the smallest unit of `asset`"),
            FieldSpec("asset", "str", False, "asset of the price; the shop must accept it"),
            FieldSpec("stock", "uint", False, "units available (reserved by orders when placed)"),
            FieldSpec("regions", "list:str", False, "regions shipped to (empty: anywhere / not applicable)"),
            FieldSpec("images", "list:hash", False, "sha256 content hashes of the images"),
            FieldSpec("record", "str", False, "provenance record of the item"),
            FieldSpec("certificate", "uint", False, "authenticity certificate of the item"),
            FieldSpec("options", "list:struct", False, "what a buyer chooses, e.g. `{name: size, values: [S, M, L]}` (at most 3 options of 16 values)"),
            FieldSpec("variants", "list:struct", False, "one per sold combination: `choice` is one value per option in order, unit price = `price` + `price_delta` (≥ 1), own stock (the listing's `stock` must be their sum); orders name one by `sku`"),
            FieldSpec("shipping", "list:struct", False, "shipping options: service, regions served (empty: wherever the listing ships), price per order, delivery window in days; with any, an order must choose one"),
            FieldSpec("return_window_ms", "uint", False, "how long after completion the buyer may ask to return the goods (0 or absent: no returns); fixed into each order when placed"),
        ),
    ),
    "listing_delist": KindSpec(
        "listing_delist", "the seller withdraws the listing; open orders continue", (
            FieldSpec("listing", "uint", True, "listing id"),
        ),
    ),
    "order_place": KindSpec(
        "order_place", "a registered buyer orders; the total moves into escrow and stock is reserved", (
            FieldSpec("listing", "uint", True, "listing id"),
            FieldSpec("quantity", "uint", True, "units"),
            FieldSpec("max_total", "uint", True, "refuse if price * quantity exceeds this (price changed in flight)"),
            FieldSpec("arbiter", "account", False, "an active arbiter the shop accepts (none: no disputes possible)"),
            FieldSpec("address_seller", "bytes", True, "shipping address sealed to the seller (may be empty)"),
            FieldSpec("address_arbiter", "bytes", False, "shipping address sealed to the arbiter"),
            FieldSpec("variant", "str", False, "the variant's `sku` (required when the listing has variants)"),
            FieldSpec("shipping", "str", False, "the shipping option's `service` (required when the listing has any); its price is added to the total once"),
            FieldSpec("region", "str", False, "where the sealed address is, checked against the listing's and the shipping option's regions (required with `shipping`)"),
            FieldSpec("coupon", "str", False, "a coupon of the listing's shop, applied to the goods (not shipping)"),
        ),
    ),
    "order_cart": KindSpec(
        "order_cart", "a registered buyer orders several listings of one shop at once: one order, one escrow (the lines ship, confirm and settle together)", (
            FieldSpec("items", "list:struct", True, "1..20 lines `{listing, quantity, variant}` (`variant` \"\" when the listing has none), each listing and variant once, all of one shop, asset and type"),
            FieldSpec("max_total", "uint", True, "refuse if the cart's total exceeds this"),
            FieldSpec("arbiter", "account", False, "an active arbiter the shop accepts (none: no disputes possible)"),
            FieldSpec("address_seller", "bytes", True, "shipping address sealed to the seller (may be empty)"),
            FieldSpec("address_arbiter", "bytes", False, "shipping address sealed to the arbiter"),
            FieldSpec("shipping", "str", False, "one service every line with shipping options offers; the highest of their prices is paid once"),
            FieldSpec("region", "str", False, "where the sealed address is, checked against every line"),
            FieldSpec("coupon", "str", False, "a coupon of the shop, applied to all the goods"),
        ),
    ),
    "order_accept": KindSpec(
        "order_accept", "the seller accepts a placed order before the accept deadline", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
        ),
    ),
    "order_decline": KindSpec(
        "order_decline", "the seller declines a placed or accepted order: full refund", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
            FieldSpec("reason", "str", False, "why"),
        ),
    ),
    "order_cancel": KindSpec(
        "order_cancel", "the buyer cancels an order not yet accepted: full refund", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
        ),
    ),
    "order_ship": KindSpec(
        "order_ship", "the seller ships an accepted order before the ship deadline", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
            FieldSpec("tracking_hash", "bytes", False, "hash of the carrier's tracking reference"),
            FieldSpec("delivery", "bytes", False, "content key sealed to the buyer (required for digital)"),
        ),
    ),
    "order_confirm": KindSpec(
        "order_confirm", "the buyer confirms receipt: escrow released to the seller", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
        ),
    ),
    "order_dispute": KindSpec(
        "order_dispute", "buyer or seller opens a dispute before the current deadline", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
            FieldSpec("reason_hash", "hash", True, "sha256 of the statement given to the arbiter (UTF-8 text)"),
            FieldSpec("evidence", "hash", False, "sha256 of an evidence file (an image or a text)"),
        ),
    ),
    "order_respond": KindSpec(
        "order_respond", "the party that did not open a dispute answers it once, before the ruling deadline", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
            FieldSpec("response_hash", "hash", True, "sha256 of the answer to the statement (UTF-8 text)"),
            FieldSpec("evidence", "hash", False, "sha256 of an evidence file (an image or a text)"),
        ),
    ),
    "order_resolve": KindSpec(
        "order_resolve", "the order's arbiter splits the escrow after its fee", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
            FieldSpec("buyer_amount", "uint", True, "refund to the buyer; the seller gets the rest after the fee"),
            FieldSpec("ruling_hash", "hash", False, "sha256 of the written ruling (UTF-8 text)"),
        ),
    ),
    "order_claim": KindSpec(
        "order_claim", "after a deadline, the waiting party settles the order (see the state table)", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
        ),
    ),
    "order_refund_offer": KindSpec(
        "order_refund_offer", "buyer or seller offers to settle an accepted, shipped or disputed order by returning an amount to the buyer; the state does not change", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
            FieldSpec("buyer_amount", "uint", True, "what goes back to the buyer (≤ total); the seller gets the rest less the platform fee"),
        ),
    ),
    "order_refund_accept": KindSpec(
        "order_refund_accept", "the other party accepts the open offer: escrow splits, the order is settled", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
            FieldSpec("buyer_amount", "uint", True, "the offer's amount, repeated"),
        ),
    ),
    "coupon_issue": KindSpec(
        "coupon_issue", "the shop's owner issues a discount code: percent off or a fixed amount off the goods", (
            FieldSpec("shop", "uint", True, "shop id"),
            FieldSpec("coupon", "str", True, "the code buyers type, e.g. `SPRING-10`"),
            FieldSpec("percent_bps", "uint", False, "share off the goods in basis points (rounded down)"),
            FieldSpec("amount", "uint", False, "fixed amount off the goods, in `asset`"),
            FieldSpec("asset", "str", False, "the fixed amount's asset (an accepted one; only listings priced in it)"),
            FieldSpec("max_uses", "uint", True, "how many orders may use it"),
            FieldSpec("expires_ms", "uint", True, "block time from which it is refused"),
        ),
    ),
    "coupon_revoke": KindSpec(
        "coupon_revoke", "the shop's owner withdraws a coupon for good", (
            FieldSpec("shop", "uint", True, "shop id"),
            FieldSpec("coupon", "str", True, "the coupon's code"),
        ),
    ),
    "aftersales_deposit": KindSpec(
        "aftersales_deposit", "the shop's owner adds to the shop's after-sales deposit, which pays returns", (
            FieldSpec("shop", "uint", True, "shop id"),
            FieldSpec("asset", "str", True, "an asset the shop accepts"),
            FieldSpec("amount", "uint", True, "amount to add"),
        ),
    ),
    "aftersales_withdraw": KindSpec(
        "aftersales_withdraw", "the shop's owner takes free deposit back, unless the shop owes buyers", (
            FieldSpec("shop", "uint", True, "shop id"),
            FieldSpec("asset", "str", True, "asset"),
            FieldSpec("amount", "uint", True, "amount to take back"),
        ),
    ),
    "return_request": KindSpec(
        "return_request", "the buyer of a completed order asks to return it within the return window", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
            FieldSpec("reason_hash", "hash", True, "sha256 of the reason (UTF-8 text, served by the content store)"),
        ),
    ),
    "return_answer": KindSpec(
        "return_answer", "the seller accepts a requested return, or refuses it (then the order's arbiter rules; without one the return is rejected)", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
            FieldSpec("accept", "bool", True, "true: the buyer ships the goods back"),
        ),
    ),
    "return_resolve": KindSpec(
        "return_resolve", "the order's arbiter rules on a refused return", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
            FieldSpec("accept", "bool", True, "true: the return goes ahead; false: rejected"),
            FieldSpec("ruling_hash", "hash", False, "sha256 of the written ruling (UTF-8 text)"),
        ),
    ),
    "return_ship": KindSpec(
        "return_ship", "the buyer ships the goods of an accepted return back", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
            FieldSpec("tracking_hash", "bytes", True, "hash of the carrier's tracking reference"),
        ),
    ),
    "return_receive": KindSpec(
        "return_receive", "the seller confirms the goods came back: the refund is paid from the deposit", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
        ),
    ),
    "return_collect": KindSpec(
        "return_collect", "the buyer collects a refund the deposit could not pay, once it is topped up", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
        ),
    ),
    "return_claim": KindSpec(
        "return_claim", "after a return's deadline, the waiting party settles it (see the return table)", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
        ),
    ),
    "review": KindSpec(
        "review", "the buyer of a completed order rates it once, weighted by its total, and may earn the reward", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
            FieldSpec("ratings", "struct", True, "each 1..5", members=("overall", "quality", "accuracy", "delivery", "service")),
            FieldSpec("text_hash", "hash", True, "sha256 of the review text (UTF-8, served by every node's content store)"),
            FieldSpec("photo", "hash", False, "sha256 of a photo of the item received (JPEG, PNG or WebP)"),
        ),
    ),
    "review_reply": KindSpec(
        "review_reply", "the seller replies once to a review", (
            FieldSpec("order", "uint", True, "order id (from the `order_placed` event)"),
            FieldSpec("text_hash", "hash", True, "sha256 of the reply text (UTF-8)"),
        ),
    ),
    "record_create": KindSpec(
        "record_create", "a producer registers a product or batch and becomes owner and custodian", (
            FieldSpec("record", "str", True, "provenance record id"),
            FieldSpec("type", "str", True, "record type, e.g. `artwork`, `coffee-batch`"),
            FieldSpec("attributes", "map", True, "fixed attributes"),
        ),
    ),
    "record_report": KindSpec(
        "record_report", "an authorized reporter or the custodian appends a property value", (
            FieldSpec("record", "str", True, "provenance record id"),
            FieldSpec("property", "str", True, "e.g. `location`, `temperature`, `handling`"),
            FieldSpec("value", "scalar", True, "the value"),
        ),
    ),
    "record_propose": KindSpec(
        "record_propose", "owner (owner/reporter roles) or custodian (custody) offers a role to someone", (
            FieldSpec("record", "str", True, "provenance record id"),
            FieldSpec("receiver", "account", True, "who is offered the role"),
            FieldSpec("role", "str", True, "what is handed over", ("owner", "custodian", "reporter")),
            FieldSpec("terms", "str", False, "free text"),
        ),
    ),
    "record_answer": KindSpec(
        "record_answer", "the receiver accepts or rejects a proposal, or its issuer cancels it", (
            FieldSpec("record", "str", True, "provenance record id"),
            FieldSpec("role", "str", True, "the proposal's role", ("owner", "custodian", "reporter")),
            FieldSpec("response", "str", True, "answer", ("accept", "reject", "cancel")),
            FieldSpec("receiver", "account", False, "the proposal's receiver (required to cancel; default: sender)"),
        ),
    ),
    "record_finalize": KindSpec(
        "record_finalize", "the owner, also custodian, closes the record to further change", (
            FieldSpec("record", "str", True, "provenance record id"),
        ),
    ),
    "cert_issue": KindSpec(
        "cert_issue", "a `certifier` certifies an item fingerprint", (
            FieldSpec("fingerprint", "hash", True, "e.g. sha256 of the artwork's reference image"),
            FieldSpec("owner", "account", False, "first owner (default: sender)"),
            FieldSpec("record", "str", False, "linked provenance record"),
            FieldSpec("metadata_hash", "hash", False, "hash of the certificate document"),
        ),
    ),
    "cert_transfer": KindSpec(
        "cert_transfer", "the certificate's owner hands it to another account", (
            FieldSpec("certificate", "uint", True, "certificate id"),
            FieldSpec("to", "account", True, "new owner"),
        ),
    ),
    "cert_revoke": KindSpec(
        "cert_revoke", "the issuer revokes the certificate for good", (
            FieldSpec("certificate", "uint", True, "certificate id"),
            FieldSpec("reason", "str", False, "why"),
        ),
    ),
}


def register(
    *,
    name: str,
    commitment: Hash,
    inviter: Account | None = None,
) -> dict[str, Any]:
    """Sender registers a display name once; private data only as a salted hash.

    ``name``: display name
    ``commitment``: sha256(salt ‖ canonical msgpack of the private data map, text → text), salt 16 random bytes the account keeps (wallet/builders.commitment)
    ``inviter`` (optional): registered account that referred the sender
    """
    return make_body(KINDS["register"], {
        "name": name,
        "commitment": commitment,
        "inviter": inviter,
    })


def transfer(
    *,
    to: Account,
    asset: str,
    amount: int,
    memo: str | None = None,
) -> dict[str, Any]:
    """Sender moves an amount of an asset to another account.

    ``to``: recipient
    ``asset``: asset id
    ``amount``: amount in the smallest unit
    ``memo`` (optional): free text
    """
    return make_body(KINDS["transfer"], {
        "to": to,
        "asset": asset,
        "amount": amount,
        "memo": memo,
    })


def account_rotate(
    *,
    new_key: bytes,
    old_key: bytes | None = None,
) -> dict[str, Any]:
    """The account replaces one of its keys; address, balances, shop and reputation stay (signed by its threshold and by the new key).

    ``new_key``: the key that takes the old one's place
    ``old_key`` (optional): the key to replace (default: the only key)
    """
    return make_body(KINDS["account_rotate"], {
        "new_key": new_key,
        "old_key": old_key,
    })


def account_set_authority(
    *,
    keys: Sequence[bytes],
    threshold: int,
    kinds: Sequence[str] | None = None,
    above: int | None = None,
) -> dict[str, Any]:
    """The account sets its key set and when a tx needs `threshold` of them (signed by its current threshold and by every new key).

    ``keys``: the key set (≤ params.max_account_keys)
    ``threshold``: how many keys a guarded tx needs
    ``kinds`` (optional): kinds that need the threshold (with `above` absent too: all)
    ``above`` (optional): native amount (fees included) fewer keys may move out per params.single_key_period_ms; more, or any other asset, needs the threshold
    """
    return make_body(KINDS["account_set_authority"], {
        "keys": keys,
        "threshold": threshold,
        "kinds": kinds,
        "above": above,
    })


def account_set_guardians(
    *,
    guardians: Sequence[Account],
    threshold: int,
    delay_ms: int,
) -> dict[str, Any]:
    """The account names guardians, k of whom can recover it after `delay_ms`; empty: none (cancels a pending recovery).

    ``guardians``: guardian accounts (≤ params.max_guardians)
    ``threshold``: approvals a recovery needs (0 with no guardians)
    ``delay_ms``: veto time after the k-th approval (≥ params.recovery_min_delay_ms)
    """
    return make_body(KINDS["account_set_guardians"], {
        "guardians": guardians,
        "threshold": threshold,
        "delay_ms": delay_ms,
    })


def recovery_start(
    *,
    account: Account,
    new_key: bytes,
) -> dict[str, Any]:
    """A guardian proposes moving the account to a new key and approves it.

    ``account``: the account to recover
    ``new_key``: the key the account's owner now holds
    """
    return make_body(KINDS["recovery_start"], {
        "account": account,
        "new_key": new_key,
    })


def recovery_approve(
    *,
    account: Account,
    recovery: int,
    new_key: bytes,
) -> dict[str, Any]:
    """Another guardian approves the pending recovery.

    ``account``: the account
    ``recovery``: recovery id (from `recovery_started`)
    ``new_key``: must match the pending recovery's key
    """
    return make_body(KINDS["recovery_approve"], {
        "account": account,
        "recovery": recovery,
        "new_key": new_key,
    })


def recovery_veto(
    *,
    recovery: int,
) -> dict[str, Any]:
    """The account (its full threshold) stops its pending recovery.

    ``recovery``: recovery id
    """
    return make_body(KINDS["recovery_veto"], {
        "recovery": recovery,
    })


def recovery_finish(
    *,
    account: Account,
    recovery: int,
) -> dict[str, Any]:
    """Anyone, at or after the deadline, installs the new key (or expires a stalled one).

    ``account``: the account
    ``recovery``: recovery id
    """
    return make_body(KINDS["recovery_finish"], {
        "account": account,
        "recovery": recovery,
    })


def asset_issue(
    *,
    asset: str,
    name: str,
    decimals: int,
    max_supply: int | None = None,
) -> dict[str, Any]:
    """An `asset_issuer` creates a new asset and becomes its issuer.

    ``asset``: new asset id
    ``name``: human name
    ``decimals``: display decimals
    ``max_supply`` (optional): cap on total supply (none: 2^64-1)
    """
    return make_body(KINDS["asset_issue"], {
        "asset": asset,
        "name": name,
        "decimals": decimals,
        "max_supply": max_supply,
    })


def asset_mint(
    *,
    asset: str,
    to: Account,
    amount: int,
) -> dict[str, Any]:
    """The asset's issuer creates new units.

    ``asset``: asset id
    ``to``: recipient
    ``amount``: amount to create
    """
    return make_body(KINDS["asset_mint"], {
        "asset": asset,
        "to": to,
        "amount": amount,
    })


def kyc_attest(
    *,
    account: Account,
    level: int,
    expires_ms: int,
) -> dict[str, Any]:
    """A `kyc_attester` sets an account's KYC level and expiry.

    ``account``: attested account
    ``level``: 1 basic, 2 verified identity, 3 enhanced
    ``expires_ms``: block time at which the attestation lapses
    """
    return make_body(KINDS["kyc_attest"], {
        "account": account,
        "level": level,
        "expires_ms": expires_ms,
    })


def kyc_revoke(
    *,
    account: Account,
) -> dict[str, Any]:
    """A `kyc_attester` removes an account's KYC attestation.

    ``account``: account
    """
    return make_body(KINDS["kyc_revoke"], {
        "account": account,
    })


def arbiter_register(
    *,
    fee_fixed: int,
    fee_bps: int,
    description: str,
) -> dict[str, Any]:
    """A registered account offers arbitration.

    ``fee_fixed``: fixed fee, in units of the disputed order's asset
    ``fee_bps``: fee share of the escrow in basis points (≤ params.max_arbiter_fee_bps)
    ``description``: languages, expertise, terms
    """
    return make_body(KINDS["arbiter_register"], {
        "fee_fixed": fee_fixed,
        "fee_bps": fee_bps,
        "description": description,
    })


def arbiter_update(
    *,
    fee_fixed: int | None = None,
    fee_bps: int | None = None,
    description: str | None = None,
    active: bool | None = None,
) -> dict[str, Any]:
    """An arbiter changes its terms or (de)activates itself; absent fields are unchanged.

    ``fee_fixed`` (optional): fixed fee
    ``fee_bps`` (optional): fee share in basis points
    ``description`` (optional): terms
    ``active`` (optional): false: no new orders may name this arbiter
    """
    return make_body(KINDS["arbiter_update"], {
        "fee_fixed": fee_fixed,
        "fee_bps": fee_bps,
        "description": description,
        "active": active,
    })


def shop_create(
    *,
    name: str,
    description: str,
    region: str,
    accepted_assets: Sequence[str],
    arbiters: Sequence[Account],
) -> dict[str, Any]:
    """A registered account opens a shop and owns it.

    ``name``: shop name
    ``description``: free text
    ``region``: ISO 3166 country or subdivision, e.g. `DE` or `US-CA`
    ``accepted_assets``: assets the shop's listings may be priced in (at least one)
    ``arbiters``: arbiters buyers may choose for this shop's orders
    """
    return make_body(KINDS["shop_create"], {
        "name": name,
        "description": description,
        "region": region,
        "accepted_assets": accepted_assets,
        "arbiters": arbiters,
    })


def shop_update(
    *,
    shop: int,
    name: str | None = None,
    description: str | None = None,
    region: str | None = None,
    accepted_assets: Sequence[str] | None = None,
    arbiters: Sequence[Account] | None = None,
) -> dict[str, Any]:
    """The owner changes the shop; absent fields are unchanged.

    ``shop``: shop id
    ``name`` (optional): shop name
    ``description`` (optional): free text
    ``region`` (optional): ISO 3166 country or subdivision, e.g. `DE` or `US-CA`
    ``accepted_assets`` (optional): assets the shop's listings may be priced in (at least one)
    ``arbiters`` (optional): arbiters buyers may choose for this shop's orders
    """
    return make_body(KINDS["shop_update"], {
        "shop": shop,
        "name": name,
        "description": description,
        "region": region,
        "accepted_assets": accepted_assets,
        "arbiters": arbiters,
    })


def shop_close(
    *,
    shop: int,
) -> dict[str, Any]:
    """The owner closes the shop: no new listings or orders, open orders continue.

    ``shop``: shop id
    """
    return make_body(KINDS["shop_close"], {
        "shop": shop,
    })


def listing_create(
    *,
    shop: int,
    type: str,
    title: str,
    description: str,
    category: str,
    tags: Sequence[str],
    price: int,
    asset: str,
    stock: int,
    regions: Sequence[str],
    images: Sequence[Hash],
    record: str | None = None,
    certificate: int | None = None,
    options: Sequence[Mapping[str, str | Sequence[str]]] | None = None,
    variants: Sequence[Mapping[str, str | Sequence[str] | int]] | None = None,
    shipping: Sequence[Mapping[str, str | Sequence[str] | int]] | None = None,
    return_window_ms: int | None = None,
) -> dict[str, Any]:
    """The shop owner lists goods.

    ``shop``: shop id
    ``type``: what is sold; `digital` orders ship an encrypted content key
    ``title``: title
    ``description``: free text
    ``category``: category label, e.g. `art`
    ``tags``: search tags
    ``price``: unit price in the smallest unit of `asset`
    ``asset``: asset of the price; the shop must accept it
    ``stock``: units available (reserved by orders when placed)
    ``regions``: regions shipped to (empty: anywhere / not applicable)
    ``images``: sha256 content hashes of the images
    ``record`` (optional): provenance record of the item
    ``certificate`` (optional): authenticity certificate of the item
    ``options`` (optional): what a buyer chooses, e.g. `{name: size, values: [S, M, L]}` (at most 3 options of 16 values)
    ``variants`` (optional): one per sold combination: `choice` is one value per option in order, unit price = `price` + `price_delta` (≥ 1), own stock (the listing's `stock` must be their sum); orders name one by `sku`
    ``shipping`` (optional): shipping options: service, regions served (empty: wherever the listing ships), price per order, delivery window in days; with any, an order must choose one
    ``return_window_ms`` (optional): how long after completion the buyer may ask to return the goods (0 or absent: no returns); fixed into each order when placed
    """
    return make_body(KINDS["listing_create"], {
        "shop": shop,
        "type": type,
        "title": title,
        "description": description,
        "category": category,
        "tags": tags,
        "price": price,
        "asset": asset,
        "stock": stock,
        "regions": regions,
        "images": images,
        "record": record,
        "certificate": certificate,
        "options": options,
        "variants": variants,
        "shipping": shipping,
        "return_window_ms": return_window_ms,
    })


def listing_update(
    *,
    listing: int,
    title: str | None = None,
    description: str | None = None,
    category: str | None = None,
    tags: Sequence[str] | None = None,
    price: int | None = None,
    asset: str | None = None,
    stock: int | None = None,
    regions: Sequence[str] | None = None,
    images: Sequence[Hash] | None = None,
    record: str | None = None,
    certificate: int | None = None,
    options: Sequence[Mapping[str, str | Sequence[str]]] | None = None,
    variants: Sequence[Mapping[str, str | Sequence[str] | int]] | None = None,
    shipping: Sequence[Mapping[str, str | Sequence[str] | int]] | None = None,
    return_window_ms: int | None = None,
) -> dict[str, Any]:
    """The seller changes the listing; absent fields are unchanged.

    ``listing``: listing id
    ``title`` (optional): title
    ``description`` (optional): free text
    ``category`` (optional): category label, e.g. `art`
    ``tags`` (optional): search tags
    ``price`` (optional): unit price in the smallest unit of `asset`
    ``asset`` (optional): asset of the price; the shop must accept it
    ``stock`` (optional): units available (reserved by orders when placed)
    ``regions`` (optional): regions shipped to (empty: anywhere / not applicable)
    ``images`` (optional): sha256 content hashes of the images
    ``record`` (optional): provenance record of the item
    ``certificate`` (optional): authenticity certificate of the item
    ``options`` (optional): what a buyer chooses, e.g. `{name: size, values: [S, M, L]}` (at most 3 options of 16 values)
    ``variants`` (optional): one per sold combination: `choice` is one value per option in order, unit price = `price` + `price_delta` (≥ 1), own stock (the listing's `stock` must be their sum); orders name one by `sku`
    ``shipping`` (optional): shipping options: service, regions served (empty: wherever the listing ships), price per order, delivery window in days; with any, an order must choose one
    ``return_window_ms`` (optional): how long after completion the buyer may ask to return the goods (0 or absent: no returns); fixed into each order when placed
    """
    return make_body(KINDS["listing_update"], {
        "listing": listing,
        "title": title,
        "description": description,
        "category": category,
        "tags": tags,
        "price": price,
        "asset": asset,
        "stock": stock,
        "regions": regions,
        "images": images,
        "record": record,
        "certificate": certificate,
        "options": options,
        "variants": variants,
        "shipping": shipping,
        "return_window_ms": return_window_ms,
    })


def listing_delist(
    *,
    listing: int,
) -> dict[str, Any]:
    """The seller withdraws the listing; open orders continue.

    ``listing``: listing id
    """
    return make_body(KINDS["listing_delist"], {
        "listing": listing,
    })


def order_place(
    *,
    listing: int,
    quantity: int,
    max_total: int,
    address_seller: bytes,
    arbiter: Account | None = None,
    address_arbiter: bytes | None = None,
    variant: str | None = None,
    shipping: str | None = None,
    region: str | None = None,
    coupon: str | None = None,
) -> dict[str, Any]:
    """A registered buyer orders; the total moves into escrow and stock is reserved.

    ``listing``: listing id
    ``quantity``: units
    ``max_total``: refuse if price * quantity exceeds this (price changed in flight)
    ``address_seller``: shipping address sealed to the seller (may be empty)
    ``arbiter`` (optional): an active arbiter the shop accepts (none: no disputes possible)
    ``address_arbiter`` (optional): shipping address sealed to the arbiter
    ``variant`` (optional): the variant's `sku` (required when the listing has variants)
    ``shipping`` (optional): the shipping option's `service` (required when the listing has any); its price is added to the total once
    ``region`` (optional): where the sealed address is, checked against the listing's and the shipping option's regions (required with `shipping`)
    ``coupon`` (optional): a coupon of the listing's shop, applied to the goods (not shipping)
    """
    return make_body(KINDS["order_place"], {
        "listing": listing,
        "quantity": quantity,
        "max_total": max_total,
        "arbiter": arbiter,
        "address_seller": address_seller,
        "address_arbiter": address_arbiter,
        "variant": variant,
        "shipping": shipping,
        "region": region,
        "coupon": coupon,
    })


def order_cart(
    *,
    items: Sequence[Mapping[str, int | str]],
    max_total: int,
    address_seller: bytes,
    arbiter: Account | None = None,
    address_arbiter: bytes | None = None,
    shipping: str | None = None,
    region: str | None = None,
    coupon: str | None = None,
) -> dict[str, Any]:
    """A registered buyer orders several listings of one shop at once: one order, one escrow (the lines ship, confirm and settle together).

    ``items``: 1..20 lines `{listing, quantity, variant}` (`variant` "" when the listing has none), each listing and variant once, all of one shop, asset and type
    ``max_total``: refuse if the cart's total exceeds this
    ``address_seller``: shipping address sealed to the seller (may be empty)
    ``arbiter`` (optional): an active arbiter the shop accepts (none: no disputes possible)
    ``address_arbiter`` (optional): shipping address sealed to the arbiter
    ``shipping`` (optional): one service every line with shipping options offers; the highest of their prices is paid once
    ``region`` (optional): where the sealed address is, checked against every line
    ``coupon`` (optional): a coupon of the shop, applied to all the goods
    """
    return make_body(KINDS["order_cart"], {
        "items": items,
        "max_total": max_total,
        "arbiter": arbiter,
        "address_seller": address_seller,
        "address_arbiter": address_arbiter,
        "shipping": shipping,
        "region": region,
        "coupon": coupon,
    })


def order_accept(
    *,
    order: int,
) -> dict[str, Any]:
    """The seller accepts a placed order before the accept deadline.

    ``order``: order id (from the `order_placed` event)
    """
    return make_body(KINDS["order_accept"], {
        "order": order,
    })


def order_decline(
    *,
    order: int,
    reason: str | None = None,
) -> dict[str, Any]:
    """The seller declines a placed or accepted order: full refund.

    ``order``: order id (from the `order_placed` event)
    ``reason`` (optional): why
    """
    return make_body(KINDS["order_decline"], {
        "order": order,
        "reason": reason,
    })


def order_cancel(
    *,
    order: int,
) -> dict[str, Any]:
    """The buyer cancels an order not yet accepted: full refund.

    ``order``: order id (from the `order_placed` event)
    """
    return make_body(KINDS["order_cancel"], {
        "order": order,
    })


def order_ship(
    *,
    order: int,
    tracking_hash: bytes | None = None,
    delivery: bytes | None = None,
) -> dict[str, Any]:
    """The seller ships an accepted order before the ship deadline.

    ``order``: order id (from the `order_placed` event)
    ``tracking_hash`` (optional): hash of the carrier's tracking reference
    ``delivery`` (optional): content key sealed to the buyer (required for digital)
    """
    return make_body(KINDS["order_ship"], {
        "order": order,
        "tracking_hash": tracking_hash,
        "delivery": delivery,
    })


def order_confirm(
    *,
    order: int,
) -> dict[str, Any]:
    """The buyer confirms receipt: escrow released to the seller.

    ``order``: order id (from the `order_placed` event)
    """
    return make_body(KINDS["order_confirm"], {
        "order": order,
    })


def order_dispute(
    *,
    order: int,
    reason_hash: Hash,
    evidence: Hash | None = None,
) -> dict[str, Any]:
    """Buyer or seller opens a dispute before the current deadline.

    ``order``: order id (from the `order_placed` event)
    ``reason_hash``: sha256 of the statement given to the arbiter (UTF-8 text)
    ``evidence`` (optional): sha256 of an evidence file (an image or a text)
    """
    return make_body(KINDS["order_dispute"], {
        "order": order,
        "reason_hash": reason_hash,
        "evidence": evidence,
    })


def order_respond(
    *,
    order: int,
    response_hash: Hash,
    evidence: Hash | None = None,
) -> dict[str, Any]:
    """The party that did not open a dispute answers it once, before the ruling deadline.

    ``order``: order id (from the `order_placed` event)
    ``response_hash``: sha256 of the answer to the statement (UTF-8 text)
    ``evidence`` (optional): sha256 of an evidence file (an image or a text)
    """
    return make_body(KINDS["order_respond"], {
        "order": order,
        "response_hash": response_hash,
        "evidence": evidence,
    })


def order_resolve(
    *,
    order: int,
    buyer_amount: int,
    ruling_hash: Hash | None = None,
) -> dict[str, Any]:
    """The order's arbiter splits the escrow after its fee.

    ``order``: order id (from the `order_placed` event)
    ``buyer_amount``: refund to the buyer; the seller gets the rest after the fee
    ``ruling_hash`` (optional): sha256 of the written ruling (UTF-8 text)
    """
    return make_body(KINDS["order_resolve"], {
        "order": order,
        "buyer_amount": buyer_amount,
        "ruling_hash": ruling_hash,
    })


def order_claim(
    *,
    order: int,
) -> dict[str, Any]:
    """After a deadline, the waiting party settles the order (see the state table).

    ``order``: order id (from the `order_placed` event)
    """
    return make_body(KINDS["order_claim"], {
        "order": order,
    })


def order_refund_offer(
    *,
    order: int,
    buyer_amount: int,
) -> dict[str, Any]:
    """Buyer or seller offers to settle an accepted, shipped or disputed order by returning an amount to the buyer; the state does not change.

    ``order``: order id (from the `order_placed` event)
    ``buyer_amount``: what goes back to the buyer (≤ total); the seller gets the rest less the platform fee
    """
    return make_body(KINDS["order_refund_offer"], {
        "order": order,
        "buyer_amount": buyer_amount,
    })


def order_refund_accept(
    *,
    order: int,
    buyer_amount: int,
) -> dict[str, Any]:
    """The other party accepts the open offer: escrow splits, the order is settled.

    ``order``: order id (from the `order_placed` event)
    ``buyer_amount``: the offer's amount, repeated
    """
    return make_body(KINDS["order_refund_accept"], {
        "order": order,
        "buyer_amount": buyer_amount,
    })


def coupon_issue(
    *,
    shop: int,
    coupon: str,
    max_uses: int,
    expires_ms: int,
    percent_bps: int | None = None,
    amount: int | None = None,
    asset: str | None = None,
) -> dict[str, Any]:
    """The shop's owner issues a discount code: percent off or a fixed amount off the goods.

    ``shop``: shop id
    ``coupon``: the code buyers type, e.g. `SPRING-10`
    ``max_uses``: how many orders may use it
    ``expires_ms``: block time from which it is refused
    ``percent_bps`` (optional): share off the goods in basis points (rounded down)
    ``amount`` (optional): fixed amount off the goods, in `asset`
    ``asset`` (optional): the fixed amount's asset (an accepted one; only listings priced in it)
    """
    return make_body(KINDS["coupon_issue"], {
        "shop": shop,
        "coupon": coupon,
        "percent_bps": percent_bps,
        "amount": amount,
        "asset": asset,
        "max_uses": max_uses,
        "expires_ms": expires_ms,
    })


def coupon_revoke(
    *,
    shop: int,
    coupon: str,
) -> dict[str, Any]:
    """The shop's owner withdraws a coupon for good.

    ``shop``: shop id
    ``coupon``: the coupon's code
    """
    return make_body(KINDS["coupon_revoke"], {
        "shop": shop,
        "coupon": coupon,
    })


def aftersales_deposit(
    *,
    shop: int,
    asset: str,
    amount: int,
) -> dict[str, Any]:
    """The shop's owner adds to the shop's after-sales deposit, which pays returns.

    ``shop``: shop id
    ``asset``: an asset the shop accepts
    ``amount``: amount to add
    """
    return make_body(KINDS["aftersales_deposit"], {
        "shop": shop,
        "asset": asset,
        "amount": amount,
    })


def aftersales_withdraw(
    *,
    shop: int,
    asset: str,
    amount: int,
) -> dict[str, Any]:
    """The shop's owner takes free deposit back, unless the shop owes buyers.

    ``shop``: shop id
    ``asset``: asset
    ``amount``: amount to take back
    """
    return make_body(KINDS["aftersales_withdraw"], {
        "shop": shop,
        "asset": asset,
        "amount": amount,
    })


def return_request(
    *,
    order: int,
    reason_hash: Hash,
) -> dict[str, Any]:
    """The buyer of a completed order asks to return it within the return window.

    ``order``: order id (from the `order_placed` event)
    ``reason_hash``: sha256 of the reason (UTF-8 text, served by the content store)
    """
    return make_body(KINDS["return_request"], {
        "order": order,
        "reason_hash": reason_hash,
    })


def return_answer(
    *,
    order: int,
    accept: bool,
) -> dict[str, Any]:
    """The seller accepts a requested return, or refuses it (then the order's arbiter rules; without one the return is rejected).

    ``order``: order id (from the `order_placed` event)
    ``accept``: true: the buyer ships the goods back
    """
    return make_body(KINDS["return_answer"], {
        "order": order,
        "accept": accept,
    })


def return_resolve(
    *,
    order: int,
    accept: bool,
    ruling_hash: Hash | None = None,
) -> dict[str, Any]:
    """The order's arbiter rules on a refused return.

    ``order``: order id (from the `order_placed` event)
    ``accept``: true: the return goes ahead; false: rejected
    ``ruling_hash`` (optional): sha256 of the written ruling (UTF-8 text)
    """
    return make_body(KINDS["return_resolve"], {
        "order": order,
        "accept": accept,
        "ruling_hash": ruling_hash,
    })


def return_ship(
    *,
    order: int,
    tracking_hash: bytes,
) -> dict[str, Any]:
    """The buyer ships the goods of an accepted return back.

    ``order``: order id (from the `order_placed` event)
    ``tracking_hash``: hash of the carrier's tracking reference
    """
    return make_body(KINDS["return_ship"], {
        "order": order,
        "tracking_hash": tracking_hash,
    })


def return_receive(
    *,
    order: int,
) -> dict[str, Any]:
    """The seller confirms the goods came back: the refund is paid from the deposit.

    ``order``: order id (from the `order_placed` event)
    """
    return make_body(KINDS["return_receive"], {
        "order": order,
    })


def return_collect(
    *,
    order: int,
) -> dict[str, Any]:
    """The buyer collects a refund the deposit could not pay, once it is topped up.

    ``order``: order id (from the `order_placed` event)
    """
    return make_body(KINDS["return_collect"], {
        "order": order,
    })


def return_claim(
    *,
    order: int,
) -> dict[str, Any]:
    """After a return's deadline, the waiting party settles it (see the return table).

    ``order``: order id (from the `order_placed` event)
    """
    return make_body(KINDS["return_claim"], {
        "order": order,
    })


def review(
    *,
    order: int,
    ratings: Mapping[str, int],
    text_hash: Hash,
    photo: Hash | None = None,
) -> dict[str, Any]:
    """The buyer of a completed order rates it once, weighted by its total, and may earn the reward.

    ``order``: order id (from the `order_placed` event)
    ``ratings``: each 1..5
    ``text_hash``: sha256 of the review text (UTF-8, served by every node's content store)
    ``photo`` (optional): sha256 of a photo of the item received (JPEG, PNG or WebP)
    """
    return make_body(KINDS["review"], {
        "order": order,
        "ratings": ratings,
        "text_hash": text_hash,
        "photo": photo,
    })


def review_reply(
    *,
    order: int,
    text_hash: Hash,
) -> dict[str, Any]:
    """The seller replies once to a review.

    ``order``: order id (from the `order_placed` event)
    ``text_hash``: sha256 of the reply text (UTF-8)
    """
    return make_body(KINDS["review_reply"], {
        "order": order,
        "text_hash": text_hash,
    })


def record_create(
    *,
    record: str,
    type: str,
    attributes: Mapping[str, Scalar],
) -> dict[str, Any]:
    """A producer registers a product or batch and becomes owner and custodian.

    ``record``: provenance record id
    ``type``: record type, e.g. `artwork`, `coffee-batch`
    ``attributes``: fixed attributes
    """
    return make_body(KINDS["record_create"], {
        "record": record,
        "type": type,
        "attributes": attributes,
    })


def record_report(
    *,
    record: str,
    property: str,
    value: Scalar,
) -> dict[str, Any]:
    """An authorized reporter or the custodian appends a property value.

    ``record``: provenance record id
    ``property``: e.g. `location`, `temperature`, `handling`
    ``value``: the value
    """
    return make_body(KINDS["record_report"], {
        "record": record,
        "property": property,
        "value": value,
    })


def record_propose(
    *,
    record: str,
    receiver: Account,
    role: str,
    terms: str | None = None,
) -> dict[str, Any]:
    """Owner (owner/reporter roles) or custodian (custody) offers a role to someone.

    ``record``: provenance record id
    ``receiver``: who is offered the role
    ``role``: what is handed over
    ``terms`` (optional): free text
    """
    return make_body(KINDS["record_propose"], {
        "record": record,
        "receiver": receiver,
        "role": role,
        "terms": terms,
    })


def record_answer(
    *,
    record: str,
    role: str,
    response: str,
    receiver: Account | None = None,
) -> dict[str, Any]:
    """The receiver accepts or rejects a proposal, or its issuer cancels it.

    ``record``: provenance record id
    ``role``: the proposal's role
    ``response``: answer
    ``receiver`` (optional): the proposal's receiver (required to cancel; default: sender)
    """
    return make_body(KINDS["record_answer"], {
        "record": record,
        "role": role,
        "response": response,
        "receiver": receiver,
    })


def record_finalize(
    *,
    record: str,
) -> dict[str, Any]:
    """The owner, also custodian, closes the record to further change.

    ``record``: provenance record id
    """
    return make_body(KINDS["record_finalize"], {
        "record": record,
    })


def cert_issue(
    *,
    fingerprint: Hash,
    owner: Account | None = None,
    record: str | None = None,
    metadata_hash: Hash | None = None,
) -> dict[str, Any]:
    """A `certifier` certifies an item fingerprint.

    ``fingerprint``: e.g. sha256 of the artwork's reference image
    ``owner`` (optional): first owner (default: sender)
    ``record`` (optional): linked provenance record
    ``metadata_hash`` (optional): hash of the certificate document
    """
    return make_body(KINDS["cert_issue"], {
        "fingerprint": fingerprint,
        "owner": owner,
        "record": record,
        "metadata_hash": metadata_hash,
    })


def cert_transfer(
    *,
    certificate: int,
    to: Account,
) -> dict[str, Any]:
    """The certificate's owner hands it to another account.

    ``certificate``: certificate id
    ``to``: new owner
    """
    return make_body(KINDS["cert_transfer"], {
        "certificate": certificate,
        "to": to,
    })


def cert_revoke(
    *,
    certificate: int,
    reason: str | None = None,
) -> dict[str, Any]:
    """The issuer revokes the certificate for good.

    ``certificate``: certificate id
    ``reason`` (optional): why
    """
    return make_body(KINDS["cert_revoke"], {
        "certificate": certificate,
        "reason": reason,
    })
