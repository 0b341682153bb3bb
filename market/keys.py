"""Every state key the market rules use, built in this one module.

Numbers are 8-byte big-endian and strings are length-prefixed, so a prefix
scan returns entries in numeric order and no key is a prefix of another
entity's key. Index entries map to ``INDEX_VALUE`` (canonical nil): the key
is the information. The layout is documented in docs/MARKET.md.
"""

from __future__ import annotations

from marketnode.core.encoding import encode
from marketnode.core.stateproof import receipts_root_key

INDEX_VALUE = encode(None)

CHAIN_ID = b"meta/chain_id"
PARAMS = b"meta/params"
GENESIS_HASH = b"meta/genesis_hash"


def u64(number: int) -> bytes:
    return number.to_bytes(8, "big")


def text(value: str) -> bytes:
    """Length-prefixed UTF-8 (strings in keys are at most 255 bytes by schema)."""
    raw = value.encode()
    return bytes([len(raw)]) + raw


def _tail(prefix: bytes, last: int | None) -> bytes:
    return prefix if last is None else prefix + u64(last)


def receipts_root(height: int) -> bytes:
    """The Merkle root of block ``height``'s receipt hashes, so the state root commits every tx's outcome."""
    return receipts_root_key(height)


def counter(name: str) -> bytes:
    return b"seq/" + name.encode()


# accounts and assets
def nonce(account: bytes) -> bytes:
    return b"nonce/" + account


def account(account_key: bytes) -> bytes:
    return b"acct/" + account_key


def first_purchase(account_key: bytes) -> bytes:
    return b"fpur/" + account_key


def rewards_counted(role_name: str, account_key: bytes) -> bytes:
    """Rewards one account earned in the current period as buyer, seller or inviter."""
    return b"rwd/" + text(role_name) + account_key


BALANCE_PREFIX = b"bal/"


def balance(account_key: bytes, asset_id: str | None = None) -> bytes:
    return BALANCE_PREFIX + account_key + (b"" if asset_id is None else text(asset_id))


ASSET_PREFIX = b"asset/"


def asset(asset_id: str) -> bytes:
    return ASSET_PREFIX + text(asset_id)


def role(role_name: str, account_key: bytes | None = None) -> bytes:
    return b"role/" + text(role_name) + (account_key or b"")


def kyc(account_key: bytes) -> bytes:
    return b"kyc/" + account_key


ARBITER_PREFIX = b"arb/"


def arbiter(account_key: bytes) -> bytes:
    return ARBITER_PREFIX + account_key


# shops and listings
def shop(shop_id: int) -> bytes:
    return b"shop/" + u64(shop_id)


def shops_by_owner(owner: bytes, shop_id: int | None = None) -> bytes:
    return _tail(b"ix/shop-owner/" + owner, shop_id)


LISTING_PREFIX = b"lst/"
STOCK_PREFIX = b"stock/"


def listing(listing_id: int) -> bytes:
    return LISTING_PREFIX + u64(listing_id)


def stock(listing_id: int) -> bytes:
    return STOCK_PREFIX + u64(listing_id)


VARIANT_STOCK_PREFIX = b"vstock/"


def variant_stock(listing_id: int, sku: str) -> bytes:
    """Units left of one variant; the listing's ``stock`` key holds the sum over its variants."""
    return VARIANT_STOCK_PREFIX + u64(listing_id) + text(sku)


def listings_by_shop(shop_id: int, listing_id: int | None = None) -> bytes:
    return _tail(b"ix/lst-shop/" + u64(shop_id), listing_id)


def listings_by_seller(seller: bytes, listing_id: int | None = None) -> bytes:
    return _tail(b"ix/lst-seller/" + seller, listing_id)


def listings_by_category(category: str, listing_id: int | None = None) -> bytes:
    return _tail(b"ix/lst-cat/" + text(category), listing_id)


# orders
ORDER_PREFIX = b"ord/"


def order(order_id: int) -> bytes:
    return ORDER_PREFIX + u64(order_id)


def orders_by_buyer(buyer: bytes, order_id: int | None = None) -> bytes:
    return _tail(b"ix/ord-buyer/" + buyer, order_id)


def orders_by_seller(seller: bytes, order_id: int | None = None) -> bytes:
    return _tail(b"ix/ord-seller/" + seller, order_id)


def orders_by_status(status: str, order_id: int | None = None) -> bytes:
    return _tail(b"ix/ord-status/" + text(status), order_id)


# reviews and ratings
def review(order_id: int) -> bytes:
    return b"rev/" + u64(order_id)


def reviews_by_listing(listing_id: int, order_id: int | None = None) -> bytes:
    return _tail(b"ix/rev-listing/" + u64(listing_id), order_id)


def seller_rating(seller: bytes) -> bytes:
    return b"rating/seller/" + seller


def listing_rating(listing_id: int) -> bytes:
    return b"rating/lst/" + u64(listing_id)


# provenance
def record(record_id: str) -> bytes:
    return b"rec/" + text(record_id)


def record_history(record_id: str, seq: int | None = None) -> bytes:
    return _tail(b"rec-hist/" + text(record_id), seq)


def proposal(record_id: str, receiver: bytes | None = None, role_name: str | None = None) -> bytes:
    key = b"rec-prop/" + text(record_id)
    if receiver is not None:
        key += receiver
        if role_name is not None:
            key += text(role_name)
    return key


# certificates
def certificate(cert_id: int) -> bytes:
    return b"cert/" + u64(cert_id)


def cert_history(cert_id: int, seq: int | None = None) -> bytes:
    return _tail(b"cert-hist/" + u64(cert_id), seq)


def certs_by_fingerprint(fingerprint: bytes, cert_id: int | None = None) -> bytes:
    return _tail(b"ix/cert-fp/" + fingerprint, cert_id)


def certs_by_owner(owner: bytes, cert_id: int | None = None) -> bytes:
    return _tail(b"ix/cert-owner/" + owner, cert_id)


# after-sales: deposits, returns
def aftersales_deposit(shop_id: int, asset_id: str) -> bytes:
    """What a shop's after-sales deposit holds free for refunds, in one asset (held in the AFTERSALES account)."""
    return b"as-dep/" + u64(shop_id) + text(asset_id)


def aftersales_owed(shop_id: int, asset_id: str) -> bytes:
    """What a shop still owes buyers for returns its deposit could not pay."""
    return b"as-owed/" + u64(shop_id) + text(asset_id)


RETURN_PREFIX = b"ret/"


def order_return(order_id: int) -> bytes:
    return RETURN_PREFIX + u64(order_id)


def returns_by_status(status: str, order_id: int | None = None) -> bytes:
    return _tail(b"ix/ret-status/" + text(status), order_id)


def coupon(shop_id: int, code: str) -> bytes:
    return b"coupon/" + u64(shop_id) + text(code)
# account authority (key sets) and guardian recovery
def authority(account_key: bytes) -> bytes:
    """The account's key set and policy; absent: the address's own key alone (market/authority.py)."""
    return b"auth/" + account_key


def spent(account_key: bytes) -> bytes:
    """``[period, amount]``: native units one key moved out of a guarded account in the current period."""
    return b"spent/" + account_key


def guardians(account_key: bytes) -> bytes:
    return b"guard/" + account_key


def recovery(account_key: bytes) -> bytes:
    """The account's pending guardian recovery, if any (market/recovery.py)."""
    return b"recov/" + account_key
