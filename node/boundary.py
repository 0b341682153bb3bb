"""The typed boundary between the Node and what serves it: RPC methods, the web and content routes, node services.

Each consumer is typed with the narrowest Protocol that covers what it reads,
so a reader sees at a glance what a module may touch, and ``Node``
(node/service.py) satisfies every one of them structurally: nothing here
imports the Node at run time. ``_node_satisfies`` below makes mypy fail the moment the
Node drifts from one of them.

- ``ChainReader``: the committed chain and the state at its head (blocks, receipts, certificates, proofs).
- ``TxSubmitter``: submit a wallet tx, follow it into a block (adds the pool, the intake and the commit waiters).
- ``IndexedReads``: the query index, caught up before each read.
- ``BlockFeed``: subscribe to committed blocks.
- ``ServiceHost``: what a node service with a store of its own needs (content, mailbox): config, chain, peers.
- ``NodeApi``: everything the JSON-RPC methods read, the context each handler gets as ``ctx.node``.

The wall clock is not on the node: it is node/clock.py, passed as a ``ClockMs`` where a test must set the time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from marketnode.core import smt
from marketnode.core.errors import StorageCorruption
from marketnode.core.types import Block, Certificate, Evidence, Tx
from marketnode.market.genesis import Genesis
from marketnode.node.chain.driver import CommitWaiters
from marketnode.node.chain.executor import Executed
from marketnode.node.config import NodeConfig
from marketnode.node.mempool.intake import TxIntake
from marketnode.node.mempool.pool import Mempool
from marketnode.node.queries.follower import IndexFollower
from marketnode.node.queries.indexer import QueryIndex
from marketnode.node.storage.chainstore import Head, StateReader
from marketnode.node.storage.kv import KV, KVReader
from marketnode.p2p.peer import PeerInfo

if TYPE_CHECKING:  # types only: these modules import this one (their constructors take its Protocols)
    from marketnode.node.content.service import ContentService
    from marketnode.node.mailbox.service import MailboxService
    from marketnode.node.service import Node

BlockSubscriber = Callable[[Executed], None]
ClockMs = Callable[[], int]  # milliseconds since the Unix epoch (node/clock.py now_ms, or a test's fixed time)


class StoreHealth(Protocol):
    """Whether a store has met a read or write failure (node/storage/kv.py ``KV.fault``), for node_health."""

    @property
    def fault(self) -> str | None: ...


class ChainView(Protocol):
    """The read side of the chain store (node/storage/chainstore.py ``ChainStore``): nothing here writes."""

    @property
    def kv(self) -> StoreHealth: ...

    @property
    def versions_kept(self) -> int: ...

    def head(self) -> Head | None: ...

    def base_height(self) -> int: ...

    def genesis_hash(self) -> bytes | None: ...

    def state_reader(self, view: KVReader | None = None) -> StateReader: ...

    def state_proof(self, version: int, key: bytes, view: KVReader | None = None) -> tuple[smt.Proof, bytes | None]:
        ...

    def get_block(self, height: int) -> Block | None: ...

    def get_block_height(self, block_hash: bytes) -> int | None: ...

    def get_certificate(self, height: int) -> Certificate | None: ...

    def get_receipts(self, height: int) -> list[bytes]: ...

    def get_receipt(self, height: int, index: int) -> bytes | None: ...

    def get_tx_location(self, tx_hash: bytes) -> tuple[int, int] | None: ...

    def iter_evidence(self) -> Iterator[Evidence]: ...


def committed_head(chain: ChainView) -> Head:
    """The head of an open node's chain. There always is one (Node.open commits the genesis before anything
    serves), so its absence means a damaged store, answered as such rather than as a bare AttributeError."""
    head = chain.head()
    if head is None:
        raise StorageCorruption("the chain store has no head: not even the genesis is committed")
    return head


class PeerNet(Protocol):
    """The p2p host as a node service uses it: gossip out, ask one peer, penalise a bad one."""

    def broadcast(self, topic: str, payload: bytes, exclude: bytes | None = None) -> None: ...

    async def request(self, peer: bytes, topic: str, payload: bytes, timeout_s: float) -> bytes: ...

    def penalize(self, peer: bytes, points: int, reason: str) -> None: ...

    def peers(self) -> list[PeerInfo]: ...


class PeerAdmin(Protocol):
    """The p2p host as the node and admin methods use it: list, dial and ban peers."""

    def peers(self) -> list[PeerInfo]: ...

    def connect(self, address: str) -> None: ...

    def ban(self, peer: bytes, reason: str) -> None: ...

    def is_banned(self, peer: bytes) -> bool: ...


class NonceSource(Protocol):
    """The next nonce of an account at the head (node/chain/app.py)."""

    def account_nonce(self, account: bytes) -> int: ...


class ChainReader(Protocol):
    """Read the committed chain: the state at the head, blocks, receipts, certificates, the genesis."""

    @property
    def chain_id(self) -> str: ...

    @property
    def validators(self) -> Sequence[bytes]: ...

    @property
    def genesis(self) -> Genesis: ...

    @property
    def store(self) -> ChainView: ...

    def cached_block(self, height: int) -> Block | None: ...


class TxSubmitter(ChainReader, Protocol):
    """Submit a wallet tx (through the intake's overload bound), see it pending, wait for its commit."""

    @property
    def intake(self) -> TxIntake: ...

    @property
    def mempool(self) -> Mempool: ...

    @property
    def app(self) -> NonceSource: ...

    @property
    def waiters(self) -> CommitWaiters: ...

    def submit_tx(self, raw: bytes, gossip: bool = True, allow_gap: bool = True) -> Tx: ...


class BlockFeed(Protocol):
    """Subscribe to committed blocks: each subscriber is called once per block, on the event loop, in order."""

    @property
    def subscribers(self) -> list[BlockSubscriber]: ...


class ServiceHost(BlockFeed, Protocol):
    """What a node service with a store of its own (content, mailbox) is built from."""

    @property
    def cfg(self) -> NodeConfig: ...

    @property
    def chain_id(self) -> str: ...

    @property
    def kv(self) -> KV: ...

    @property
    def store(self) -> ChainView: ...

    @property
    def p2p(self) -> PeerNet: ...


class IndexedReads(Protocol):
    """The query index (node/queries), caught up with the chain before each read."""

    @property
    def query_index(self) -> QueryIndex: ...

    @property
    def query_follower(self) -> IndexFollower: ...


class NodeApi(TxSubmitter, IndexedReads, Protocol):
    """Everything the JSON-RPC methods (node/api) read: ``ctx.node`` in a handler."""

    @property
    def cfg(self) -> NodeConfig: ...

    @property
    def p2p(self) -> PeerAdmin: ...

    @property
    def content(self) -> ContentService: ...

    @property
    def mailbox(self) -> MailboxService: ...

    def status(self) -> dict[str, Any]: ...


if TYPE_CHECKING:
    def _node_satisfies(node: Node) -> tuple[NodeApi, ServiceHost, TxSubmitter, ChainReader, IndexedReads,
                                             BlockFeed]:
        """Never called: mypy checks that the Node still satisfies every Protocol above."""
        return node, node, node, node, node, node
