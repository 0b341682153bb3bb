"""A light client: check what a node says against the validators' signatures, trusting no node.

It starts from the chain's genesis document with its hash pinned (or from a
chain id, the validator set and optionally a trusted header), and checks
every header it is shown by its commit certificate: for the chain id, for
that very header, signed by a quorum of distinct validators. Then a state
value, an absence, a receipt or a tx's inclusion is true if its proof leads
to a checked header (docs/PROTOCOL.md §7.3, "Light client rules"). Two
certified headers for one height mean the validators equivocated: the
client refuses both from then on. ``cross_check`` asks two nodes for the
same keys at the same height and refuses any difference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from marketnode.core.encoding import decode, encode
from marketnode.core.errors import ConsensusError, DecodeError, ValidationError
from marketnode.core.hashing import HASH_SIZE, digest
from marketnode.core.jsonable import validators_from_json
from marketnode.core.keys import pubkey_from_address
from marketnode.core.merkle import verify_proof
from marketnode.core.stateproof import ReceiptProof, StateProof, receipts_root_key
from marketnode.core.types import Certificate, Header
from marketnode.wallet.proof import InclusionProofError, verify_inclusion


class LightClientError(ValidationError):
    """What a node answered does not verify; the message says which part."""


class Caller(Protocol):
    def call(self, method: str, /, **params: Any) -> Any: ...


def genesis_hash(document: Mapping[str, Any]) -> bytes:
    """The hash of a genesis document in its full JSON form (as ``chain_getGenesis`` serves it).

    docs/GENESIS.md: addresses become their 32-byte keys, validator keys
    their bytes; the map is then canonical msgpack under the tag "genesis".
    """
    try:
        obj = {**document}
        obj["accounts"] = [{**a, "address": pubkey_from_address(a["address"])} for a in document["accounts"]]
        obj["assets"] = [{**a, "issuer": None if a["issuer"] is None else pubkey_from_address(a["issuer"])}
                         for a in document["assets"]]
        obj["roles"] = {r: [pubkey_from_address(m) for m in ms] for r, ms in document["roles"].items()}
        obj["validators"] = [{**v, "public_key": bytes.fromhex(v["public_key"])} for v in document["validators"]]
        return digest("genesis", encode(obj))
    except (KeyError, TypeError, ValueError, AttributeError, ValidationError, DecodeError) as exc:
        raise LightClientError(f"the genesis document is not in its full form: {type(exc).__name__}: {exc}") from None


@dataclass(frozen=True)
class Verified:
    """What a proof established, and the height of the state (or block) it holds for."""

    height: int
    values: dict[bytes, bytes | None]


class LightClient:
    """Checks headers, state proofs, receipts and inclusions for one chain and validator set."""

    def __init__(self, chain_id: str, validators: Sequence[bytes | str], *,
                 trusted: tuple[int, bytes] | None = None) -> None:
        self.chain_id = chain_id
        self.validators = tuple(validators_from_json(validators))
        if not self.validators:
            raise LightClientError("a light client needs the validator set")
        self._headers: dict[int, bytes] = {}
        if trusted is not None:
            self._headers[trusted[0]] = trusted[1]
        self.latest = 0

    @classmethod
    def from_genesis(cls, document: Mapping[str, Any], pinned_hash: bytes | str) -> LightClient:
        """Trust a genesis document only if it hashes to ``pinned_hash`` (got out of band)."""
        pinned = bytes.fromhex(pinned_hash) if isinstance(pinned_hash, str) else pinned_hash
        found = genesis_hash(document)
        if len(pinned) != HASH_SIZE or found != pinned:
            raise LightClientError(f"the genesis document hashes to {found.hex()}, not the pinned {pinned.hex()}")
        return cls(document["chain_id"], [v["public_key"] for v in document["validators"]])

    # -- headers --------------------------------------------------------------

    def verify_header(self, header: Header, certificate: Certificate) -> Header:
        """Accept ``header`` if its certificate makes it final; remember it to catch a conflicting one."""
        if header.chain_id != self.chain_id:
            raise LightClientError(f"the header is for chain {header.chain_id!r}, not {self.chain_id!r}")
        if certificate.block_hash != header.hash or certificate.height != header.height:
            raise LightClientError("the certificate is for another block than the header")
        try:
            certificate.verify(self.validators, self.chain_id)
        except (ConsensusError, ValidationError) as exc:
            raise LightClientError(f"the certificate does not prove finality: {exc}") from None
        known = self._headers.get(header.height)
        if known is not None and known != header.hash:
            raise LightClientError(f"two different headers for height {header.height} are certified (or one "
                                   "contradicts the trusted header): refusing both")
        self._headers[header.height] = header.hash
        self.latest = max(self.latest, header.height)
        return header

    # -- state ----------------------------------------------------------------

    def verify_state(self, proof: StateProof | Mapping[str, Any], keys: Sequence[bytes] = ()) -> Verified:
        """The values the proof shows (None: absent), once header, certificate and every path check out."""
        try:
            parsed = proof if isinstance(proof, StateProof) else StateProof.from_json(proof)
        except ValidationError as exc:
            raise LightClientError(f"malformed state proof: {exc}") from None
        self.verify_header(parsed.header, parsed.certificate)
        try:
            parsed.check_against_header()
        except ValidationError as exc:
            raise LightClientError(str(exc)) from None
        values = {e.key: e.value for e in parsed.entries}
        missing = [k.hex() for k in keys if k not in values]
        if missing:
            raise LightClientError(f"the proof does not cover keys {missing}")
        return Verified(parsed.height, values)

    def fetch_state(self, node: Caller, keys: Sequence[bytes], height: int | None = None) -> Verified:
        answer = node.call("state_getProof", keys=[k.hex() for k in keys],
                           **({} if height is None else {"height": height}))
        return self.verify_state(answer, keys)

    def cross_check(self, first: Caller, second: Caller, keys: Sequence[bytes]) -> Verified:
        """Ask both nodes for ``keys`` at one height; refuse unless both verify and agree."""
        a = self.fetch_state(first, keys)
        b = self.fetch_state(second, keys, a.height)
        if b.height != a.height:
            raise LightClientError(f"asked for height {a.height}, the second node proved height {b.height}")
        if a.values != b.values:
            differ = sorted(k.hex() for k in keys if a.values.get(k) != b.values.get(k))
            raise LightClientError(f"the two nodes prove different values at height {a.height} for keys {differ}")
        return a

    # -- txs --------------------------------------------------------------------

    def verify_tx(self, status: Mapping[str, Any]) -> dict[str, Any]:
        """A ``tx_get`` answer's inclusion and outcome: {height, ok, code, message, fee_paid, events}.

        The outcome is taken from the proven receipt bytes, never from the
        answer's own fields (which must agree with it).
        """
        tx_hash = bytes.fromhex(status["hash"])
        try:
            inclusion = verify_inclusion(status["inclusion"], tx_hash=tx_hash, validators=self.validators,
                                         chain_id=self.chain_id)
        except (InclusionProofError, KeyError) as exc:
            raise LightClientError(f"inclusion: {exc}") from None
        header = self.verify_header(inclusion.header, inclusion.certificate)
        raw = status.get("receipt_proof")
        if raw is None:
            raise LightClientError(f"no receipt proof yet: block {header.height + 1} must commit block "
                                   f"{header.height}'s state first")
        try:
            proof = ReceiptProof.from_json(raw)
        except (ValidationError, DecodeError) as exc:
            raise LightClientError(f"malformed receipt proof: {exc}") from None
        if proof.state.height < header.height:
            raise LightClientError("the receipts root is proved at a state before the tx's block")
        key = receipts_root_key(header.height)
        state = self.verify_state(proof.state, [key])
        root = _decoded_hash(state.values[key])
        if proof.path.size != header.tx_count or proof.path.index != inclusion.proof.index:
            raise LightClientError("the receipt path is not for this tx's place in its block")
        if not verify_proof(root, digest("receipt", proof.receipt), proof.path):
            raise LightClientError("the receipt's Merkle path does not lead to the block's receipts root")
        receipt = _receipt(proof.receipt)
        if receipt["tx_hash"] != tx_hash:
            raise LightClientError("the proven receipt is for another tx")
        expected = "committed" if receipt["ok"] else "failed"
        if status.get("status") != expected or (status.get("receipt") or {}).get("code") != receipt["code"]:
            raise LightClientError(f"the node says {status.get('status')!r} but the proven receipt says "
                                   f"{expected!r} with code {receipt['code']!r}")
        return {"height": header.height, "ok": receipt["ok"], "code": receipt["code"],
                "message": receipt["message"], "fee_paid": receipt["fee_paid"], "events": receipt["events"]}


def _decoded_hash(value: bytes | None) -> bytes:
    if value is None:
        raise LightClientError("the state holds no receipts root for that block")
    try:
        root = decode(value)
    except DecodeError:
        root = None
    if not isinstance(root, bytes) or len(root) != HASH_SIZE:
        raise LightClientError("the stored receipts root is not a 32-byte hash")
    return root


def _receipt(data: bytes) -> dict[str, Any]:
    try:
        obj = decode(data)
    except DecodeError as exc:
        raise LightClientError(f"the receipt does not decode: {exc}") from None
    fields = ("code", "events", "fee_paid", "message", "ok", "tx_hash")
    if not isinstance(obj, dict) or set(obj) != set(fields):
        raise LightClientError("the receipt is not a receipt map")
    return obj


__all__ = ["LightClient", "LightClientError", "Verified", "genesis_hash"]
