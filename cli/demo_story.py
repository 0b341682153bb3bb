"""The demo story, told through wallets: a shop, a sale with a review reward, a dispute, a traced product.

Every tx is built by wallet/ and sent by ``Wallet.send``; this module only
decides who does what, in which order, and says it. It knows no node
internals, so it runs against any testnet whose accounts hold the roles
node/genesis_setup.py gives the demo accounts (erin attests KYC, frank certifies).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from marketnode.cli import demo_images
from marketnode.cli.demo_accounts import accounts
from marketnode.cli.demo_commerce import commerce_act
from marketnode.cli.demo_messages import exchange
from marketnode.cli.wallet_common import DAY_MS
from marketnode.wallet import builders, kinds
from marketnode.wallet.account import TxResult, Wallet
from marketnode.wallet.amounts import AssetBook
from marketnode.wallet.content import put_content

ASSET = "USDX"
CAST = ("alice", "bob", "carol", "dave", "erin", "frank", "grace")
ROLES = {
    "alice": "coffee roaster and seller", "bob": "buyer", "carol": "bob's friend, who invited him",
    "dave": "carrier", "erin": "KYC attester", "frank": "certifier", "grace": "arbiter",
}
SEARCH_TIMEOUT_S = 20.0


@dataclass
class Step:
    """One thing that happened: who did it, what, and (for a tx) its hash and block."""

    number: int
    actor: str
    text: str
    tx: TxResult | None = None

    def to_json(self) -> dict[str, Any]:
        tx = self.tx
        return {"step": self.number, "actor": self.actor, "text": self.text,
                "kind": tx.kind if tx else None, "tx": tx.hash if tx else None, "height": tx.height if tx else None}


@dataclass
class Outcome:
    """The ids the story created and the steps it took, for the summary and for tests."""

    ids: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    balances_before: dict[str, dict[str, int]] = field(default_factory=dict)
    balances_after: dict[str, dict[str, int]] = field(default_factory=dict)


class Story:
    """Runs the story with one wallet per character; ``say`` prints each step as it happens."""

    def __init__(self, cast: Mapping[str, Wallet], say: Callable[[Step], None],
                 note: Callable[[str], None] | None = None) -> None:
        missing = [name for name in CAST if name not in cast]
        if missing:
            raise ValueError(f"the demo needs wallets for {missing}")
        self.cast = dict(cast)
        self.say = say
        self.note = note or (lambda text: None)
        self.outcome = Outcome()
        self.assets = AssetBook.from_node(self.cast["alice"].client)

    # -- telling ------------------------------------------------------------------------------

    def act(self, actor: str, text: str, kind: str, body: Mapping[str, Any]) -> TxResult:
        result = self.cast[actor].send(kind, body)
        self._step(actor, text, result)
        return result

    def put(self, actor: str, data: bytes, kind: str) -> bytes:
        """Upload ``data`` to the actor's node, signed by the actor (the content store, docs/RPC.md content_put)."""
        wallet = self.cast[actor]
        return bytes.fromhex(put_content(wallet.client, wallet.key, wallet.chain_id, data, kind)["hash"])

    def put_text(self, actor: str, text: str) -> str:
        self.put(actor, text.encode("utf-8"), "text")
        return text

    def tell(self, actor: str, text: str) -> None:
        self._step(actor, text, None)

    def record(self, actor: str, text: str, tx: TxResult) -> None:
        """A step for a tx sent some other way than ``act`` (a wallet outside the cast)."""
        self._step(actor, text, tx)

    def _step(self, actor: str, text: str, tx: TxResult | None) -> None:
        step = Step(len(self.outcome.steps) + 1, actor, text, tx)
        self.outcome.steps.append(step)
        self.say(step)

    def addr(self, name: str) -> str:
        return self.cast[name].address

    def money(self, amount: int, asset: str = ASSET) -> str:
        return self.assets.format(amount, asset)

    def balances(self) -> dict[str, dict[str, int]]:
        return {name: dict(self.cast[name].account()["balances"]) for name in ("alice", "bob", "carol", "grace")}

    # -- the story --------------------------------------------------------------------------------

    def run(self) -> Outcome:
        self.outcome.balances_before = self.balances()
        self.note("Act 1: people join")
        self.people()
        self.note("Act 2: a product with a history and a certificate")
        record_id, cert_id = self.product()
        self.note("Act 3: a shop opens")
        coffee, mug = self.shop(record_id, cert_id)
        self.note("Act 4: a sale, traced from roaster through carrier to buyer")
        self.sale(coffee, record_id, cert_id)
        self.note("Act 5: a dispute, split by the arbiter")
        self.dispute(mug)
        self.note("Act 5b: messages, encrypted end to end (nodes store and forward, cannot read)")
        exchange(self)
        self.note("Act 5c: variants, shipping, a coupon, a return, a mutual refund and a cart")
        commerce_act(self)
        self.note("Act 5d: accounts that survive a lost or stolen key")
        accounts(self)
        self.note("Act 6: what the chain now says")
        self.trace(record_id)
        self.outcome.balances_after = self.balances()
        self.money_moves()
        return self.outcome

    def people(self) -> None:
        for name in ("carol", "alice", "dave", "grace", "bob"):
            account = self.cast[name].account()
            if account["registered"]:
                self.tell(name, f"is already registered as {account['profile']['name']!r}")
                continue
            inviter = self.addr("carol") if name == "bob" else None
            body, _salt = builders.register(name.title(), {"email": f"{name}@example.org"}, inviter=inviter)
            invited = ", invited by carol" if inviter else ""
            self.act(name, f"registers as {name.title()} ({ROLES[name]}{invited}); "
                           "the e-mail goes on chain only as a salted hash", "register", body)
        head_ms = int(self.cast["erin"].client.call("node_status")["head_time_ms"])
        self.act("erin", "attests alice's identity: KYC level 2 for a year", "kyc_attest",
                 kinds.kyc_attest(account=self.addr("alice"), level=2, expires_ms=head_ms + 365 * DAY_MS))
        if self.cast["grace"].account().get("arbiter"):
            self.tell("grace", "already arbitrates")
        else:
            self.act("grace", "offers arbitration for 2% of the escrow", "arbiter_register",
                     kinds.arbiter_register(fee_fixed=0, fee_bps=200, description="EN/DE; food and crafts"))

    def product(self) -> tuple[str, int]:
        height = int(self.cast["alice"].client.call("node_status")["height"])
        record_id = f"huila-lot-{height}"
        self.outcome.ids["record"] = record_id
        self.act("alice", f"registers coffee lot {record_id} as its producer", "record_create",
                 kinds.record_create(record=record_id, type="coffee-batch",
                                     attributes={"origin": "Huila, Colombia", "harvest": "2026-09", "kg": 60}))
        self.act("alice", "reports the roast", "record_report",
                 kinds.record_report(record=record_id, property="roast", value="medium, 2026-11-20"))
        fingerprint = hashlib.sha256(f"{record_id}: lab sample photo".encode()).digest()
        issued = self.act("frank", f"certifies the lot (fingerprint {fingerprint.hex()[:16]}…) to alice",
                          "cert_issue", kinds.cert_issue(fingerprint=fingerprint, owner=self.addr("alice"),
                                                         record=record_id,
                                                         metadata_hash=builders.text_hash("cupping score 87")))
        cert_id = int(issued.event("certificate_issued")["certificate"])
        self.outcome.ids.update(certificate=cert_id, fingerprint=fingerprint.hex())
        return record_id, cert_id

    def shop(self, record_id: str, cert_id: int) -> tuple[int, int]:
        created = self.act("alice", "opens the shop \"Alice's Roastery\" (accepts USDX, arbiter grace)",
                           "shop_create", kinds.shop_create(
                               name="Alice's Roastery", description="Single-origin coffee, roasted weekly",
                               region="DE", accepted_assets=[ASSET], arbiters=[self.addr("grace")]))
        shop_id = int(created.event("shop_created")["shop"])
        coffee_photos = [self.put("alice", demo_images.coffee_bag(), "image"),
                         self.put("alice", demo_images.coffee_beans(), "image")]
        mug_photos = [self.put("alice", demo_images.mug(), "image")]
        self.tell("alice", "uploads three product photos to her node; the listings carry their sha256 hashes")
        self.outcome.ids["listing_images"] = [h.hex() for h in coffee_photos + mug_photos]
        coffee_price = self.assets.parse("12.50", ASSET)
        coffee = self.act("alice", f"lists Huila coffee, 250 g at {self.money(coffee_price)}, linked to its lot "
                                   "and certificate", "listing_create", kinds.listing_create(
            shop=shop_id, type="physical", title="Huila single-origin coffee, 250 g",
            description="Washed Caturra, notes of panela and orange", category="coffee",
            tags=["huila", "single-origin", "washed"], price=coffee_price, asset=ASSET, stock=40,
            regions=["DE", "AT"], images=coffee_photos, record=record_id, certificate=cert_id))
        mug_price = self.assets.parse("18.00", ASSET)
        mug = self.act("alice", f"lists a hand-thrown mug at {self.money(mug_price)}", "listing_create",
                       kinds.listing_create(shop=shop_id, type="physical", title="Hand-thrown coffee mug",
                                            description="Stoneware, 300 ml", category="ceramics", tags=["mug"],
                                            price=mug_price, asset=ASSET, stock=5, regions=[], images=mug_photos))
        coffee_id = int(coffee.event("listing_created")["listing"])
        mug_id = int(mug.event("listing_created")["listing"])
        self.outcome.ids.update(shop=shop_id, coffee_listing=coffee_id, mug_listing=mug_id)
        return coffee_id, mug_id

    def find(self, words: str, listing_id: int) -> dict[str, Any]:
        """Search as the buyer does, through the buyer's node, until its index has the listing."""
        client = self.cast["bob"].client
        deadline = time.monotonic() + SEARCH_TIMEOUT_S
        while True:
            page = client.call("listing_search", q=words, in_stock=True, sort="relevance", limit=20)
            hit = next((item for item in page["items"] if item["id"] == listing_id), None)
            if hit is not None:
                return hit
            if time.monotonic() > deadline:
                raise RuntimeError(f"listing {listing_id} not found by searching {words!r} on {client.url}")
            time.sleep(0.3)

    def sale(self, coffee: int, record_id: str, cert_id: int) -> None:
        hit = self.find("huila coffee", coffee)
        self.tell("bob", f"searches \"huila coffee\" and finds listing {coffee}: {hit['title']}, "
                         f"{self.money(hit['price'], hit['asset'])}")
        total = hit["price"] * 2
        placed = self.act("bob", f"orders 2 ({self.money(total)} into escrow, arbiter grace); the address is "
                                 "sealed to alice and grace", "order_place",
                          builders.order_place(coffee, 2, total, hit["seller"], "Bob Example, 1 Main St, Berlin",
                                               arbiter=self.addr("grace")))
        order = int(placed.event("order_placed")["order"])
        self.outcome.ids["sale_order"] = order
        sealed = self.cast["alice"].client.call("order_get", order=order)["address_seller"]
        self.tell("alice", f"opens the sealed address: {self.cast['alice'].open_sealed(sealed)!r}")
        self.act("alice", f"accepts order {order}", "order_accept", kinds.order_accept(order=order))
        self.act("alice", "hands the lot to dave, the carrier", "record_propose",
                 kinds.record_propose(record=record_id, receiver=self.addr("dave"), role="custodian",
                                      terms="deliver to Berlin"))
        self.act("dave", "takes custody", "record_answer",
                 kinds.record_answer(record=record_id, role="custodian", response="accept"))
        self.act("alice", f"ships order {order} (tracking number hashed on chain)", "order_ship",
                 builders.order_ship(order, tracking="DHL 0034 4521 7788"))
        self.act("dave", "reports the lot at the Hamburg hub, 14 °C", "record_report",
                 kinds.record_report(record=record_id, property="location", value="Hamburg hub, 14 C"))
        self.act("dave", "hands the parcel to bob", "record_propose",
                 kinds.record_propose(record=record_id, receiver=self.addr("bob"), role="custodian"))
        self.act("bob", "signs for it: takes custody", "record_answer",
                 kinds.record_answer(record=record_id, role="custodian", response="accept"))
        self.act("alice", "offers bob ownership of the lot", "record_propose",
                 kinds.record_propose(record=record_id, receiver=self.addr("bob"), role="owner"))
        self.act("bob", "accepts ownership", "record_answer",
                 kinds.record_answer(record=record_id, role="owner", response="accept"))
        self.act("alice", f"passes certificate {cert_id} to bob", "cert_transfer",
                 kinds.cert_transfer(certificate=cert_id, to=self.addr("bob")))
        confirmed = self.act("bob", f"confirms order {order}: escrow released to alice", "order_confirm",
                             kinds.order_confirm(order=order))
        referral = _reward(confirmed, "referral")
        if referral is not None:
            self.tell("carol", f"earns the referral reward: {self.money(referral['amount'], referral['asset'])}")
        text = self.put_text("bob", "Fresh, fragrant, fast. Notes of orange, just as described; well packed.")
        photo = self.put("bob", demo_images.review_photo(), "image")
        self.outcome.ids.update(review_text=text, review_photo=photo.hex())
        reviewed = self.act("bob", "reviews: 5 stars, with a text and a photo (both stored by every node)",
                            "review", builders.review(order, 5, text, photo))
        reward = _reward(reviewed, "review")
        if reward is not None:
            self.tell("bob", f"earns the review reward: {self.money(reward['amount'], reward['asset'])}")
            self.outcome.ids["review_reward"] = reward["amount"]
        reply = self.put_text("alice", "Thank you, Bob! The next lot is a natural process from Nariño.")
        self.act("alice", "replies to the review", "review_reply",
                 kinds.review_reply(order=order, text_hash=builders.text_hash(reply)))

    def dispute(self, mug: int) -> None:
        price = self.cast["bob"].client.call("listing_get", listing=mug)["price"]
        placed = self.act("bob", f"orders the mug ({self.money(price)} into escrow, arbiter grace)", "order_place",
                          builders.order_place(mug, 1, price, self.addr("alice"), "Bob Example, 1 Main St, Berlin",
                                               arbiter=self.addr("grace")))
        order = int(placed.event("order_placed")["order"])
        fee = int(self.cast["bob"].client.call("order_get", order=order)["arbiter_fee"])
        self.outcome.ids["dispute_order"] = order
        self.act("alice", f"accepts order {order}", "order_accept", kinds.order_accept(order=order))
        self.act("alice", f"ships order {order}", "order_ship", builders.order_ship(order, tracking="DHL 0034 9999"))
        statement = self.put_text("bob", "The mug arrived with a crack through the handle. The box was dented "
                                         "on one corner; photo attached.")
        evidence = self.put("bob", demo_images.mug(cracked=True), "image")
        self.act("bob", "disputes: the mug arrived cracked (statement and photo stored by the nodes, their hashes "
                        "on chain)", "order_dispute", builders.order_dispute(order, statement, evidence))
        answer = self.put_text("alice", "The mug left intact in 4 cm of padding; the box was dented in transit. "
                                        "Happy to share the loss.")
        self.act("alice", "answers the dispute (her statement stored the same way)", "order_respond",
                 builders.order_respond(order, answer))
        refund = (price - fee) // 2
        ruling = self.put_text("grace", "Shared fault: the packaging was thin and the carrier rough. Half the "
                                        "price after my fee goes back to Bob; Alice keeps the rest.")
        self.act("grace", f"rules: {self.money(refund)} back to bob, the rest to alice after her "
                          f"{self.money(fee)} fee", "order_resolve", builders.order_resolve(order, refund, ruling))
        self.outcome.ids.update(dispute_statement=statement, dispute_evidence=evidence.hex(), dispute_answer=answer,
                                ruling=ruling)
        self.outcome.ids.update(dispute_refund=refund, arbiter_fee=fee)

    def money_moves(self) -> None:
        """Say how each balance changed over the story."""
        before, after = self.outcome.balances_before, self.outcome.balances_after
        for name in after:
            assets = sorted(set(before[name]) | set(after[name]))
            moves = [(asset, after[name].get(asset, 0) - before[name].get(asset, 0)) for asset in assets]
            text = ", ".join(("+" if delta > 0 else "-") + self.money(abs(delta), asset)
                             for asset, delta in moves if delta)
            self.tell(name, f"balance moved: {text or 'nothing'}")

    def trace(self, record_id: str) -> None:
        client = self.cast["bob"].client
        history = client.call("record_history", record=record_id, limit=100)["items"]
        who = {self.addr(name): name for name in CAST}
        steps = " → ".join(_trace_entry(e, who) for e in history)
        self.tell("bob", f"traces lot {record_id}: {steps}")
        verdict = client.call("cert_verify", fingerprint=self.outcome.ids["fingerprint"])
        owner = who.get(verdict["certificates"][0]["owner"], "?") if verdict["certificates"] else "nobody"
        self.tell("bob", f"verifies the certificate by fingerprint: {'valid' if verdict['valid'] else 'NOT valid'},"
                         f" issued by frank, owned by {owner}")


def _trace_entry(entry: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """``custodian(dave)``, ``reported(location)``: one history entry in a line of the trace."""
    if entry.get("account"):
        return f"{entry['event']}({names.get(entry['account'], entry['account'][:10])})"
    if entry.get("property"):
        return f"{entry['event']}({entry['property']})"
    return str(entry["event"])


def _reward(result: TxResult, reason: str) -> dict[str, Any] | None:
    """The attrs of the tx's paid reward for ``reason``, if any (an empty pool pays nothing)."""
    for event in result.events:
        attrs = event.get("attrs", {})
        if event.get("kind") == "reward" and attrs.get("reason") == reason and attrs.get("amount"):
            return attrs
    return None
