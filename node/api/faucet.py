"""dev_faucet: testnet funds for wallets, paid by a real signed transfer from the node's faucet account.

The faucet key (``<home>/faucet.key``, funded in the testnet genesis) signs a
``transfer`` with its next nonce and submits it like any wallet tx, so the
funds move on chain and every node agrees. Off unless ``rpc.enable_faucet``;
each address may be served once per ``FAUCET_INTERVAL_S``, each client (IP
address, as the RPC server counts it) ``FAUCET_MAX_PER_CLIENT_PER_MINUTE``
times a minute (fresh addresses cost nothing, so one client must not take the
whole faucet), and all together ``FAUCET_MAX_PER_MINUTE`` times a minute.
"""

from __future__ import annotations

import time
from collections import deque
from pathlib import Path
from typing import Any

from marketnode.core.errors import RpcError, RuleError
from marketnode.core.keys import PrivateKey, address_from_pubkey
from marketnode.core.types import Tx
from marketnode.market.accounts import balance, next_nonce
from marketnode.market.assets import in_units, require_asset
from marketnode.market.engine import load_params
from marketnode.node.api.txs import WAIT_TIMEOUT_S, mempool_rpc_error, wait_for_commit
from marketnode.node.boundary import ChainReader, NodeApi, TxSubmitter
from marketnode.node.config import NodeConfig
from marketnode.node.mempool.pool import MempoolError
from marketnode.node.rpc.errors import LIMIT_EXCEEDED, METHOD_NOT_FOUND, TRANSACTION_REJECTED, limit_exceeded
from marketnode.node.rpc.registry import CallContext, Param, Registry, Result

FAUCET_KEY_FILE = "faucet.key"
FAUCET_AMOUNT = 10_000_000
FAUCET_MAX_AMOUNT = 1_000_000_000
FAUCET_INTERVAL_S = 60.0
FAUCET_MAX_PER_MINUTE = 120  # all addresses together: fresh addresses cost nothing to make
FAUCET_MAX_PER_CLIENT_PER_MINUTE = 10
MAX_REMEMBERED = 10_000


class FaucetSource:
    """Where a node's faucet comes from: off unless ``rpc.enable_faucet``, its key read from the home on first use.

    The RPC server makes one (node/rpc_service.py) and gives it to ``dev_faucet``: the key is read when a wallet
    first asks, so a node whose testnet tooling writes the key late still serves it, and a node without one says
    so in the answer, not at start.
    """

    def __init__(self, enabled: bool, key_path: Path | None = None) -> None:
        self.enabled = enabled
        self.key_path = key_path
        self._faucet: Faucet | None = None

    @classmethod
    def from_config(cls, cfg: NodeConfig) -> FaucetSource:
        return cls(cfg.rpc.enable_faucet, cfg.home / FAUCET_KEY_FILE)

    def get(self) -> Faucet:
        """The node's faucet, loaded on first use; -32601 when disabled or not set up."""
        if self._faucet is not None:
            return self._faucet
        if not self.enabled or self.key_path is None:
            raise RpcError(METHOD_NOT_FOUND, "dev_faucet is disabled on this node (set rpc.enable_faucet = true; "
                           "testnets only)", {"reason": "disabled"})
        if not self.key_path.exists():
            raise RpcError(METHOD_NOT_FOUND, f"dev_faucet is enabled but {self.key_path} is missing (marketnode "
                           "testnet writes one and funds it in genesis)", {"reason": "no_key"})
        self._faucet = Faucet(PrivateKey.load(self.key_path))
        return self._faucet


class Faucet:
    """The faucet account of one node: its key, the next nonce to use, and who was served when."""

    def __init__(self, key: PrivateKey, interval_s: float = FAUCET_INTERVAL_S) -> None:
        self.key = key
        self.interval_s = interval_s
        self._next_nonce = 0
        self._served: dict[tuple[bytes, str], float] = {}  # (address, asset) -> when: one grant per asset
        self._recent: deque[float] = deque()
        self._by_client: dict[str, deque[float]] = {}

    def check_rate(self, address: bytes, now_s: float, client: str = "?", asset: str = "") -> None:
        _forget_before(self._recent, now_s - 60.0)
        if len(self._recent) >= FAUCET_MAX_PER_MINUTE:
            wait = int(60.0 - (now_s - self._recent[0])) + 1
            raise limit_exceeded(f"the faucet is busy; try again in {wait} s", retry_after_s=wait)
        mine = self._by_client.get(client)
        if mine is not None:
            _forget_before(mine, now_s - 60.0)
            if len(mine) >= FAUCET_MAX_PER_CLIENT_PER_MINUTE:
                wait = int(60.0 - (now_s - mine[0])) + 1
                raise limit_exceeded(f"this client was served {FAUCET_MAX_PER_CLIENT_PER_MINUTE} times in the last "
                                     f"minute; try again in {wait} s", retry_after_s=wait)
        last = self._served.get((address, asset))
        if last is not None and now_s - last < self.interval_s:
            wait = int(self.interval_s - (now_s - last)) + 1
            raise limit_exceeded(f"this address was given {asset or 'funds'} recently; try again in {wait} s",
                                 retry_after_s=wait)

    def served(self, address: bytes, now_s: float, client: str = "?", asset: str = "") -> None:
        if len(self._served) >= MAX_REMEMBERED:
            cutoff = now_s - self.interval_s
            self._served = {a: t for a, t in self._served.items() if t > cutoff}
        if len(self._by_client) >= MAX_REMEMBERED:
            self._by_client = {c: times for c, times in self._by_client.items() if times and times[-1] > now_s - 60.0}
        self._served[(address, asset)] = now_s
        self._recent.append(now_s)
        self._by_client.setdefault(client, deque()).append(now_s)

    def send(self, node: TxSubmitter, to: bytes, asset: str, amount: int) -> Tx:
        """Sign and submit the transfer; one retry with a fresh nonce if ours went stale."""
        reader = node.store.state_reader()
        fee = load_params(reader).min_fee
        for attempt in range(2):
            nonce = max(self._next_nonce, next_nonce(reader, self.key.public_key))
            body = {"to": to, "asset": asset, "amount": amount, "memo": "dev_faucet"}
            tx = Tx(node.chain_id, self.key.public_key, nonce, "transfer", body, fee).sign(self.key)
            try:
                admitted = node.submit_tx(tx.encode())
            except MempoolError as exc:
                if attempt == 0 and exc.reason in ("duplicate", "stale_nonce"):
                    self._next_nonce = nonce + 1
                    continue
                raise
            self._next_nonce = nonce + 1
            return admitted
        raise AssertionError("unreachable")


def _forget_before(times: deque[float], cutoff_s: float) -> None:
    while times and times[0] <= cutoff_s:
        times.popleft()


def _check_funds(node: ChainReader, faucet: Faucet, asset: str, amount: int) -> None:
    """Refuse up front what the transfer would fail on in the block: an unknown asset, an empty faucet.

    The asset rule is market's own (``require_asset``, the transfer handler's: the same code and message);
    the transfer's admission is the mempool's like any wallet tx's (``Faucet.send``).
    """
    reader = node.store.state_reader()
    try:
        require_asset(reader, asset)
    except RuleError as exc:
        raise RpcError(TRANSACTION_REJECTED, exc.message, {"code": exc.code}) from None
    have = balance(reader, faucet.key.public_key, asset)
    if have < amount:
        raise RpcError(TRANSACTION_REJECTED, f"the faucet holds only {in_units(reader, asset, have)}; ask for less",
                       {"code": "insufficient_funds"})


def register(registry: Registry, source: FaucetSource | None = None) -> None:
    """Declare dev_faucet, served from ``source`` (default: disabled, as for the docs)."""
    faucets = source or FaucetSource(enabled=False)

    @registry.method(
        "dev_faucet",
        summary="Testnet only: send funds from the node's faucet account to an address (a real on-chain transfer).",
        description="Disabled unless the node's config sets rpc.enable_faucet (-32601 otherwise). Each address is "
                    f"served each asset at most once per {int(FAUCET_INTERVAL_S)} s, each client (IP address) at most "
                    f"{FAUCET_MAX_PER_CLIENT_PER_MINUTE} times a minute, and the faucet serves at most "
                    f"{FAUCET_MAX_PER_MINUTE} a minute in all (-32005 with data.retry_after_s).",
        params=[Param("address", "address", "Who receives the funds."),
                Param("asset", "string", "Asset (default: the native asset).", required=False, max_length=12),
                Param("amount", "integer", f"Amount in the smallest unit (default {FAUCET_AMOUNT}).", required=False,
                      default=FAUCET_AMOUNT, minimum=1, maximum=FAUCET_MAX_AMOUNT),
                Param("wait", "string", "none: return once admitted; commit: return with the receipt.",
                      required=False, default="none", enum=("none", "commit"))],
        result=Result("transfer", "{hash, status, durable, to, asset, amount, from} (and receipt with wait=commit).",
                      {"type": "object"}),
        errors=(METHOD_NOT_FOUND, LIMIT_EXCEEDED, TRANSACTION_REJECTED),
        tags=("dev",),
    )
    async def dev_faucet(ctx: CallContext[NodeApi], address: bytes, amount: int, wait: str,
                         asset: str | None = None) -> dict[str, Any]:
        node = ctx.node
        faucet = faucets.get()
        now_s = time.monotonic()
        asset = asset or load_params(node.store.state_reader()).native_asset
        faucet.check_rate(address, now_s, ctx.client, asset)
        _check_funds(node, faucet, asset, amount)
        try:
            tx = faucet.send(node, address, asset, amount)
        except MempoolError as exc:
            raise mempool_rpc_error(exc) from None
        except RuleError as exc:
            raise RpcError(TRANSACTION_REJECTED, str(exc), {"code": exc.code}) from None
        faucet.served(address, now_s, ctx.client, asset)
        durable = await node.intake.record([tx])  # acknowledged like tx_send: on disk first (docs/RPC.md)
        out = {"hash": tx.hash.hex(), "status": "pending", "durable": durable,
               "from": address_from_pubkey(faucet.key.public_key), "to": address_from_pubkey(address),
               "asset": asset, "amount": amount}
        if wait == "commit":
            out.update(await wait_for_commit(node, tx, WAIT_TIMEOUT_S))
        return out
