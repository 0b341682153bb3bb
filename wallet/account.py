"""One account's wallet: a key, a node to talk to, the next nonce, and ``send``.

``Wallet(key, "http://127.0.0.1:26657/").send("order_confirm", {"order": 7})``
signs, submits and (by default) waits for the receipt, raising an error that
says what the node or the market rule refused. The nonce is tracked locally
(first from ``account_get``) so several txs can be sent without waiting, and
re-read whenever the node says it is off. Sending waits out a busy node and
resends the same signed tx until it has a receipt (wallet/delivery.py).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from marketnode.core import sealed
from marketnode.core.errors import MarketnodeError, RpcError
from marketnode.core.keys import PrivateKey, address_from_pubkey
from marketnode.core.types import Tx
from marketnode.wallet.builders import build_tx
from marketnode.wallet.client import RpcClient, result_object
from marketnode.wallet.delivery import DeliveryPolicy, Notice, deliver, reason
from marketnode.wallet.proof import verify_inclusion

WAIT_S = 60
# Refusals after which the locally tracked nonce may be wrong: re-read it before the next tx.
_NONCE_REASONS = ("stale_nonce", "bad_nonce")


class TxFailedError(MarketnodeError):
    """The tx was committed but the market rule refused it (fee paid, nothing else changed)."""

    def __init__(self, result: TxResult) -> None:
        super().__init__(f"{result.kind} failed in block {result.height}: {result.code}: {result.message}")
        self.result = result
        self.code = result.code


class TxRefusedError(MarketnodeError):
    """The node's state says the tx would fail (``tx_estimate``): it was not sent, no fee was paid."""

    def __init__(self, kind: str, verdict: Mapping[str, Any]) -> None:
        self.kind = kind
        self.code = str(verdict.get("code") or "error")
        self.rule_message = str(verdict.get("message") or "")
        super().__init__(f"{kind} would fail: {self.code}: {self.rule_message}")


class TxTimeoutError(MarketnodeError):
    """The node accepted the tx, but it was not committed within the wait."""

    def __init__(self, tx_hash: str, waited_s: int) -> None:
        super().__init__(f"tx {tx_hash} is still pending after {waited_s} s; ask again with tx_get")
        self.tx_hash = tx_hash


@dataclass(frozen=True)
class TxResult:
    """What became of a sent tx: ``status`` is pending, committed or failed."""

    hash: str
    kind: str
    status: str
    height: int | None = None
    code: str = ""
    message: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    durable: bool = False  # pending only: the node journaled it (survives its restart); still not final

    @property
    def ok(self) -> bool:
        return self.status == "committed"

    def event(self, kind: str) -> dict[str, Any]:
        """The attrs of the first event of ``kind`` (KeyError naming the events there are)."""
        for event in self.events:
            if event.get("kind") == kind:
                attrs: dict[str, Any] = event.get("attrs", {})
                return attrs
        raise KeyError(f"{self.kind} emitted no {kind!r} event (events: {[e.get('kind') for e in self.events]})")

    @classmethod
    def from_status(cls, kind: str, status: Mapping[str, Any]) -> TxResult:
        """From a ``tx_send``(wait=commit) or ``tx_get`` answer."""
        receipt = status.get("receipt") or {}
        return cls(hash=status["hash"], kind=kind, status=status["status"], height=status.get("height"),
                   code=receipt.get("code", ""), message=receipt.get("message", ""),
                   events=list(receipt.get("events", [])))


class Wallet:
    """Sign and send txs from one account through one node."""

    def __init__(self, key: PrivateKey, node: RpcClient | str, *, fee: int | None = None,
                 notice: Notice | None = None, poll_s: float = DeliveryPolicy.poll_s, account: bytes | None = None,
                 cosigners: Sequence[PrivateKey] = ()) -> None:
        """``account``: the address to act for when it is not ``key``'s own (a rotated account);
        ``cosigners``: further keys of a multi-key account that sign every tx with ``key``."""
        self.key = key
        self.sender = key.public_key if account is None else account
        self.cosigners = tuple(cosigners)
        self.client = node if isinstance(node, RpcClient) else RpcClient(node, timeout_s=WAIT_S + 10)
        self.notice = notice  # told each time a busy node makes us wait (the CLI prints it)
        self.poll_s = poll_s
        self._fee = fee
        self._chain_id: str | None = None
        self._nonce: int | None = None

    @property
    def address(self) -> str:
        return address_from_pubkey(self.sender)

    @property
    def public_key(self) -> bytes:
        """The account's address key (its id on chain), not necessarily a key that signs for it now."""
        return self.sender

    @property
    def chain_id(self) -> str:
        if self._chain_id is None:
            self._chain_id = self.client.call("node_status")["chain_id"]
        return self._chain_id

    @property
    def fee(self) -> int:
        """The fee put on each tx: as given, else the chain's ``params.min_fee``."""
        if self._fee is None:
            genesis = self.client.call("chain_getGenesis")["genesis"]
            self._fee = int(genesis.get("params", {}).get("min_fee", 0))
        return self._fee

    def account(self) -> dict[str, Any]:
        """``account_get`` for this wallet's address: balances, nonce, roles, registration."""
        return result_object(self.client.call("account_get", address=self.address), "account_get")

    def next_nonce(self) -> int:
        if self._nonce is None:
            self._nonce = int(self.account()["nonce"])
        return self._nonce

    def sign(self, kind: str, body: Mapping[str, Any], extra: Sequence[PrivateKey] = ()) -> Tx:
        """The signed tx for ``kind``/``body`` at the next nonce (not sent, nonce not used up).

        Signed by the wallet's key, its cosigners and ``extra`` (new keys a
        rotation installs). Unless a fee was given, the fee is the chain's
        minimum per signature.
        """
        signers = (*self.cosigners, *extra)
        count = len({self.key.public_key, *(k.public_key for k in signers)})
        fee = self._fee if self._fee is not None else self.fee * count
        return build_tx(self.key, self.chain_id, self.next_nonce(), kind, body, fee, self.sender, signers)

    def authority(self) -> dict[str, Any]:
        """``account_getAuthority``: the account's key set, policy, guardians and pending recovery."""
        return result_object(self.client.call("account_getAuthority", address=self.address), "account_getAuthority")

    def rotate(self, new_key: PrivateKey, old_key: bytes | None = None, wait_s: float = WAIT_S) -> TxResult:
        """Replace ``old_key`` (default: the wallet's key) by ``new_key``; the wallet then signs with it.

        The address, balances, shop and reputation stay. The new key signs
        the rotation too (the chain refuses a key its holder did not prove).
        """
        old = self.key.public_key if old_key is None else old_key
        body = {"new_key": new_key.public_key, "old_key": old}
        result = self._send_tx(self.sign("account_rotate", body, extra=(new_key,)), "account_rotate", wait_s)
        if old == self.key.public_key:
            self.key = new_key
        else:
            self.cosigners = tuple(new_key if k.public_key == old else k for k in self.cosigners)
        return result

    def set_authority(self, keys: Sequence[bytes], threshold: int, *, kinds: Sequence[str] | None = None,
                      above: int | None = None, new_keys: Sequence[PrivateKey] = (),
                      wait_s: float = WAIT_S) -> TxResult:
        """Set the key set and policy (``new_keys``: the private halves of keys not yet in the set: they sign)."""
        body = {"keys": list(keys), "threshold": threshold, "kinds": None if kinds is None else list(kinds),
                "above": above}
        return self._send_tx(self.sign("account_set_authority", body, extra=tuple(new_keys)),
                             "account_set_authority", wait_s)

    def send_signed(self, tx: Tx, wait_s: float = WAIT_S) -> TxResult:
        """Submit a tx signed elsewhere (e.g. gathered with ``builders.cosign_raw``) and wait for it."""
        return self._send_tx(tx, tx.kind, wait_s)

    def estimate(self, kind: str, body: Mapping[str, Any], extra: Sequence[PrivateKey] = ()) -> dict[str, Any]:
        """``tx_estimate``: would this tx pass now, and why not ({ok, code, message})."""
        return result_object(self.client.call("tx_estimate", tx=self.sign(kind, body, extra).encode().hex()), "tx_estimate")

    def check(self, kind: str, body: Mapping[str, Any], extra: Sequence[PrivateKey] = ()) -> None:
        """Raise TxRefusedError (nothing sent) when the node's current state says the tx would fail."""
        verdict = self.estimate(kind, body, extra)
        if not verdict.get("ok"):
            raise TxRefusedError(kind, verdict)

    def send(self, kind: str, body: Mapping[str, Any], wait: str = "commit", timeout_s: float = WAIT_S,
             check: bool = False, extra: Sequence[PrivateKey] = ()) -> TxResult:
        """Sign and submit; with ``wait="commit"`` return the committed result.

        With ``check=True`` the tx is first tried on the node's current state
        (``tx_estimate``) and not sent at all when a market rule would refuse
        it: TxRefusedError, no fee paid. (Leave it off when pipelining txs
        whose rules depend on earlier ones still in flight.)

        A busy or rate-limited node is asked again after the wait it names,
        and a tx the node lost (killed before it spread) is sent again, until
        a receipt or ``timeout_s`` (wallet/delivery.py). With ``wait="none"``
        the result is the node's acknowledgement only: not final.

        Raises RpcError when the node refuses the tx (its message says why),
        TxFailedError when the market rule refused it in a block, and
        TxTimeoutError when it is not committed within ``timeout_s``. ``extra``
        keys sign too (the new keys of a rotation: docs/WALLET.md).
        """
        if wait not in ("none", "commit"):
            raise ValueError(f"wait must be 'none' or 'commit', not {wait!r}")
        if check:
            self.check(kind, body, extra)
        return self._send_tx(self.sign(kind, body, extra), kind, timeout_s, wait)

    def _send_tx(self, tx: Tx, kind: str, timeout_s: float, wait: str = "commit") -> TxResult:
        wait_s = min(int(timeout_s) or 1, max(1, int(self.client.timeout_s) - 5))
        policy = DeliveryPolicy(total_s=timeout_s, wait_per_call_s=min(DeliveryPolicy.wait_per_call_s, wait_s),
                                poll_s=self.poll_s)
        try:
            status = deliver(self.client, tx.encode().hex(), tx.hash.hex(), wait_commit=wait == "commit",
                             policy=policy, notice=self.notice)
        except RpcError as exc:
            if reason(exc) in _NONCE_REASONS:
                self._nonce = None
            raise
        self._nonce = tx.nonce + 1
        if wait == "none":
            return TxResult(hash=status["hash"], kind=kind, status=status["status"], durable=bool(status.get("durable")))
        if status.get("timed_out") or status["status"] == "pending":
            raise TxTimeoutError(status["hash"], int(timeout_s))
        result = TxResult.from_status(kind, status)
        if not result.ok:
            if result.code in _NONCE_REASONS:
                self._nonce = None
            raise TxFailedError(result)
        return result

    def wait(self, kind: str, tx_hash: str, timeout_s: float = WAIT_S) -> TxResult:
        """Poll ``tx_get`` until ``tx_hash`` leaves the mempool; the result like ``send`` returns it."""
        deadline = time.monotonic() + timeout_s
        while True:
            status = self.client.call("tx_get", hash=tx_hash, proof=False)
            if status["status"] in ("committed", "failed"):
                return TxResult.from_status(kind, status)
            if time.monotonic() >= deadline:
                raise TxTimeoutError(tx_hash, int(timeout_s))
            time.sleep(0.2)

    def open_sealed(self, ciphertext_hex: str) -> str:
        """Read data sealed to this account (a shipping address, a content key) from its hex ciphertext."""
        return sealed.open_sealed(self.key, bytes.fromhex(ciphertext_hex)).decode("utf-8", errors="replace")

    def verify(self, tx_hash: str) -> int:
        """Check that ``tx_hash`` is in a final block, from its proof alone; return the block height."""
        return verify_final(self.client, self.client.call("tx_get", hash=tx_hash), self.chain_id)


def verify_final(client: RpcClient, status: Mapping[str, Any], chain_id: str | None = None) -> int:
    """Check a ``tx_get`` answer's inclusion proof: the Merkle path to the header and a quorum of
    validator signatures on it. Returns the block height or raises InclusionProofError.

    The validator set comes from ``chain_getValidators`` (pin it yourself to trust no node at all).
    """
    if "inclusion" not in status:
        raise TxTimeoutError(status["hash"], 0)
    validators = [v["public_key"] for v in client.call("chain_getValidators")]
    chain = chain_id or client.call("node_status")["chain_id"]
    proof = verify_inclusion(status["inclusion"], tx_hash=bytes.fromhex(status["hash"]), validators=validators,
                             chain_id=chain)
    return proof.header.height
