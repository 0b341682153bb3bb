"""The fetching side of state sync, sans-IO: which snapshot, is its anchor certified, which chunk from whom.

Trust runs one way (docs/P2P.md "State sync"):

1. Peers offer (height, manifest hash); the node picks the highest height,
   the one most peers offer.
2. The anchor: blocks h and h+1 with their certificates. Certificate h+1
   must verify against the validator set (the genesis validators: the set
   never changes), and header h+1 then fixes both block h's hash (its
   ``parent_hash``) and the state root after block h (its ``state_root``).
   A peer's claim of a height is worth nothing until this holds.
3. The manifest must hash to the offered hash and name that height and root.
4. Each chunk must hash to its entry in the manifest; a chunk that does not
   (or does not decode) marks its peer bad, and the chunk is asked of
   another peer. A request that fails (timeout, busy) moves the chunk to
   another peer too, without blame.
5. Last, the state rebuilt from all chunks must hash to the certified root
   (ChainStore.restore_snapshot): a manifest whose chunks all match yet
   whose state does not is a lie of everyone who offered it.

No clock, no I/O: the asyncio edge (client.py) asks, this module decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from marketnode.core.errors import ConsensusError, DecodeError, ValidationError
from marketnode.core.types import Block, Certificate
from marketnode.node.snapshot.format import Manifest, chunk_hash, decode_chunk


class SnapshotError(ValidationError):
    """A snapshot (its anchor, manifest or chunks) failed a check; the message says which."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What a fetching node accepts (config [sync], docs/OPERATIONS.md)."""

    max_chunk_bytes: int
    max_chunks: int
    max_attempts: int  # fetches of one chunk (failed or bad) before the snapshot is given up


@dataclass(frozen=True, slots=True)
class Offer:
    height: int
    manifest_hash: bytes


@dataclass(frozen=True, slots=True)
class Anchor:
    """A certified place to restore at: block h, its certificate, and the state root after it."""

    height: int
    state_root: bytes
    block: Block
    certificate: Certificate


def choose_offer(offers: Mapping[bytes, Sequence[Offer]], refused: set[bytes]) -> tuple[Offer, list[bytes]] | None:
    """The highest offer above height 0 not refused, most-offered first; with the peers that offer it."""
    peers: dict[Offer, list[bytes]] = {}
    for peer, listed in offers.items():
        for offer in listed:
            if offer.height > 0 and offer.manifest_hash not in refused:
                peers.setdefault(offer, []).append(peer)
    if not peers:
        return None
    best = max(peers, key=lambda o: (o.height, len(peers[o]), o.manifest_hash))
    return best, sorted(peers[best])


def verify_anchor(chain_id: str, validators: Sequence[bytes], height: int,
                  served: Sequence[tuple[Block, Certificate]]) -> Anchor:
    """Check blocks ``height`` and ``height``+1 as served (a ``blocks`` reply) and return the anchor."""
    if height < 1:
        raise SnapshotError("a snapshot is of a height above the genesis")
    if len(served) < 2:
        raise SnapshotError(f"the anchor needs blocks {height} and {height + 1}; the peer served {len(served)}")
    (block, cert), (successor, successor_cert) = served[0], served[1]
    if block.height != height or successor.height != height + 1:
        raise SnapshotError(f"asked for blocks {height} and {height + 1}, got {block.height} and {successor.height}")
    header = successor.header
    if header.chain_id != chain_id:
        raise SnapshotError(f"block {successor.height} is for chain {header.chain_id!r}")
    if (successor_cert.height, successor_cert.block_hash) != (successor.height, successor.hash):
        raise SnapshotError(f"the certificate served with block {successor.height} is for another block")
    _verify(successor_cert, validators, chain_id, successor.height)
    if header.parent_hash != block.hash:
        raise SnapshotError(f"block {height} is not the parent that certified block {height + 1} names")
    try:
        block.check_contents()
    except ValidationError as exc:
        raise SnapshotError(f"block {height}'s body does not match its header: {exc}") from None
    # Block h+1 carries the certificate of h that every node serves once h+1 exists; else the peer's own.
    committed = successor.last_cert
    if committed is not None and (committed.height, committed.block_hash) == (height, block.hash):
        cert = committed
    elif (cert.height, cert.block_hash) != (height, block.hash):
        raise SnapshotError(f"the certificate served with block {height} is for another block")
    _verify(cert, validators, chain_id, height)
    return Anchor(height, header.state_root, block, cert)


def _verify(cert: Certificate, validators: Sequence[bytes], chain_id: str, height: int) -> None:
    try:
        cert.verify(validators, chain_id)
    except (ConsensusError, ValidationError) as exc:
        raise SnapshotError(f"the certificate of block {height} does not verify: {exc}") from None


def check_manifest(data: bytes, offer: Offer, anchor: Anchor, limits: Limits) -> Manifest:
    """The manifest as served, if it is the offered one and matches the certified anchor."""
    try:
        manifest = Manifest.decode(data, limits.max_chunks)
    except DecodeError as exc:
        raise SnapshotError(f"the manifest does not decode: {exc}") from None
    if manifest.hash != offer.manifest_hash:
        raise SnapshotError("the manifest does not hash to the offered manifest hash")
    if manifest.height != anchor.height or manifest.state_root != anchor.state_root:
        raise SnapshotError(f"the manifest is for height {manifest.height} and another state root than the "
                            f"certified one of height {anchor.height}")
    return manifest


class ChunkFetch:
    """Which chunk to ask of which peer next, and what each answer means for the peer and the chunk.

    A peer holds at most one request at a time; a chunk a peer failed is not
    asked of it again while another peer could serve it.
    """

    def __init__(self, manifest: Manifest, peers: Sequence[bytes], limits: Limits) -> None:
        self.manifest = manifest
        self.limits = limits
        self.peers = list(dict.fromkeys(peers))
        self.bad: set[bytes] = set()
        self._pending = list(range(len(manifest.chunks)))
        self._busy: dict[bytes, int] = {}
        self._tried: dict[int, set[bytes]] = {}
        self._attempts: dict[int, int] = {}
        self._chunks: dict[int, list[tuple[bytes, bytes]]] = {}
        self.bytes_received = 0

    @property
    def done(self) -> bool:
        return len(self._chunks) == len(self.manifest.chunks)

    def missing(self) -> list[int]:
        return [i for i in range(len(self.manifest.chunks)) if i not in self._chunks]

    def stuck(self) -> str | None:
        """Why the snapshot cannot be completed from these peers, or None while it still can."""
        if self.done:
            return None
        for index, attempts in self._attempts.items():
            if attempts >= self.limits.max_attempts and index not in self._chunks:
                return f"chunk {index} failed {attempts} times"
        usable = [p for p in self.peers if p not in self.bad]
        if not usable:
            return "every peer offering the snapshot served a bad chunk"
        if not self._busy and not self.next_requests(peek=True):
            return "no peer left that has not failed a missing chunk"
        return None

    def next_requests(self, peek: bool = False) -> list[tuple[bytes, int]]:
        """(peer, chunk index) to ask now: one per idle good peer, each chunk to one peer."""
        out = []
        taken = set(self._busy.values())
        for peer in self.peers:
            if peer in self.bad or peer in self._busy:
                continue
            for index in self._pending:
                if index in taken:
                    continue
                tried = self._tried.get(index, set())
                others = [p for p in self.peers if p not in self.bad and p not in tried]
                if peer in tried and others:
                    continue  # it failed this chunk and someone else still can try
                out.append((peer, index))
                taken.add(index)
                break
        if not peek:
            for peer, index in out:
                self._busy[peer] = index
        return out

    def on_chunk(self, peer: bytes, index: int, data: bytes) -> str | None:
        """A peer's answer to (peer, index); None if the chunk is accepted, else why the peer is now bad."""
        self._release(peer, index)
        if index in self._chunks:
            return None
        pairs, fault = self._check(index, data)
        if pairs is not None:
            self._chunks[index] = pairs
            self._pending.remove(index)
            self.bytes_received += len(data)
            return None
        self._attempts[index] = self._attempts.get(index, 0) + 1
        self._tried.setdefault(index, set()).add(peer)
        self.bad.add(peer)
        return fault

    def _check(self, index: int, data: bytes) -> tuple[list[tuple[bytes, bytes]] | None, str | None]:
        if len(data) > self.limits.max_chunk_bytes:
            return None, f"chunk {index} is {len(data)} bytes, over the limit of {self.limits.max_chunk_bytes}"
        if chunk_hash(data) != self.manifest.chunks[index]:
            return None, f"chunk {index} does not hash to its manifest entry"
        try:
            return decode_chunk(data, self.limits.max_chunk_bytes), None
        except DecodeError as exc:  # the manifest itself named a malformed chunk
            return None, f"chunk {index} is malformed: {exc}"

    def on_failure(self, peer: bytes, index: int) -> None:
        """The request failed without an answer (timeout, refused, disconnected): try the chunk elsewhere."""
        self._release(peer, index)
        if index not in self._chunks:
            self._attempts[index] = self._attempts.get(index, 0) + 1
            self._tried.setdefault(index, set()).add(peer)

    def _release(self, peer: bytes, index: int) -> None:
        if self._busy.get(peer) == index:
            del self._busy[peer]

    def entries(self) -> dict[bytes, bytes]:
        """Every (key, value) of the snapshot, once done; SnapshotError if the chunks do not join up."""
        if not self.done:
            raise SnapshotError("the snapshot is not complete")
        out: dict[bytes, bytes] = {}
        last = None
        for index in range(len(self.manifest.chunks)):
            pairs = self._chunks[index]
            if last is not None and pairs[0][0] <= last:
                raise SnapshotError(f"chunk {index} does not start after the end of chunk {index - 1}")
            out.update(pairs)
            last = pairs[-1][0]
        if len(out) != self.manifest.entries:
            raise SnapshotError(f"the chunks hold {len(out)} entries, the manifest says {self.manifest.entries}")
        return out
