"""TEST ONLY: a validator that misbehaves on purpose, for the reliability tests (issue 8).

Enabled by the hidden ``marketnode run --byzantine MODE`` flag and nothing
else. It sits between the honest replica and the transport: it sees every
consensus message the replica broadcasts and decides what actually leaves
the process. It must never be reachable from a config file or RPC.

Modes (``all`` combines them):

- ``equivocate``: as primary, propose two different blocks for one
  (height, view): block A to half the validators, block B to the other
  half, and both to one validator of each half so the conflict is provable.
- ``conflicting-votes``: with every PREPARE and COMMIT, sign a second vote of
  the same phase for another block and send it to half the peers.
- ``garbage``: with every broadcast, also send malformed consensus messages
  (random bytes, unknown types, bad signatures, votes claiming another
  validator's key).
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from typing import Protocol

from marketnode.consensus.messages import Commit, Message, Prepare, PrePrepare, encode_message
from marketnode.core.encoding import encode as encode_value
from marketnode.core.errors import ConfigError
from marketnode.core.keys import PrivateKey
from marketnode.core.types import Block, Vote

log = logging.getLogger("marketnode.byzantine")

MODES = ("equivocate", "conflicting-votes", "garbage")
TOPIC = "consensus"
GARBAGE_EVERY_COMBINED = 40


class Transport(Protocol):
    """The two P2PHost calls this module needs."""

    def broadcast(self, topic: str, payload: bytes, exclude: bytes | None = None) -> None: ...

    def send(self, peer: bytes, topic: str, payload: bytes) -> bool: ...


class Misbehaviour:
    """Rewrites this validator's outgoing consensus broadcasts according to ``modes``."""

    def __init__(self, spec: str, key: PrivateKey, validators: list[bytes], transport: Transport) -> None:
        modes = set(MODES) if spec == "all" else {m.strip() for m in spec.split(",") if m.strip()}
        unknown = modes - set(MODES)
        if not modes or unknown:
            raise ConfigError(f"--byzantine: unknown mode {', '.join(sorted(unknown)) or spec!r} "
                              f"(known: {', '.join(MODES)}, all)")
        self.modes = modes
        self.key = key
        self.others = [v for v in validators if v != key.public_key]
        self.transport = transport
        self.sent: dict[str, int] = dict.fromkeys(MODES, 0)
        # Undecodable bytes cost us peer score; alone, garbage gets us banned quickly (that is the
        # point), combined it is rationed so we stay connected long enough to equivocate as well.
        self.garbage_every = 1 if modes == {"garbage"} else GARBAGE_EVERY_COMBINED
        self.broadcasts = 0
        log.warning("BYZANTINE TEST MODE: %s", ", ".join(sorted(modes)))

    def broadcast(self, msg: Message) -> bool:
        """Send ``msg`` our way; True if handled (the caller must not broadcast it again)."""
        self.broadcasts += 1
        if "garbage" in self.modes and self.broadcasts % self.garbage_every == 0:
            self._send_garbage(msg)
        if "equivocate" in self.modes and isinstance(msg, PrePrepare):
            self._equivocate(msg)
            return True
        if "conflicting-votes" in self.modes and isinstance(msg, Prepare | Commit):
            self._conflicting_vote(msg)
            return True
        return False

    # ---- the halves --------------------------------------------------------

    def _halves(self) -> tuple[list[bytes], list[bytes]]:
        middle = (len(self.others) + 1) // 2
        return self.others[:middle], self.others[middle:]

    def _send(self, peers: list[bytes], msg: Message | bytes) -> None:
        payload = msg if isinstance(msg, bytes) else encode_message(msg)
        for peer in peers:
            self.transport.send(peer, TOPIC, payload)

    # ---- equivocation ------------------------------------------------------

    def _equivocate(self, pp: PrePrepare) -> None:
        """Block A to the first half, block B (a later timestamp, otherwise equal) to the second."""
        block = pp.block
        twin = Block.build(
            chain_id=block.header.chain_id, height=block.header.height, view=block.header.view,
            timestamp_ms=block.header.timestamp_ms + 1, parent_hash=block.header.parent_hash,
            proposer=block.header.proposer, state_root=block.header.state_root, txs=block.txs,
            last_cert=block.last_cert, evidence=block.evidence,
        )
        twin_pp = PrePrepare(twin, replace(pp.proposal, block_hash=twin.hash).sign(self.key))
        first, second = self._halves()
        self._send(first, pp)
        self._send(second, twin_pp)
        self._send(first[:1], twin_pp)  # one of each half sees both signed proposals: provable
        self._send(second[:1], pp)
        self.sent["equivocate"] += 1

    # ---- conflicting votes -------------------------------------------------

    def _conflicting_vote(self, msg: Prepare | Commit) -> None:
        """The honest vote to the first half, a vote for a made-up block to the second, both to one."""
        vote = msg.vote
        fake = Vote(vote.chain_id, vote.phase, vote.height, vote.view, os.urandom(32), vote.validator).sign(self.key)
        fake_msg = Prepare(fake) if isinstance(msg, Prepare) else Commit(fake)
        first, second = self._halves()
        self._send(first, msg)
        self._send(second, fake_msg)
        self._send(first[:1], fake_msg)
        self.sent["conflicting-votes"] += 1

    # ---- malformed messages --------------------------------------------------

    def _send_garbage(self, msg: Message) -> None:
        """A few kinds of bad message per broadcast; honest peers must drop each and go on."""
        payloads = [
            os.urandom(64),
            encode_value({"type": "prepare"}),
            encode_value({"type": "no-such-message", "x": 1}),
        ]
        if isinstance(msg, Prepare | Commit):
            vote = msg.vote
            bad_sig = replace(vote, sig=bytes(64))
            payloads.append(encode_message(type(msg)(bad_sig)))
            if self.others:
                # Signed by us, claiming to be another validator: its signature cannot verify.
                impostor = replace(vote, validator=self.others[0])
                payloads.append(encode_message(type(msg)(impostor)))
        for payload in payloads:
            self.transport.broadcast(TOPIC, payload)
        self.sent["garbage"] += len(payloads)
