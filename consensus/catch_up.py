"""Catch-up (docs/CONSENSUS.md, "Catch-up"): a replica that fell behind commits blocks on their certificates.

A ``CommitNotice`` for our height commits the block we hold or asks for
blocks (``RequestBlocks``, at most once per head height until the sync timer
fires); the node delivers fetched blocks to ``on_synced_block`` in order. A
mixin over ``ReplicaBase`` (why mixins: see replica_base).
"""

from __future__ import annotations

from marketnode.consensus.messages import CommitNotice
from marketnode.consensus.replica_base import ReplicaBase
from marketnode.consensus.state import Rejected
from marketnode.core.errors import ValidationError
from marketnode.core.types import Block, Certificate


class CatchUp(ReplicaBase):
    """Commit notices and blocks delivered by catch-up: commit what a valid certificate proves."""

    def on_commit_notice(self, sender: bytes, notice: CommitNotice) -> None:
        """A certificate for our height or later: commit the block we hold, or ask for blocks."""
        cert = notice.certificate
        if cert.height <= self.head.height:
            return
        if cert.chain_id != self.config.chain_id:
            raise Rejected("commit notice is for another chain")
        block = self.round.blocks.get(cert.block_hash) if cert.height == self.height else None
        if block is None and not self._sync_allowed():
            return
        self._verify_certificate(cert)
        if block is not None:
            self._decide(block, cert)
        else:
            self._request_sync(sender)

    def _on_synced_block(self, block: Block, cert: Certificate) -> None:
        if block.height != self.height:
            return  # old, or not the next one: the caller delivers in order
        if (cert.height, cert.block_hash) != (block.height, block.hash):
            self.last_rejection = "synced block: certificate is for another block"
            return
        try:
            self._check_extends_head(block)
            self._verify_certificate(cert)
        except (Rejected, ValidationError) as exc:
            self.last_rejection = f"synced block: {exc}"
            return
        self._decide(block, cert)

    def _note_certificate_ahead(self, sender: bytes, cert: Certificate | None) -> None:
        """A proposal above our height carries proof that our height is decided: use it."""
        if cert is not None and cert.height >= self.height:
            self.on_commit_notice(sender, CommitNotice(cert))
