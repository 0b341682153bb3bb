"""The replica's durable inputs: where the chain stands (Head) and what it last signed (LastSigned).

The node stores both and hands them back after a restart; LastSigned is
what makes double signing impossible across crashes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marketnode.consensus.messages import PreparedCert
from marketnode.core import fields as f
from marketnode.core.encoding import decode as decode_value
from marketnode.core.encoding import encode as encode_value
from marketnode.core.errors import ConsensusError, DecodeError, ValidationError
from marketnode.core.hashing import HASH_SIZE
from marketnode.core.types import PHASES, Block, Certificate


@dataclass(frozen=True, slots=True)
class Head:
    """The last committed block: its height, hash, timestamp and certificate.

    ``certificate`` is None only for genesis (height 0), or after a restart
    of a node that has not kept the head's certificate (the replica then
    learns it from the next proposal).
    """

    height: int
    block_hash: bytes
    timestamp_ms: int
    certificate: Certificate | None = None
    view: int = 0  # the view the head block was proposed in: the next height starts there


def step_rank(phase: int | None) -> int:
    """Order of signing steps within one (height, view): view change < PROPOSE < PREPARE < COMMIT."""
    return -1 if phase is None else phase


@dataclass(frozen=True, slots=True)
class LastSigned:
    """The highest (height, view, step) this validator signed, and for which block.

    ``phase`` None means a ViewChange into ``view``. ``prepared`` and
    ``prepared_block`` are the highest block this replica saw prepared at
    ``height``: a view change must report it even after a crash, or a block
    that committed elsewhere could be replaced in the next view.
    """

    height: int
    view: int
    phase: int | None
    block_hash: bytes
    prepared: PreparedCert | None = None
    prepared_block: Block | None = None

    def __post_init__(self) -> None:
        if self.phase is not None and self.phase not in PHASES:
            raise ConsensusError(f"last-signed phase {self.phase} is not a vote phase")
        if (self.prepared is None) != (self.prepared_block is None):
            raise ConsensusError("last-signed prepared certificate and block come together")

    def key(self) -> tuple[int, int, int]:
        return (self.height, self.view, step_rank(self.phase))

    def allows(self, height: int, view: int, phase: int | None, block_hash: bytes) -> bool:
        """May we sign (height, view, phase, block_hash) after having signed this?

        Only strictly later steps, or exactly the same vote again (ed25519 is
        deterministic, so that re-creates the same signature).
        """
        new = (height, view, step_rank(phase))
        return new > self.key() or (new == self.key() and block_hash == self.block_hash)

    def to_obj(self) -> dict[str, Any]:
        return {
            "block_hash": self.block_hash, "height": self.height, "phase": self.phase,
            "prepared": self.prepared.to_obj() if self.prepared else None,
            "prepared_block": self.prepared_block.to_obj() if self.prepared_block else None,
            "view": self.view,
        }

    def encode(self) -> bytes:
        return encode_value(self.to_obj())

    @classmethod
    def decode(cls, data: bytes) -> LastSigned:
        what = "last-signed"
        obj = f.expect_map(
            decode_value(data), what, ("block_hash", "height", "phase", "prepared", "prepared_block", "view")
        )
        phase = obj["phase"]
        if phase is not None and (isinstance(phase, bool) or phase not in PHASES):
            raise DecodeError(f"{what}.phase: {phase!r} is not None or a vote phase")
        try:
            return cls(
                height=f.u64(obj, "height", what),
                view=f.u64(obj, "view", what),
                phase=phase,
                block_hash=f.raw(obj, "block_hash", what, HASH_SIZE),
                prepared=None if obj["prepared"] is None else PreparedCert.from_obj(obj["prepared"]),
                prepared_block=None if obj["prepared_block"] is None else Block.from_obj(obj["prepared_block"]),
            )
        except (ConsensusError, ValidationError) as exc:
            raise DecodeError(f"{what}: {exc}") from None



