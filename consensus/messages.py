"""Consensus wire messages: frozen dataclasses, canonical bytes, signatures checked elsewhere.

Constructors check shape (phases, heights and hashes that must agree); they
never verify signatures, which is the replica's job and done once per
message. ``decode_message`` turns any bad input into ``DecodeError``, so the
transport can drop the message and penalise the peer without knowing PBFT.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from marketnode.core import fields as f
from marketnode.core.encoding import decode as decode_value
from marketnode.core.encoding import encode as encode_value
from marketnode.core.errors import ConsensusError, DecodeError, ValidationError
from marketnode.core.hashing import signing_message
from marketnode.core.keys import PUBKEY_SIZE, SIGNATURE_SIZE, PrivateKey
from marketnode.core.sigcache import SignatureCache, verify_signature
from marketnode.core.types import COMMIT, MAX_BLOCK_BYTES, PREPARE, PROPOSE, Block, Certificate, Vote

# A NewView holds up to n view changes without blocks plus one block.
MAX_MESSAGE_BYTES = MAX_BLOCK_BYTES + 1024 * 1024
MAX_VALIDATORS = 1024


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConsensusError(message)


@dataclass(frozen=True, slots=True)
class PrePrepare:
    """The primary's proposal of ``block`` for (height, view), signed as a PROPOSE vote.

    ``proposal.view`` is the view it is proposed in; ``block.header.view`` is
    the view the block was first proposed in (older when a view change
    carries a prepared block forward, since the block hash must not change).
    """

    block: Block
    proposal: Vote
    block_hash: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Hash the header once here; every later check reuses it.
        block_hash = self.block.hash
        object.__setattr__(self, "block_hash", block_hash)
        p = self.proposal
        _require(p.phase == PROPOSE, "pre-prepare proposal must be a PROPOSE vote")
        _require(p.block_hash == block_hash, "pre-prepare proposal signs another block")
        _require(p.height == self.block.header.height, "pre-prepare proposal height differs from the block's")
        _require(p.chain_id == self.block.header.chain_id, "pre-prepare proposal chain differs from the block's")
        _require(self.block.header.view <= p.view, "pre-prepare block view is after the proposal view")

    @property
    def height(self) -> int:
        return self.proposal.height

    @property
    def view(self) -> int:
        return self.proposal.view

    def to_obj(self) -> dict[str, Any]:
        return {"type": "pre-prepare", "block": self.block.to_obj(), "proposal": self.proposal.to_obj()}

    @classmethod
    def from_obj(cls, obj: Any) -> PrePrepare:
        obj = f.expect_map(obj, "pre-prepare", ("type", "block", "proposal"))
        return cls(Block.from_obj(obj["block"]), Vote.from_obj(obj["proposal"]))


@dataclass(frozen=True, slots=True)
class Prepare:
    """A replica's PREPARE vote: it accepted the proposal for (height, view)."""

    vote: Vote

    def __post_init__(self) -> None:
        _require(self.vote.phase == PREPARE, "a Prepare carries a PREPARE vote")

    def to_obj(self) -> dict[str, Any]:
        return {"type": "prepare", "vote": self.vote.to_obj()}

    @classmethod
    def from_obj(cls, obj: Any) -> Prepare:
        obj = f.expect_map(obj, "prepare", ("type", "vote"))
        return cls(Vote.from_obj(obj["vote"]))


@dataclass(frozen=True, slots=True)
class Commit:
    """A replica's COMMIT vote: it saw a quorum of PREPAREs for the block."""

    vote: Vote

    def __post_init__(self) -> None:
        _require(self.vote.phase == COMMIT, "a Commit carries a COMMIT vote")

    def to_obj(self) -> dict[str, Any]:
        return {"type": "commit", "vote": self.vote.to_obj()}

    @classmethod
    def from_obj(cls, obj: Any) -> Commit:
        obj = f.expect_map(obj, "commit", ("type", "vote"))
        return cls(Vote.from_obj(obj["vote"]))


@dataclass(frozen=True, slots=True)
class PreparedCert:
    """A quorum of PREPARE votes on one block at one (height, view): it may have committed."""

    votes: tuple[Vote, ...]

    def __post_init__(self) -> None:
        _require(bool(self.votes), "a prepared certificate needs votes")
        first = self.votes[0]
        seen: set[bytes] = set()
        for vote in self.votes:
            _require(vote.phase == PREPARE, "prepared certificate votes must be PREPAREs")
            _require(
                (vote.chain_id, vote.height, vote.view, vote.block_hash)
                == (first.chain_id, first.height, first.view, first.block_hash),
                "prepared certificate votes must agree on chain, height, view and block",
            )
            _require(vote.validator not in seen, "prepared certificate lists a validator twice")
            seen.add(vote.validator)

    @property
    def height(self) -> int:
        return self.votes[0].height

    @property
    def view(self) -> int:
        return self.votes[0].view

    @property
    def block_hash(self) -> bytes:
        return self.votes[0].block_hash

    def to_obj(self) -> dict[str, Any]:
        return {"votes": [v.to_obj() for v in self.votes]}

    @classmethod
    def from_obj(cls, obj: Any) -> PreparedCert:
        obj = f.expect_map(obj, "prepared", ("votes",))
        return cls(tuple(Vote.from_obj(v) for v in f.seq(obj, "votes", "prepared", MAX_VALIDATORS)))


@dataclass(frozen=True, slots=True)
class ViewChange:
    """``validator`` leaves every view below ``view`` at ``height``, reporting its highest prepared block.

    The signature covers (height, view, validator, prepared view and hash),
    not the block, so a NewView can carry view changes with ``block`` left out.
    """

    chain_id: str
    height: int
    view: int
    validator: bytes
    prepared: PreparedCert | None
    block: Block | None
    sig: bytes = b""

    def __post_init__(self) -> None:
        _require(self.view >= 1, "a view change is always to a view after 0")
        p = self.prepared
        if p is not None:
            _require(p.height == self.height, "view change prepared certificate is for another height")
            _require(p.view < self.view, "view change prepared certificate is not from an earlier view")
            _require(p.votes[0].chain_id == self.chain_id, "view change prepared certificate is for another chain")
        if self.block is not None:
            _require(p is not None and self.block.hash == p.block_hash, "view change block does not match its certificate")

    def signing_bytes(self) -> bytes:
        p = self.prepared
        body = encode_value({
            "height": self.height, "prepared_hash": p.block_hash if p else b"",
            "prepared_view": p.view if p else 0, "validator": self.validator, "view": self.view,
        })
        return signing_message("view-change", self.chain_id, body)

    def sign(self, key: PrivateKey) -> ViewChange:
        _require(key.public_key == self.validator, "the signing key does not match the view change's validator")
        return replace(self, sig=key.sign(self.signing_bytes()))

    def verify(self, cache: SignatureCache | None = None) -> bool:
        """Whether the signature is the validator's over ``signing_bytes`` (verified once per ``cache``)."""
        return verify_signature(self.validator, self.signing_bytes(), self.sig, cache)

    def without_block(self) -> ViewChange:
        return self if self.block is None else replace(self, block=None)

    def to_obj(self) -> dict[str, Any]:
        return {
            "type": "view-change", "block": self.block.to_obj() if self.block else None,
            "chain_id": self.chain_id, "height": self.height,
            "prepared": self.prepared.to_obj() if self.prepared else None,
            "sig": self.sig, "validator": self.validator, "view": self.view,
        }

    @classmethod
    def from_obj(cls, obj: Any) -> ViewChange:
        what = "view-change"
        obj = f.expect_map(obj, what, ("type", "block", "chain_id", "height", "prepared", "sig", "validator", "view"))
        return cls(
            chain_id=f.chain_id(obj, what),
            height=f.u64(obj, "height", what),
            view=f.u64(obj, "view", what),
            validator=f.raw(obj, "validator", what, PUBKEY_SIZE),
            prepared=None if obj["prepared"] is None else PreparedCert.from_obj(obj["prepared"]),
            block=None if obj["block"] is None else Block.from_obj(obj["block"]),
            sig=f.raw(obj, "sig", what, SIGNATURE_SIZE),
        )


@dataclass(frozen=True, slots=True)
class NewView:
    """Proof that a quorum moved to ``view`` at ``height``, and the new primary's first proposal.

    Unsigned on purpose: its parts are signed (each ViewChange, and the
    PrePrepare's PROPOSE vote), so it is valid whoever forwards it. When any
    view change reports a prepared block, ``pre_prepare`` must re-propose the
    one with the highest prepared view.
    """

    height: int
    view: int
    view_changes: tuple[ViewChange, ...]
    pre_prepare: PrePrepare | None

    def __post_init__(self) -> None:
        _require(self.view >= 1, "a new view is always a view after 0")
        for vc in self.view_changes:
            _require((vc.height, vc.view) == (self.height, self.view), "new view holds a view change for another view")
            _require(vc.block is None, "new view carries view changes without their blocks")
        pp = self.pre_prepare
        if pp is not None:
            _require((pp.height, pp.view) == (self.height, self.view), "new view proposal is for another view")

    def to_obj(self) -> dict[str, Any]:
        return {
            "type": "new-view", "height": self.height,
            "pre_prepare": self.pre_prepare.to_obj() if self.pre_prepare else None,
            "view": self.view, "view_changes": [vc.to_obj() for vc in self.view_changes],
        }

    @classmethod
    def from_obj(cls, obj: Any) -> NewView:
        what = "new-view"
        obj = f.expect_map(obj, what, ("type", "height", "pre_prepare", "view", "view_changes"))
        return cls(
            height=f.u64(obj, "height", what),
            view=f.u64(obj, "view", what),
            view_changes=tuple(ViewChange.from_obj(v) for v in f.seq(obj, "view_changes", what, MAX_VALIDATORS)),
            pre_prepare=None if obj["pre_prepare"] is None else PrePrepare.from_obj(obj["pre_prepare"]),
        )


@dataclass(frozen=True, slots=True)
class CommitNotice:
    """"Height h is final": a commit certificate, sent to a replica that is behind.

    Self-proving (2f+1 signatures), so a lagging replica can trust it from
    anyone; it then commits the block it already holds or asks for blocks.
    """

    certificate: Certificate

    @property
    def height(self) -> int:
        return self.certificate.height

    def to_obj(self) -> dict[str, Any]:
        return {"type": "commit-notice", "certificate": self.certificate.to_obj()}

    @classmethod
    def from_obj(cls, obj: Any) -> CommitNotice:
        obj = f.expect_map(obj, "commit-notice", ("type", "certificate"))
        return cls(Certificate.from_obj(obj["certificate"]))


Message = PrePrepare | Prepare | Commit | ViewChange | NewView | CommitNotice

_DECODERS: dict[str, Callable[[Any], Message]] = {
    "pre-prepare": PrePrepare.from_obj,
    "prepare": Prepare.from_obj,
    "commit": Commit.from_obj,
    "view-change": ViewChange.from_obj,
    "new-view": NewView.from_obj,
    "commit-notice": CommitNotice.from_obj,
}


def encode_message(msg: Message) -> bytes:
    """The canonical bytes of a consensus message (a map with a ``type`` key)."""
    return encode_value(msg.to_obj())


def decode_message(data: bytes, max_bytes: int = MAX_MESSAGE_BYTES) -> Message:
    """Parse a consensus message; raise DecodeError for anything that is not one.

    Shape errors found by the constructors (a Prepare holding a COMMIT vote, a
    proposal signing another block, ...) are DecodeErrors too: to the
    transport, all of them are "this peer sent bad bytes".
    """
    obj = decode_value(data, max_bytes)
    if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
        raise DecodeError("consensus message: expected a map with a string 'type'")
    decoder = _DECODERS.get(obj["type"])
    if decoder is None:
        raise DecodeError(f"consensus message: unknown type {obj['type']!r}")
    try:
        return decoder(obj)
    except DecodeError:
        raise
    except (ConsensusError, ValidationError) as exc:
        raise DecodeError(f"consensus message {obj['type']}: {exc}") from None
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise DecodeError(f"consensus message {obj['type']}: malformed ({exc})") from None

