"""tx_* methods: submit signed txs, follow them to a receipt, prove their inclusion, dry-run them."""

from __future__ import annotations

import asyncio
from typing import Any

from marketnode.core.errors import DecodeError, MarketnodeError, RpcError, RuleError, StorageCorruption, StorageError
from marketnode.core.jsonable import Inclusion, to_json, tx_to_json
from marketnode.core.merkle import merkle_proof
from marketnode.core.types import Tx
from marketnode.market.receipts import Receipt
from marketnode.node.api.proofs import receipt_proof
from marketnode.node.boundary import ChainReader, NodeApi, TxSubmitter
from marketnode.node.clock import now_ms
from marketnode.node.mempool.admission import Verdict
from marketnode.node.mempool.pool import MempoolError
from marketnode.node.mempool.rules import Refusal, dry_run
from marketnode.node.rpc.errors import (
    INVALID_INPUT,
    LIMIT_EXCEEDED,
    TRANSACTION_REJECTED,
)
from marketnode.node.rpc.registry import CallContext, Param, Registry, Result

MAX_TX_HEX = 64 * 1024
WAIT_TIMEOUT_S = 30.0
ACK_MEANING = (
    "`pending` means admitted to this node's mempool and gossiped to its peers. With `durable: true` the "
    "tx was also written to this node's mempool journal (fsync'd) before this answer, so a crash or restart "
    "of this node re-admits it; `durable: false` means it was not (journal off, or the disk refused) and a "
    "crash before gossip reaches a peer loses it. Neither is final: a pending tx can still be dropped (its "
    "nonce taken by another tx, evicted from a full pool, the node's disk lost). Only `committed` (from "
    "`wait=commit` or `tx_get`) is final; until then resend the same signed tx: it can never apply twice (same "
    "hash, same nonce). A resend that this node still holds, or has already committed, is answered -32003 "
    "`duplicate` (`stale_nonce` once another tx took the nonce): then `tx_get` says which."
)
BUSY_MEANING = (
    "When this node already holds more txs than it can commit within `mempool.max_pending_ms` at its measured "
    "commit rate, it refuses new ones with -32005, `data.code` = `busy` and `data.retry_after_ms`: nothing "
    "was admitted; send the same tx again after that long. The hints are comeback slots handed out in order "
    "at the commit rate, so the crowd refused in one second is spread over the time the node needs to take "
    "it: coming back earlier than told is refused again. The first refused nonce k of a sender takes a slot; "
    "its later nonces refused while it waits carry `data.held_behind` = k and a hint just after k's. A loaded node "
    "(pool at half its bound or more, or holding back the sender's refused nonce k) acknowledges no tx it "
    "could not propose: nonce k+1 while the sender's nonce k is neither committed nor in its pool is refused "
    "with -32005 `nonce_gap`, `data.next_nonce` = k and a `retry_after_ms` (about "
    "one gossip round, as k may be on its way from another node; just after k's slot if k was refused here): "
    "send k first. A lightly loaded node takes such a tx and `tx_send` answers `waiting_for_nonce` = k. "
    "-32005 `full` and `sender_cap` carry `retry_after_ms` too."
)


def busy_error(verdict: Verdict, held_behind: int | None = None) -> RpcError:
    """-32005 for a tx the overload bound refused: how busy the node is and when to come back."""
    drain_ms = int(verdict.pending * 1000 / verdict.commit_tps)
    data: dict[str, Any] = {"code": "busy", "retry_after_ms": verdict.retry_after_ms, "pending": verdict.pending,
                            "capacity": verdict.capacity}
    behind = ""
    if held_behind is not None:
        data["held_behind"] = held_behind
        behind = f"; this sender's nonce {held_behind} was refused first: send it first"
    return RpcError(
        LIMIT_EXCEEDED,
        f"node busy: {verdict.pending} txs already wait here, about {drain_ms} ms of work at the measured "
        f"{verdict.commit_tps:.0f} tx/s{behind}; retry in {verdict.retry_after_ms} ms",
        data,
    )


def retry_hint_ms(node: TxSubmitter) -> int:
    """When a temporarily refused tx (pool full, sender cap) is worth sending again: once the pool drained."""
    return node.intake.admission.retry_after_ms(len(node.mempool))


def mempool_rpc_error(exc: MempoolError, retry_after_ms: int | None = None) -> RpcError:
    """One mapping from a mempool refusal to its JSON-RPC error."""
    if exc.reason in ("full", "sender_cap", "nonce_gap"):
        data: dict[str, Any] = {"code": exc.reason}
        if retry_after_ms is not None:
            data["retry_after_ms"] = retry_after_ms
        if exc.next_nonce is not None:
            data["next_nonce"] = exc.next_nonce
        again = f"; retry in {retry_after_ms} ms" if exc.reason == "nonce_gap" and retry_after_ms else ""
        return RpcError(LIMIT_EXCEEDED, f"{exc}{again}", data)
    if exc.reason in ("decode", "too_large", "chain_id"):
        # "wrong_chain" as tx_estimate and receipts name the same fault (market/codes.py)
        return RpcError(INVALID_INPUT, str(exc), {"code": "wrong_chain" if exc.reason == "chain_id" else exc.reason})
    return RpcError(TRANSACTION_REJECTED, str(exc), {"code": exc.reason})


def submit(node: TxSubmitter, raw: bytes) -> Tx:
    """Admit one wallet tx, or raise its JSON-RPC error.

    Busy first: a busy node admits nothing, except a tx that fills the nonce
    gap in front of txs it already holds (those can commit only once it is in).
    """
    intake = node.intake
    if intake.verdict(1).busy and not intake.unblocks(raw):
        raise busy_error(*intake.refuse_busy(raw))
    try:
        tx = node.submit_tx(raw, allow_gap=intake.gaps_allowed(raw))
        intake.note_admitted(tx)
        return tx
    except MempoolError as exc:
        hint = intake.gap_hint_ms(raw) if exc.reason == "nonce_gap" else retry_hint_ms(node)
        raise mempool_rpc_error(exc, hint) from None
    except RuleError as exc:
        raise RpcError(TRANSACTION_REJECTED, str(exc), {"code": exc.code}) from None


def receipt_json(receipt: Receipt, height: int, index: int) -> dict[str, Any]:
    out = to_json(receipt.to_obj())
    out.update({"height": height, "index": index})
    return out


def tx_status(node: TxSubmitter, tx_hash: bytes, with_proof: bool = True) -> dict[str, Any]:
    """pending | committed | failed | unknown, with receipt, events and inclusion proof once committed."""
    store = node.store
    location = store.get_tx_location(tx_hash)
    if location is None:
        pending = node.mempool.get(tx_hash)
        if pending is not None:
            return {"hash": tx_hash.hex(), "status": "pending", "tx": tx_to_json(pending)}
        return {"hash": tx_hash.hex(), "status": "unknown"}
    height, index = location
    block = node.cached_block(height)
    raw_receipt = store.get_receipt(height, index)
    if block is None or raw_receipt is None:
        raise StorageCorruption(f"tx {tx_hash.hex()} is indexed at block {height}, which or whose receipt is missing")
    receipt = Receipt.decode(raw_receipt)
    out: dict[str, Any] = {
        "hash": tx_hash.hex(),
        "status": "committed" if receipt.ok else "failed",
        "height": height,
        "index": index,
        "tx": tx_to_json(block.txs[index]),
        "receipt": receipt_json(receipt, height, index),
    }
    if with_proof:
        cert = store.get_certificate(height)
        if cert is None:
            raise StorageCorruption(f"block {height} is stored without its commit certificate")
        proof = merkle_proof([tx.hash for tx in block.txs], index)
        out["inclusion"] = Inclusion(tx_hash, proof, block.header, cert).to_json()
        outcome = receipt_proof(node, height, index, raw_receipt)
        out["receipt_proof"] = None if outcome is None else outcome.to_json()
    return out


async def wait_for_commit(node: TxSubmitter, tx: Tx, timeout_s: float) -> dict[str, Any]:
    fut = node.waiters.add(tx.hash)
    try:
        if node.store.get_tx_location(tx.hash) is None:
            await asyncio.wait_for(asyncio.shield(fut), timeout_s)
    except TimeoutError:
        node.waiters.discard(tx.hash, fut)
        return {"hash": tx.hash.hex(), "status": "pending", "timed_out": True}
    finally:
        node.waiters.discard(tx.hash, fut)
    return tx_status(node, tx.hash, with_proof=False)


def register(registry: Registry) -> None:
    tx_param = Param("tx", "hex", "The signed tx: its canonical bytes as hex (docs/PROTOCOL.md).",
                     max_length=MAX_TX_HEX)
    wait_param = Param("wait", "string", "none: return once admitted; commit: return with the receipt.",
                       required=False, default="none", enum=("none", "commit"))

    @registry.method(
        "tx_send",
        summary="Submit one signed tx; optionally wait until it is committed.",
        description=ACK_MEANING + "\n\n" + BUSY_MEANING,
        params=[tx_param, wait_param,
                Param("timeout_s", "integer", "With wait=commit: give up after this many seconds.",
                      required=False, default=int(WAIT_TIMEOUT_S), minimum=1, maximum=120)],
        result=Result("status", "{hash, status, durable} (and receipt with wait=commit).", {"type": "object"}),
        errors=(INVALID_INPUT, TRANSACTION_REJECTED, LIMIT_EXCEEDED),
        tags=("tx",),
    )
    async def tx_send(ctx: CallContext[NodeApi], tx: bytes, wait: str, timeout_s: int) -> dict[str, Any]:
        admitted = submit(ctx.node, tx)
        durable = await ctx.node.intake.record([admitted])
        if wait == "commit":
            status = await wait_for_commit(ctx.node, admitted, timeout_s)
            if status["status"] == "pending":
                status["durable"] = durable
            return status
        out: dict[str, Any] = {"hash": admitted.hash.hex(), "status": "pending", "durable": durable}
        missing = ctx.node.mempool.waiting_for(admitted, ctx.node.app.account_nonce)
        if missing is not None:  # admitted behind a nonce gap: say which nonce it waits for
            out["waiting_for_nonce"] = missing
        return out

    @registry.method(
        "tx_sendBatch",
        summary="Submit many signed txs at once; each gets its own result or error, in order.",
        description="Each admitted tx is acknowledged as by `tx_send` (all of them journaled under one fsync). "
                    "A busy node admits txs in order up to its bound and answers the rest -32005 `busy` with "
                    "`data.retry_after_ms`: resend those, in order, after the hint.",
        params=[Param("txs", "array", "Signed txs as hex.", max_length=5000, items="hex")],
        result=Result("results", "Per tx: {hash, status, durable} or {error: {code, message, data}}.",
                      {"type": "array"}),
        errors=(INVALID_INPUT, LIMIT_EXCEEDED),
        tags=("tx",),
    )
    async def tx_sendBatch(ctx: CallContext[NodeApi], txs: list[bytes]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        admitted: list[Tx] = []
        for raw in txs:
            try:
                tx = submit(ctx.node, raw)
            except RpcError as exc:
                results.append({"error": {"code": exc.code, "message": exc.message, "data": exc.data}})
                continue
            admitted.append(tx)
            results.append({"hash": tx.hash.hex(), "status": "pending"})
        durable = await ctx.node.intake.record(admitted)
        for result in results:
            if "hash" in result:
                result["durable"] = durable
        return results

    @registry.method(
        "tx_get",
        summary="A tx's status (pending, committed, failed, unknown), receipt, events and inclusion proof.",
        description="An unknown hash answers `status: \"unknown\"` (not an error): this node has neither "
                    "committed it nor holds it. "
                    "Once committed, `inclusion` holds a Merkle proof of the tx against the block header and "
                    "the block's commit certificate, so a wallet can verify it alone (wallet/proof.py), and "
                    "`receipt_proof` proves its outcome: the receipt's canonical bytes (ok, code, events), their "
                    "Merkle path to the block's receipts root, and a state proof of that root (key "
                    "`rcpt/<u64 height>`). `receipt_proof` is null until the next block commits the state after "
                    "the tx's block (wallet/light.py verifies both).",
        params=[Param("hash", "hash", "The tx hash."),
                Param("proof", "boolean", "Include the inclusion proof (default true).", required=False, default=True)],
        result=Result("tx", "Status and, when committed, receipt and inclusion proof.", {"type": "object"}),
        errors=(),
        tags=("tx",),
    )
    async def tx_get(ctx: CallContext[NodeApi], hash: bytes, proof: bool) -> dict[str, Any]:
        return tx_status(ctx.node, hash, with_proof=proof)

    @registry.method(
        "tx_estimate",
        summary="Would this signed tx pass right now? Dry-runs it on the current state, changing nothing.",
        params=[tx_param],
        result=Result("estimate", "{ok, code, message, fee, events}", {"type": "object"}),
        errors=(INVALID_INPUT,),
        tags=("tx",),
    )
    async def tx_estimate(ctx: CallContext[NodeApi], tx: bytes) -> dict[str, Any]:
        return estimate(ctx.node, tx)


def estimate(node: ChainReader, raw: bytes) -> dict[str, Any]:
    try:
        tx = Tx.decode(raw)
    except DecodeError as exc:
        raise RpcError(INVALID_INPUT, f"tx does not decode: {exc}") from None
    try:
        outcome = dry_run(node.store, tx, node.chain_id, node.validators[0], now_ms())
    except StorageError:
        raise  # a damaged database is the node's fault, not the tx's: answered as such
    except MarketnodeError as exc:
        return {"ok": False, "code": "error", "message": str(exc)}
    if isinstance(outcome, Refusal):
        return {"ok": False, "code": outcome.code, "message": outcome.message}
    return {"ok": outcome.ok, "code": outcome.code, "message": outcome.message, "fee": outcome.fee_paid,
            "events": to_json([e.to_obj() for e in outcome.events])}

