"""The mempool: txs admitted from wallets and peers, waiting for a block.

The pool applies this node's policy (size, dedupe, its minimum fee, caps, nonce gaps, the signature,
verified once so block validation can skip it); the chain's rules are market's ``check_tx``, passed in as
``check``, but its two stateless ones (chain id, nonce not below the next) run first as the cheap filter,
refused as ``chain_id`` / ``stale_nonce``. Never touches storage or the network: each sender's next nonce
comes from the caller's function, read once per admission and handed to ``check``.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, fields

from marketnode.core.errors import ConfigError, DecodeError, RuleError, ValidationError
from marketnode.core.types import MAX_BLOCK_SIGS, MAX_TX_BYTES, Tx, tx_hash_of
from marketnode.market.engine import check_chain, check_nonce

AccountNonce = Callable[[bytes], int]
"""sender public key → the nonce its next tx must carry, as of the committed head."""

ChainCheck = Callable[[Tx, int], None]
"""The chain's rules for a tx, given its sender's next nonce as the pool read it: raises RuleError."""

REASONS = frozenset(
    {"decode", "chain_id", "signature", "stale_nonce", "nonce_gap", "fee", "sender_cap", "duplicate", "full",
     "too_large"}
)


class MempoolError(ValidationError):
    """A tx the mempool refused; ``reason`` is machine-readable (one of REASONS).

    ``duplicate`` is benign (a peer gossiped what we have): p2p should not
    penalise it. ``full``, ``sender_cap`` and ``nonce_gap`` are temporary:
    retry later. ``next_nonce`` is the nonce the pool would take next from
    the sender (set with ``stale_nonce`` and ``nonce_gap``).
    """

    def __init__(self, reason: str, message: str, next_nonce: int | None = None) -> None:
        assert reason in REASONS, reason
        super().__init__(message)
        self.reason = reason
        self.next_nonce = next_nonce


@dataclass(frozen=True, slots=True)
class MempoolLimits:
    """Every bound on the pool; defaults match node/config.py's [mempool] section."""

    max_txs: int = 50_000
    max_bytes: int = 64 * 1024 * 1024
    max_tx_bytes: int = MAX_TX_BYTES
    max_per_sender: int = 1000
    max_gapped: int = 10_000  # txs waiting behind a nonce gap, in all: they are not work, so they get a cap of their own
    seen_cache_size: int = 100_000
    min_fee: int = 0

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            least = 0 if field.name == "min_fee" else 1
            if not isinstance(value, int) or value < least:
                raise ConfigError(f"mempool limit {field.name} must be an integer >= {least}, got {value!r}")


class _RecentSet:
    """A set that forgets its oldest member beyond ``capacity``: memory stays bounded under any load."""

    __slots__ = ("_capacity", "_items")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._items: OrderedDict[bytes, None] = OrderedDict()

    def add(self, item: bytes) -> None:
        self._items[item] = None
        self._items.move_to_end(item)
        if len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def discard(self, item: bytes) -> None:
        self._items.pop(item, None)

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def __len__(self) -> int:
        return len(self._items)


class Mempool:
    """Pending txs by hash and by (sender, nonce), bounded by count, bytes and per-sender cap.

    Ordering contract: call ``remove_committed(block.txs)`` and then
    ``recheck(account_nonce)`` after each committed block, before the next
    ``take_batch``.
    """

    def __init__(self, limits: MempoolLimits, chain_id: str) -> None:
        self.limits = limits
        self.chain_id = chain_id
        self._txs: dict[bytes, Tx] = {}
        # sender → {nonce: tx hash}; dict order = order in which senders (re)appeared, for fairness.
        self._by_sender: dict[bytes, dict[int, bytes]] = {}
        # Proposable work (docs/CONSENSUS.md, "Work"): each sender's next nonce as of the committed head,
        # and the senders whose next nonce is pending here, i.e. whose txs a block could carry now.
        self._next: dict[bytes, int] = {}
        self._run: dict[bytes, int] = {}  # sender -> first nonce after its run of pending txs from its next nonce
        self._executable = 0  # txs in those runs: what blocks can carry now, in order
        self._admitted_at: dict[bytes, int] = {}  # tx hash -> admission sequence number
        self._seq = 0
        self._cursor = 0  # where the last re-gossip round stopped in arrival order
        self._bytes = 0
        self._seen = _RecentSet(limits.seen_cache_size)
        self._verified = _RecentSet(limits.seen_cache_size)

    # -- admission ------------------------------------------------------------

    def add(self, raw: bytes, account_nonce: AccountNonce, check: ChainCheck | None = None,
            allow_gap: bool = True) -> Tx:
        """Admit the signed tx ``raw`` or raise MempoolError (or whatever ``check`` raises).

        Cheap checks run before the signature, so junk costs a dict lookup,
        not an ed25519 verification. ``check`` is the chain's rules (market's
        ``check_tx``), run last on a tx that passed everything else, with the
        sender's next nonce read here (once per admission).

        ``allow_gap=False`` (wallet txs) refuses a tx whose sender's earlier
        nonce is neither committed nor here (``nonce_gap``): acknowledging it
        would promise a tx that cannot commit before another one arrives, which
        may never happen. Gossiped txs are allowed a gap (the peer that
        admitted them had the nonces before; they may arrive out of order),
        within ``max_gapped``.
        """
        limits = self.limits
        if len(raw) > limits.max_tx_bytes:
            raise MempoolError("too_large", f"tx is {len(raw)} bytes; the limit is {limits.max_tx_bytes}")
        # A tx's hash is over its canonical bytes, which are the only bytes that decode: a duplicate
        # (most of what gossip brings under load) is refused by one sha256, before any decoding.
        tx_hash = tx_hash_of(raw)
        if tx_hash in self._txs or tx_hash in self._seen:
            raise MempoolError("duplicate", f"tx {tx_hash.hex()} was already received")
        try:
            tx = Tx.decode(raw, max_bytes=limits.max_tx_bytes)
        except DecodeError as exc:
            raise MempoolError("decode", f"tx does not decode: {exc}") from exc
        try:
            check_chain(tx, self.chain_id)
        except RuleError:  # market's rule; the reply a wallet gets is worded for this node, as before
            raise MempoolError("chain_id", f"tx is for chain {tx.chain_id!r}; this node runs {self.chain_id!r}") from None
        pending = self._by_sender.get(tx.sender)
        replaces = self._replaced_by(tx, pending)
        if tx.fee < tx.fee_floor(limits.min_fee):
            raise MempoolError("fee", f"tx fee {tx.fee} is below this node's minimum of {tx.fee_floor(limits.min_fee)} "
                               f"({limits.min_fee} per signature)")
        next_nonce = account_nonce(tx.sender)
        try:
            check_nonce(tx, next_nonce, exact=False)
        except RuleError:
            raise MempoolError("stale_nonce", f"tx nonce {tx.nonce} is already used; the sender's next nonce is "
                               f"{next_nonce}", next_nonce=next_nonce) from None
        if pending is not None and replaces is None and len(pending) >= limits.max_per_sender:
            raise MempoolError("sender_cap", f"the sender already has {len(pending)} pending txs (limit {limits.max_per_sender})")
        run_end = self._run_end(tx.sender, next_nonce)
        gapped = tx.nonce > run_end
        if gapped and not allow_gap:
            raise MempoolError("nonce_gap", f"tx nonce {tx.nonce} is ahead of this sender's next nonce here, "
                               f"{run_end}: send nonce {run_end} first", next_nonce=run_end)
        if gapped and len(self._txs) - self._executable >= limits.max_gapped:
            raise MempoolError("full", f"{limits.max_gapped} txs already wait behind nonce gaps here; send the "
                               "missing nonces first, or retry later")
        full = self._full_error(len(raw))
        # A full pool still takes a tx that can execute next, by evicting txs stuck behind a nonce gap;
        # otherwise gapped txs could fill it for good and refuse the very tx that would unblock them.
        if full is not None and tx.nonce != run_end:
            raise full
        if tx_hash not in self._verified:
            if not tx.verify():
                raise MempoolError("signature", "tx signature does not verify against its sender")
            self._verified.add(tx_hash)
        if check is not None:
            check(tx, next_nonce)
        if full is not None and not self._evict_gapped(account_nonce, len(raw)):
            raise full
        if replaces is not None:
            self._remove(replaces)
        self._insert(tx_hash, tx, len(raw))
        self._next[tx.sender] = next_nonce
        self._extend_run(tx.sender)
        return tx

    def _replaced_by(self, tx: Tx, pending: dict[int, bytes] | None) -> bytes | None:
        """The held tx at ``tx``'s nonce that ``tx`` may replace, or None when the nonce is free.

        Only a tx with more signatures replaces one with fewer (and only if it then passes every check):
        a multi-key account's owner, signing with its threshold, is not held up by a thief's one-key
        txs squatting its nonces. Equal signatures: the first stays (``duplicate``).
        """
        if pending is None or tx.nonce not in pending:
            return None
        held = pending[tx.nonce]
        if len(tx.signatures()) <= len(self._txs[held].signatures()):
            raise MempoolError("duplicate", f"the sender already has a pending tx with nonce {tx.nonce}")
        return held

    def _extend_run(self, sender: bytes) -> None:
        """Walk the sender's run of pending nonces on from where it was known to end; keep the count."""
        start = self._next[sender]
        old_end = self._run.get(sender, start)
        end = max(old_end, start)
        pending = self._by_sender[sender]
        while end in pending:
            end += 1
        self._run[sender] = end
        self._executable += (end - start) - max(0, old_end - start)

    def _full_error(self, size: int) -> MempoolError | None:
        limits = self.limits
        if len(self._txs) >= limits.max_txs:
            return MempoolError("full", f"the mempool holds its limit of {limits.max_txs} txs; retry later")
        if self._bytes + size > limits.max_bytes:
            return MempoolError("full", f"the mempool holds {self._bytes} of {limits.max_bytes} bytes; retry later")
        return None

    def waiting_for(self, tx: Tx, account_nonce: AccountNonce) -> int | None:
        """The sender's missing nonce a pending ``tx`` waits behind, or None if it can be proposed now."""
        run_end = self._run_end(tx.sender, account_nonce(tx.sender))
        return run_end if tx.nonce > run_end else None

    def _run_end(self, sender: bytes, next_nonce: int) -> int:
        """The first nonce after the sender's executable run of pending txs (starting at ``next_nonce``)."""
        pending = self._by_sender.get(sender, {})
        nonce = next_nonce
        while nonce in pending:
            nonce += 1
        return nonce

    def _evict_gapped(self, account_nonce: AccountNonce, size: int) -> bool:
        """Drop txs that wait behind a nonce gap, furthest from executable first, until ``size`` more bytes fit."""
        gapped: list[tuple[int, bytes]] = []
        for sender, pending in self._by_sender.items():
            run_end = self._run_end(sender, account_nonce(sender))
            gapped += [(nonce - run_end, tx_hash) for nonce, tx_hash in pending.items() if nonce > run_end]
        gapped.sort()
        while self._full_error(size) is not None:
            if not gapped:
                return False
            self._remove(gapped.pop()[1])
        return True

    def _insert(self, tx_hash: bytes, tx: Tx, size: int) -> None:
        self._txs[tx_hash] = tx
        self._by_sender.setdefault(tx.sender, {})[tx.nonce] = tx_hash
        self._bytes += size
        self._seen.add(tx_hash)
        self._seq += 1
        self._admitted_at[tx_hash] = self._seq

    def _remove(self, tx_hash: bytes) -> Tx | None:
        tx = self._txs.pop(tx_hash, None)
        if tx is None:
            return None
        self._bytes -= len(tx.encode())
        del self._admitted_at[tx_hash]
        pending = self._by_sender[tx.sender]
        del pending[tx.nonce]
        start, end = self._next.get(tx.sender, 0), self._run.get(tx.sender, 0)
        if start <= tx.nonce < end:  # the run now ends here (recheck walks it again from the new next nonce)
            self._run[tx.sender] = tx.nonce
            self._executable -= end - tx.nonce
        if not pending:
            del self._by_sender[tx.sender]
            self._next.pop(tx.sender, None)
            self._run.pop(tx.sender, None)
        return tx

    # -- block building -------------------------------------------------------

    def take_batch(self, max_txs: int, max_bytes: int, account_nonce: AccountNonce) -> list[Tx]:
        """Up to ``max_txs`` txs / ``max_bytes`` bytes that can execute in order, without removing them.

        A tx with k signatures counts k towards ``max_txs`` (verification work).
        Per sender: only a contiguous run of nonces from its next nonce (a
        gap stops that sender). Across senders: round robin, oldest sender
        first, so one busy sender cannot crowd out the rest.
        """
        runs: deque[tuple[dict[int, bytes], int]] = deque()
        for sender, pending in self._by_sender.items():
            if len(runs) >= max_txs:
                break
            nonce = account_nonce(sender)
            if nonce in pending:
                runs.append((pending, nonce))
        batch: list[Tx] = []
        room = max_bytes
        signatures = 0  # a block carries at most MAX_BLOCK_SIGS (core/types.py), and a k-signature tx costs k slots
        sig_room = min(max_txs, MAX_BLOCK_SIGS)
        while runs and len(batch) < max_txs:
            pending, nonce = runs.popleft()
            tx = self._txs[pending[nonce]]
            size, cost = len(tx.encode()), len(tx.signatures())
            if size > room or signatures + cost > sig_room:
                continue  # this sender's next tx does not fit; its later nonces cannot go without it
            batch.append(tx)
            room -= size
            signatures += cost
            if nonce + 1 in pending:
                runs.append((pending, nonce + 1))
        return batch

    def remove_committed(self, txs: Iterable[Tx]) -> None:
        """Drop txs a committed block carried; remember their hashes so late gossip is refused."""
        for tx in txs:
            tx_hash = tx.hash
            self._remove(tx_hash)
            self._seen.add(tx_hash)
            self._verified.discard(tx_hash)

    def recheck(self, account_nonce: AccountNonce) -> list[Tx]:
        """Drop and return every tx whose nonce the chain has now used (e.g. a competing tx committed)."""
        dropped: list[Tx] = []
        for sender, pending in list(self._by_sender.items()):
            next_nonce = account_nonce(sender)
            for nonce in [n for n in pending if n < next_nonce]:
                tx = self._remove(pending[nonce])
                assert tx is not None
                dropped.append(tx)
            if sender in self._by_sender:
                old_start, old_end = self._next[sender], self._run.get(sender, next_nonce)
                self._executable -= max(0, old_end - old_start)
                self._next[sender] = next_nonce
                self._run[sender] = max(old_end, next_nonce)
                self._executable += self._run[sender] - next_nonce
                self._extend_run(sender)
        return dropped

    def drop_unsigned(self, senders: Iterable[bytes], still_signed: Callable[[Tx], bool]) -> list[Tx]:
        """Drop and return the pending txs of ``senders`` whose signers no longer hold the account's authority.

        Called after a block changed those accounts' key sets (market/authority.py): a tx signed by a
        rotated-out key would only be refused in a block, taking a slot for nothing.
        """
        dropped: list[Tx] = []
        for sender in senders:
            for tx_hash in list(self._by_sender.get(sender, {}).values()):
                tx = self._txs[tx_hash]
                if not still_signed(tx):
                    self._remove(tx_hash)
                    dropped.append(tx)
        return dropped

    # -- re-gossip ------------------------------------------------------------

    @property
    def admission_seq(self) -> int:
        """A counter that grows by one per admitted tx: ``regossip_batch(before_seq=...)`` takes it back."""
        return self._seq

    def regossip_batch(self, before_seq: int, max_txs: int, heads_per_sender: int) -> list[Tx]:
        """Txs admitted before ``before_seq`` to offer peers again, the ones that unblock blocks first.

        First, per sender, up to ``heads_per_sender`` txs of its run from the
        chain's next nonce: a peer missing one of those cannot propose that
        sender's txs at all (it holds them behind a nonce gap), so they go out
        every round. Then the rest, continuing from where the last round
        stopped, so that over rounds every pending tx travels again, not
        always the same first ones.
        """
        picked: list[Tx] = []
        chosen: set[bytes] = set()
        for sender in self._ready_senders():
            pending, nonce = self._by_sender[sender], self._next[sender]
            for _ in range(heads_per_sender):
                tx_hash = pending.get(nonce)
                if tx_hash is None or len(picked) >= max_txs:
                    break
                if self._admitted_at[tx_hash] <= before_seq:
                    picked.append(self._txs[tx_hash])
                    chosen.add(tx_hash)
                nonce += 1
        order = list(self._txs)
        if not order:
            return picked
        start = self._cursor % len(order)
        index = start
        for step in range(len(order)):
            if len(picked) >= max_txs:
                break
            index = (start + step) % len(order)
            tx_hash = order[index]
            if tx_hash not in chosen and self._admitted_at[tx_hash] <= before_seq:
                picked.append(self._txs[tx_hash])
            index += 1
        self._cursor = index
        return picked

    # -- queries --------------------------------------------------------------

    def is_verified(self, tx_hash: bytes) -> bool:
        """True if this node already checked the tx's signature (block validation may skip it)."""
        return tx_hash in self._verified

    def has_seen(self, tx_hash: bytes) -> bool:
        """True if the tx is pending or recently was (admitted or committed): do not re-gossip it."""
        return tx_hash in self._txs or tx_hash in self._seen

    def has_pending(self) -> bool:
        """True while any tx waits here, proposable or behind a nonce gap."""
        return bool(self._txs)

    def unblocks(self, sender: bytes, nonce: int, next_nonce: int) -> bool:
        """True if a tx (sender, nonce) would fill the gap in front of txs already waiting here.

        Such a tx turns waiting txs into proposable work, so a node that is
        refusing new work must still take it: refusing it would keep the pool
        full of txs no block can carry, and the node busy for good.
        """
        pending = self._by_sender.get(sender)
        return (pending is not None and nonce == self._run_end(sender, next_nonce)
                and any(n > nonce for n in pending))

    def expire_gapped(self, before_seq: int) -> int:
        """Drop txs still behind a nonce gap that were admitted before ``before_seq``; how many went.

        A missing nonce that has not come in that long was most likely given up
        by its client (or never meant to come: future nonces are free to send).
        Kept, such txs would count as backlog for good. They are forgotten, not
        remembered as seen, so if the gap filler comes after all they can be
        gossiped in again.
        """
        stale = [tx_hash for sender, pending in self._by_sender.items()
                 for nonce, tx_hash in pending.items()
                 if nonce > self._run.get(sender, self._next.get(sender, 0)) and self._admitted_at[tx_hash] < before_seq]
        for tx_hash in stale:
            self._remove(tx_hash)
            self._seen.discard(tx_hash)
        return len(stale)

    def gaps(self, max_senders: int) -> list[tuple[bytes, int]]:
        """(sender, first missing nonce) for senders whose txs here wait behind a gap, oldest senders first.

        What to ask peers for: each missing tx turns this sender's waiting
        txs into proposable work.
        """
        out: list[tuple[bytes, int]] = []
        for sender, pending in self._by_sender.items():
            if len(out) >= max_senders:
                break
            end = self._run.get(sender, self._next.get(sender, 0))
            if any(n > end for n in pending):
                out.append((sender, end))
        return out

    def run_from(self, sender: bytes, nonce: int, limit: int) -> list[Tx]:
        """The sender's pending txs at ``nonce``, ``nonce + 1``, ... as far as they are consecutive (a peer's want)."""
        pending = self._by_sender.get(sender, {})
        out: list[Tx] = []
        while nonce in pending and len(out) < limit:
            out.append(self._txs[pending[nonce]])
            nonce += 1
        return out

    def has_proposable(self) -> bool:
        """True while a block could carry a tx from here: some sender's next nonce is pending.

        Txs that wait behind a nonce gap are not work: no block can carry them
        until the missing tx arrives, so they start no timer and no proposal.
        """
        return self._executable > 0

    def executable_count(self) -> int:
        """Txs that blocks can carry now, in nonce order: backlog that commits, unlike txs behind a gap."""
        return self._executable

    def proposable_senders(self) -> int:
        return sum(1 for _ in self._ready_senders())

    def _ready_senders(self) -> Iterator[bytes]:
        """Senders whose next nonce is pending here (their run is not empty), in arrival order."""
        return (s for s in self._by_sender if self._run.get(s, 0) > self._next.get(s, 0))

    def get(self, tx_hash: bytes) -> Tx | None:
        return self._txs.get(tx_hash)

    def __contains__(self, tx_hash: object) -> bool:
        return tx_hash in self._txs

    def __len__(self) -> int:
        return len(self._txs)

    def __iter__(self) -> Iterator[Tx]:
        """Pending txs in arrival order."""
        return iter(list(self._txs.values()))

    @property
    def size_bytes(self) -> int:
        return self._bytes
