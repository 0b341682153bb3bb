"""Demo marketplace data on a running test Testnet, sent as real signed txs (for the e2e test and screenshots).

``Market`` signs with the testnet's demo accounts and waits for each round
of txs to commit with an ok receipt. ``populate`` tells the whole story: an
arbiter, a shop, listings, a traced and certified item, orders in every step.
"""

from __future__ import annotations

import hashlib
from typing import Any

from harness import Testnet, wait_for

from marketnode.cli import demo_images
from marketnode.core.keys import address_from_pubkey
from marketnode.core.types import Tx
from marketnode.wallet.content import put_content

ASSET = "USDX"  # 2 decimals in the dev genesis
FINGERPRINT = hashlib.sha256(b"marketnode demo: reference image of 'Harbour at dawn'").digest()
RECORD_ID = "art-2026-0001"


class Market:
    """Sign demo-account txs and commit them in rounds through one node."""

    def __init__(self, net: Testnet, via: str = "validator-0") -> None:
        self.net = net
        self.via = via
        self._nonces: dict[str, int] = {}  # for txs signed but not yet committed

    def tx(self, who: str, kind: str, **body: Any) -> Tx:
        """A signed tx; nonces come from the chain (a browser wallet may have used the same account)."""
        key = self.net.keys[who]
        if who not in self._nonces:
            self._nonces[who] = self.net.call(self.via, "account_get", address=address_from_pubkey(key.public_key))["nonce"]
        nonce = self._nonces[who]
        self._nonces[who] += 1
        return Tx(self.net.chain_id, key.public_key, nonce, kind, body, 0).sign(key)

    def commit(self, *txs: Tx, timeout_s: float = 30) -> list[dict]:
        """Send ``txs`` in one batch; wait until all commit; return their tx_get results (receipts ok)."""
        self._nonces.clear()
        results = self.net.send_batch(list(txs), self.via)
        assert all("error" not in r for r in results), results
        wait_for(lambda: all(self.net.committed(self.via, tx.hash) for tx in txs), timeout_s, "demo txs to commit")
        statuses = [self.net.call(self.via, "tx_get", hash=tx.hash.hex()) for tx in txs]
        for status in statuses:
            receipt = status["receipt"]
            assert receipt["ok"], f"{status['tx']['kind']} failed: {receipt['code']}: {receipt['message']}"
        return statuses

    def one(self, who: str, kind: str, **body: Any) -> dict:
        return self.commit(self.tx(who, kind, **body))[0]

    def put(self, who: str, data: bytes, kind: str | None = None) -> bytes:
        """Upload ``data`` to the node as ``who`` (content_put); its sha256, for a tx to reference."""
        answer = put_content(_Caller(self.net, self.via), self.net.keys[who], self.net.chain_id, data, kind)
        return bytes.fromhex(answer["hash"])

    def text(self, who: str, text: str) -> bytes:
        return self.put(who, text.encode("utf-8"), "text")

    def pubkey(self, who: str) -> bytes:
        return self.net.keys[who].public_key

    @staticmethod
    def event_attr(status: dict, kind: str, name: str) -> Any:
        return next(e["attrs"][name] for e in status["receipt"]["events"] if e["kind"] == kind)

    # -- story steps -----------------------------------------------------------------------

    def register(self, *names: str) -> None:
        self.commit(*(self.tx(n, "register", name=n.title(), commitment=hashlib.sha256(n.encode()).digest())
                      for n in names))

    def listing(self, shop: int, title: str, price: int, **fields: Any) -> int:
        body: dict[str, Any] = dict(shop=shop, type="physical", title=title, description="", category="art", tags=[],
                                    price=price, asset=ASSET, stock=5, regions=[], images=[])
        body.update(fields)
        return self.event_attr(self.one("alice", "listing_create", **body), "listing_created", "listing")

    def place(self, buyer: str, listing: int, quantity: int = 1) -> int:
        status = self.one(buyer, "order_place", listing=listing, quantity=quantity, max_total=10**12,
                          arbiter=self.pubkey("carol"), address_seller=b"sealed address")
        return self.event_attr(status, "order_placed", "order")


class _Caller:
    """The harness's JSON-RPC call in the shape wallet.content expects."""

    def __init__(self, net: Testnet, via: str) -> None:
        self.net, self.via, self.url = net, via, net.url(via)

    def call(self, method: str, /, **params: Any) -> Any:
        return self.net.call(self.via, method, **params)


REVIEW_TEXT = "Lovely vase: the cobalt glaze is deeper than in the photos, and it came double-boxed."
REPLY_TEXT = "Thank you, Bob! Enjoy it."
STATEMENT = "The vase arrived in the wrong colour: green, not cobalt blue as listed. Photo attached."
ANSWER = "I glazed and shipped cobalt; the photo's green may be the lamp. Happy to take it back."
RULING = "The listing said cobalt; the vase sent is green. Full refund after my fee; the buyer returns the vase."


def populate(net: Testnet) -> dict[str, Any]:
    """The demo story; returns the ids the pages can be pointed at."""
    m = Market(net)
    m.register("alice", "bob", "carol", "dave", "frank")
    m.one("carol", "arbiter_register", fee_fixed=100, fee_bps=250, description="English, German. Art and antiques.")
    shop_status = m.one("alice", "shop_create", name="Alice's Atelier", description="Prints, ceramics and originals "
                        "from a small studio in Hamburg.", region="DE", accepted_assets=[ASSET, "MKT"],
                        arbiters=[m.pubkey("carol")])
    shop = m.event_attr(shop_status, "shop_created", "shop")
    # a traced and certified original: produced by frank, carried by dave
    m.one("frank", "record_create", record=RECORD_ID, type="artwork",
          attributes={"artist": "F. Frank", "medium": "oil on canvas", "size_cm": "60x80"})
    m.commit(m.tx("frank", "record_report", record=RECORD_ID, property="condition", value="new, varnished"),
             m.tx("frank", "record_propose", record=RECORD_ID, receiver=m.pubkey("dave"), role="custodian",
                  terms="carry to Hamburg"))
    m.one("dave", "record_answer", record=RECORD_ID, role="custodian", response="accept")
    m.one("dave", "record_report", record=RECORD_ID, property="location", value="Hamburg, DE")
    cert_status = m.one("frank", "cert_issue", fingerprint=FINGERPRINT, record=RECORD_ID, owner=None,
                        metadata_hash=None)
    cert = m.event_attr(cert_status, "certificate_issued", "certificate")
    original = m.listing(shop, "Harbour at dawn (original oil painting)", 45_000_00, stock=1, tags=["painting", "oil"],
                         description="Original oil on canvas, 60x80 cm, signed. Provenance traced and certified.",
                         record=RECORD_ID, certificate=cert, regions=["DE", "AT", "CH"],
                         images=[m.put("alice", demo_images.painting(), "image")])
    vase_photos = [m.put("alice", demo_images.vase(), "image"), m.put("alice", demo_images.vase(side=True), "image")]
    vase = m.listing(shop, "Blue glazed vase", 59_90, tags=["ceramics", "vase"], category="ceramics",
                     description="Hand-thrown stoneware, cobalt glaze, 24 cm.", images=vase_photos)
    print_ = m.listing(shop, "Risograph print: Elbe bridges", 24_00, stock=30, tags=["print", "riso"],
                       description="Two-colour risograph, A3, edition of 50.",
                       images=[m.put("alice", demo_images.riso_print(), "image")])
    m.listing(shop, "Set of two espresso cups", 32_50, category="ceramics", tags=["ceramics", "cups"], stock=8)
    m.listing(shop, "Portrait commission (digital)", 150_00, type="service", category="commissions", stock=3,
              tags=["portrait", "digital"], description="A digital portrait from your photo, delivered as PNG.")
    # orders in several states: completed and reviewed, shipped, placed, disputed
    done = m.place("bob", vase)
    m.one("alice", "order_accept", order=done)
    m.one("alice", "order_ship", order=done, tracking_hash=hashlib.sha256(b"DHL 123").digest(), delivery=None)
    m.one("bob", "order_confirm", order=done)
    m.one("bob", "review", order=done, text_hash=m.text("bob", REVIEW_TEXT),
          photo=m.put("bob", demo_images.vase(side=True), "image"),
          ratings={"overall": 5, "quality": 5, "accuracy": 4, "delivery": 5, "service": 5})
    m.one("alice", "review_reply", order=done, text_hash=m.text("alice", REPLY_TEXT))
    shipped = m.place("dave", vase)
    m.one("alice", "order_accept", order=shipped)
    m.one("alice", "order_ship", order=shipped, tracking_hash=None, delivery=None)
    placed = m.place("bob", print_, quantity=2)
    disputed = m.place("frank", vase)
    m.one("alice", "order_accept", order=disputed)
    evidence = m.put("frank", demo_images.vase(glaze=(40, 140, 70)), "image")
    m.one("frank", "order_dispute", order=disputed, reason_hash=m.text("frank", STATEMENT), evidence=evidence)
    resolved = m.place("frank", vase)
    m.one("alice", "order_accept", order=resolved)
    m.one("frank", "order_dispute", order=resolved, reason_hash=m.text("frank", STATEMENT),
          evidence=m.put("frank", demo_images.vase(side=True, glaze=(40, 140, 70)), "image"))
    m.one("alice", "order_respond", order=resolved, response_hash=m.text("alice", ANSWER))
    m.one("carol", "order_resolve", order=resolved, buyer_amount=59_90 - 100 - 59_90 * 250 // 10_000, ruling_hash=m.text("carol", RULING))
    return {"order_resolved": resolved, "print": print_, "evidence": evidence.hex(), "vase_photos": [h.hex() for h in vase_photos],"shop": shop, "listing": original, "vase": vase, "order_done": done, "order_shipped": shipped,
            "order_placed": placed, "order_disputed": disputed, "record": RECORD_ID, "certificate": cert,
            "fingerprint": FINGERPRINT.hex(), "tx": cert_status["hash"], "height": cert_status["height"],
            "seller": address_from_pubkey(m.pubkey("alice")), "buyer": address_from_pubkey(m.pubkey("bob"))}
