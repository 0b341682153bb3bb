"""A tiny in-memory chain for market tests: named keys, one-call txs, blocks like the node's."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from marketnode.core import smt
from marketnode.core.keys import PrivateKey
from marketnode.core.types import Tx
from marketnode.market import keys, store
from marketnode.market.accounts import balance
from marketnode.market.context import BlockContext
from marketnode.market.engine import apply_block, init_genesis
from marketnode.market.genesis import Genesis, GenesisAccount, GenesisAsset, GenesisValidator
from marketnode.market.params import Params
from marketnode.market.receipts import Receipt
from marketnode.market.schema import errors_of
from marketnode.market.state import MemoryState, StateOverlay

CHAIN_ID = "market-test"
GENESIS_MS = 1_700_000_000_000
NAMES = ("alice", "bob", "carol", "dave", "erin", "arb", "arb2", "attester", "certifier", "issuer", "proposer")
FUNDS = 1_000_000
POOL = 10_000
DEFAULT_PARAMS = dict(min_fee=1, platform_fee_bps=100, review_reward=10, referral_reward=20)


def key_of(name: str) -> PrivateKey:
    return PrivateKey(hashlib.sha256(b"market-test:" + name.encode()).digest())


def make_genesis(**params: Any) -> Genesis:
    return Genesis(
        chain_id=CHAIN_ID,
        genesis_time_ms=GENESIS_MS,
        validators=(GenesisValidator("v0", key_of("proposer").public_key, "ws://127.0.0.1:26656"),),
        accounts=tuple(GenesisAccount(key_of(n).public_key, {"MKT": FUNDS, "USD": FUNDS}) for n in NAMES),
        assets=(GenesisAsset("USD", "test dollar", 2, key_of("issuer").public_key, None),),
        roles={
            "kyc_attester": (key_of("attester").public_key,),
            "certifier": (key_of("certifier").public_key,),
            "asset_issuer": (key_of("issuer").public_key,),
        },
        reward_pool={"MKT": POOL, "USD": POOL},  # rewards are paid in the order's asset
        params=Params(**{**DEFAULT_PARAMS, **params}),
    )


class Chain:
    """Executes txs the way the node does: an overlay per block, the state tree's root."""

    def __init__(self, genesis: Genesis | None = None) -> None:
        self.genesis = genesis or make_genesis()
        self.state = MemoryState()
        init_genesis(self.state, self.genesis)
        self.keys = {n: key_of(n) for n in NAMES}
        self.signing: dict[str, list[PrivateKey]] = {}
        self.now_ms = GENESIS_MS
        self.height = 0
        self._tree_nodes: dict[bytes, bytes] = {}
        self._tree: smt.Entry | None = None
        self._grow_tree(self.state.items())
        self.blocks: list[tuple[BlockContext, list[Tx]]] = []
        self.receipts: list[list[Receipt]] = []  # per block, as the node's query index reads them

    def acct(self, name: str) -> bytes:
        return self.keys[name].public_key

    def tx(self, who: str, kind: str, nonce: int | None = None, fee: int | None = None, **body: Any) -> Tx:
        """Signed by ``self.signing[who]`` if set (rotated or multi-key accounts), else by the address key.

        The default fee is the minimum of 1 per signature.
        """
        sender = self.acct(who)
        if nonce is None:
            nonce = store.load_int(self.state, keys.nonce(sender))
        signers = self.signing.get(who)
        tx = Tx(CHAIN_ID, sender, nonce, kind, body, len(signers or [0]) if fee is None else fee)
        if signers is None:
            return tx.sign(self.keys[who])
        for key in signers:
            tx = tx.cosign(key)
        return tx

    def block(self, txs: list[Tx], proposer: str = "proposer") -> list[Receipt]:
        self.height += 1
        ctx = BlockContext(CHAIN_ID, self.height, self.now_ms, self.acct(proposer))
        overlay = StateOverlay(self.state)
        receipts = apply_block(overlay, ctx, txs)
        for tx, receipt in zip(txs, receipts):
            assert receipt.ok or receipt.code in errors_of(tx.kind), f"{tx.kind} failed with undeclared {receipt.code}"
        changes = overlay.changes()
        self._grow_tree(changes)
        self.state.apply(changes)
        self.blocks.append((ctx, list(txs)))
        self.receipts.append(receipts)
        self.now_ms += 1_000
        return receipts

    def _grow_tree(self, changes: Mapping[bytes, bytes | None]) -> None:
        """The state tree after this block, as the node's store keeps it (root = the next header's state_root)."""
        update = smt.TreeUpdate(self._tree_nodes, self._tree, self.height, changes)
        self._tree_nodes.update(update.writes)
        self._tree, self.root = update.root_entry, update.root

    def send(self, who: str, kind: str, **body: Any) -> Receipt:
        return self.block([self.tx(who, kind, **body)])[0]

    def ok(self, who: str, kind: str, **body: Any) -> Receipt:
        receipt = self.send(who, kind, **body)
        assert receipt.ok, f"{kind} failed: {receipt.code}: {receipt.message}"
        return receipt

    def fails(self, code: str, who: str, kind: str, **body: Any) -> Receipt:
        before = self.state.items()
        receipt = self.send(who, kind, **body)
        assert (receipt.ok, receipt.code) == (False, code), receipt.message
        after = self.state.items()
        changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
        sender = self.acct(who)
        fee_keys = {keys.nonce(sender), keys.balance(sender, "MKT"), keys.balance(self.acct("proposer"), "MKT"),
                    keys.receipts_root(self.height), keys.spent(sender)}  # spent: a guarded account's fee counts
        assert changed <= fee_keys, f"a failed tx changed {sorted(changed - fee_keys)}"
        return receipt

    def advance(self, ms: int) -> None:
        self.now_ms += ms

    def balance(self, who: str | bytes, asset: str = "USD") -> int:
        account = self.acct(who) if isinstance(who, str) else who
        return balance(self.state, account, asset)

    def load(self, key: bytes) -> Any:
        return store.load(self.state, key)

    # common set-ups -------------------------------------------------------
    def register(self, *names: str) -> None:
        for name in names:
            self.ok(name, "register", name=name.title(), commitment=bytes(32))

    def arbiter(self, name: str = "arb", fee_fixed: int = 5, fee_bps: int = 500) -> None:
        self.register(name)
        self.ok(name, "arbiter_register", fee_fixed=fee_fixed, fee_bps=fee_bps, description="fair")

    def shop(self, owner: str = "alice", arbiters: tuple[str, ...] = ("arb",), **fields: Any) -> int:
        body = dict(name="Shop", description="", region="DE", accepted_assets=["USD", "MKT"],
                    arbiters=[self.acct(a) for a in arbiters])
        body.update(fields)
        return self.ok(owner, "shop_create", **body).events[0].attrs["shop"]

    def listing(self, owner: str, shop: int, **fields: Any) -> int:
        body = dict(shop=shop, type="physical", title="Vase", description="blue", category="art", tags=["vase"],
                    price=100, asset="USD", stock=10, regions=["DE"], images=[bytes(32)])
        body.update(fields)
        return self.ok(owner, "listing_create", **body).events[0].attrs["listing"]

    def place(self, buyer: str, listing: int, arbiter: str | None = "arb", **fields: Any) -> int:
        body = dict(listing=listing, quantity=1, max_total=10**9, address_seller=b"sealed",
                    arbiter=self.acct(arbiter) if arbiter else None)
        body.update(fields)
        receipt = self.ok(buyer, "order_place", **body)
        return receipt.events[-1].attrs["order"]

    def shipped(self, listing: int, buyer: str = "bob", seller: str = "alice", **fields: Any) -> int:
        """Place, accept and ship an order; return its id."""
        order = self.place(buyer, listing, **fields)
        self.ok(seller, "order_accept", order=order)
        self.ok(seller, "order_ship", order=order, delivery=b"sealed key")
        return order

    def order(self, order_id: int) -> dict[str, Any]:
        return self.load(keys.order(order_id))

    def market(self) -> tuple[int, int]:
        """alice's shop with one listing accepting arbiter `arb`; bob registered as buyer."""
        self.arbiter("arb")
        self.register("alice", "bob")
        shop = self.shop("alice")
        return shop, self.listing("alice", shop)
