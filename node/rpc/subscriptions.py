"""Websocket subscriptions: who listens to which topic, and fan-out that never blocks.

``SubscriptionHub.publish`` is synchronous and only queues text on each
subscriber's bounded queue; a subscriber whose queue is full is dropped (its
connection closed with a reason) instead of slowing the node. The hub knows
nothing of aiohttp: a subscriber is anything with ``deliver`` and ``drop``.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from marketnode.core.encoding import INT_MAX as U64_MAX
from marketnode.core.errors import ValidationError
from marketnode.core.hashing import HASH_SIZE
from marketnode.core.jsonable import from_hex, to_json
from marketnode.core.keys import PUBKEY_SIZE, address_from_pubkey, pubkey_from_address
from marketnode.node.rpc.errors import invalid_params, limit_exceeded
from marketnode.node.rpc.jsonify import dumps

log = logging.getLogger("marketnode.rpc")

NOTIFICATION_METHOD = "subscription"


class Subscriber(Protocol):
    """One websocket connection as the hub sees it."""

    conn_id: str
    client: str  # the key per-client limits count under (node.rpc.clients.client_key)
    is_admin: bool

    def deliver(self, text: str) -> bool:
        """Queue ``text`` without waiting; False when the queue is full."""
        ...

    def drop(self, reason: str) -> None:
        """Close the connection soon, telling the client ``reason``; never waits."""
        ...


def _hash_key(value: Any) -> str:
    if isinstance(value, bytes):
        if len(value) != HASH_SIZE:
            raise ValidationError(f"a hash is {HASH_SIZE} bytes")
        return value.hex()
    return from_hex(value, "hash", HASH_SIZE).hex()


def _address_key(value: Any) -> str:
    if isinstance(value, bytes):
        if len(value) != PUBKEY_SIZE:
            raise ValidationError(f"an account key is {PUBKEY_SIZE} bytes")
        return address_from_pubkey(value)
    pubkey_from_address(value)
    return value


def _order_key(value: Any) -> str:
    """Order ids (market/ numbers them): an integer, or its decimal string."""
    if isinstance(value, str) and value.isdecimal() and len(value) <= 20:
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= U64_MAX:
        raise ValidationError("an order id is an unsigned 64-bit integer")
    return str(value)


def _text_key(value: Any) -> str:
    """Default for other topics: a short string or an integer, compared as text."""
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not 0 < len(str(value)) <= 128:
        raise ValidationError("a filter value is a string of 1-128 characters or an integer")
    return str(value)


@dataclass(frozen=True, slots=True)
class Topic:
    """A subscribable stream. ``key`` turns a filter value (from a client or
    from ``publish(match=...)``) into the index key, so both sides agree on
    spelling: a tx hash as bytes or hex, an account as key bytes or address."""

    name: str
    description: str
    filter_field: str | None = None
    key: Callable[[Any], str] = _text_key


DEFAULT_TOPICS: tuple[Topic, ...] = (
    Topic("newBlocks", "Every committed block header (no filter)."),
    Topic("tx", "Status changes of one transaction: filter {\"hash\": tx hash hex}.", "hash", _hash_key),
    Topic("order", "Events of one order: filter {\"order_id\": integer id}.", "order_id", _order_key),
    Topic("account", "Activity of one account (and disputes of orders it arbitrates): filter {\"address\": mn1...}.",
          "address", _address_key),
    Topic("messages", "Encrypted messages to or from one account, and its read markers: filter "
          "{\"address\": mn1...}.", "address", _address_key),
)


# A notification as dumps() writes it, cut around its two holes: the
# subscription id (hex: needs no escaping) and the result's JSON text.
_FRAME_HEAD = '{"jsonrpc":"2.0","method":"' + NOTIFICATION_METHOD + '","params":{"subscription":"'
_FRAME_MIDDLE = '","result":'
_FRAME_TAIL = "}}"


@dataclass(frozen=True, slots=True)
class Subscription:
    sub_id: str
    conn: Subscriber
    topic: str
    key: str | None


class SubscriptionHub:
    """Subscriptions by id, indexed by (topic, key) for O(matches) publishing."""

    def __init__(self, topics: Iterable[Topic] = DEFAULT_TOPICS, max_per_connection: int = 32,
                 max_per_client: int = 256) -> None:
        self.topics = {t.name: t for t in topics}
        self.max_per_connection = max_per_connection
        self.max_per_client = max_per_client
        self._subs: dict[str, Subscription] = {}
        self._by_conn: dict[str, set[str]] = {}
        self._by_client: Counter[str] = Counter()
        self._index: dict[tuple[str, str | None], set[str]] = {}

    def subscribe(self, conn: Subscriber, topic: str, filter: dict[str, Any] | None = None) -> str:
        """Add a subscription; raise -32602 (bad topic/filter) or -32005 (too many)."""
        spec = self.topics.get(topic)
        if spec is None:
            raise invalid_params(f"unknown topic {topic!r}; topics: {', '.join(sorted(self.topics))}", "topic")
        key = self._filter_key(spec, filter or {})
        mine = self._by_conn.setdefault(conn.conn_id, set())
        if len(mine) >= self.max_per_connection:
            raise limit_exceeded(
                f"at most {self.max_per_connection} subscriptions per connection", max=self.max_per_connection
            )
        if self._by_client[conn.client] >= self.max_per_client:
            raise limit_exceeded(
                f"at most {self.max_per_client} subscriptions per client address", max=self.max_per_client
            )
        sub_id = secrets.token_hex(8)
        self._subs[sub_id] = Subscription(sub_id, conn, topic, key)
        mine.add(sub_id)
        self._by_client[conn.client] += 1
        self._index.setdefault((topic, key), set()).add(sub_id)
        return sub_id

    @staticmethod
    def _filter_key(spec: Topic, filter: dict[str, Any]) -> str | None:
        if not isinstance(filter, dict):
            raise invalid_params("filter must be an object", "filter")
        if spec.filter_field is None:
            if filter:
                raise invalid_params(f"topic {spec.name} takes no filter", "filter")
            return None
        unknown = sorted(set(filter) - {spec.filter_field})
        if unknown or spec.filter_field not in filter:
            raise invalid_params(f"topic {spec.name} needs filter {{{spec.filter_field!r}: ...}}", "filter")
        try:
            return spec.key(filter[spec.filter_field])
        except ValidationError as exc:
            raise invalid_params(f"filter.{spec.filter_field}: {exc}", "filter") from None

    def unsubscribe(self, conn: Subscriber, sub_id: str) -> bool:
        """Remove one of ``conn``'s subscriptions; False when it has no such id."""
        sub = self._subs.get(sub_id)
        if sub is None or sub.conn.conn_id != conn.conn_id:
            return False
        self._remove(sub)
        return True

    def drop_connection(self, conn: Subscriber) -> int:
        """Forget every subscription of ``conn`` (it closed); return how many."""
        ids = self._by_conn.pop(conn.conn_id, set())
        for sub_id in ids:
            sub = self._subs.pop(sub_id)
            self._unindex(sub)
            self._uncount(sub)
        return len(ids)

    def _remove(self, sub: Subscription) -> None:
        del self._subs[sub.sub_id]
        mine = self._by_conn.get(sub.conn.conn_id)
        if mine is not None:
            mine.discard(sub.sub_id)
            if not mine:
                del self._by_conn[sub.conn.conn_id]
        self._unindex(sub)
        self._uncount(sub)

    def _uncount(self, sub: Subscription) -> None:
        client = sub.conn.client
        self._by_client[client] -= 1
        if self._by_client[client] <= 0:
            del self._by_client[client]

    def _unindex(self, sub: Subscription) -> None:
        ids = self._index.get((sub.topic, sub.key))
        if ids is not None:
            ids.discard(sub.sub_id)
            if not ids:
                del self._index[(sub.topic, sub.key)]

    def publish(self, topic: str, payload: Any, match: Any = None) -> int:
        """Notify subscribers of ``topic``; return how many were sent the payload.

        ``match`` is the filter value(s) this event concerns — one value or an
        iterable of them (a transfer touches two accounts), in any spelling the
        topic's ``key`` accepts. Subscriptions without a filter get everything.
        Call from the event loop; it never awaits or blocks.
        """
        spec = self.topics.get(topic)
        if spec is None:
            raise ValueError(f"unknown topic {topic!r}")
        targets = set(self._index.get((topic, None), ()))
        for key in self._match_keys(spec, match):
            targets |= self._index.get((topic, key), set())
        if not targets:
            return 0
        # Serialised once, not once per subscriber: publishing runs on the commit path.
        result = dumps(to_json(payload))
        sent = 0
        for sub_id in sorted(targets):
            sub = self._subs.get(sub_id)
            if sub is None:  # dropped earlier in this loop
                continue
            text = _FRAME_HEAD + sub_id + _FRAME_MIDDLE + result + _FRAME_TAIL
            if sub.conn.deliver(text):
                sent += 1
            else:
                self._drop_slow(sub.conn)
        return sent

    @staticmethod
    def _match_keys(spec: Topic, match: Any) -> list[str]:
        if match is None or spec.filter_field is None:
            return []
        values = [match] if isinstance(match, (str, bytes, int)) else list(match)
        return [spec.key(v) for v in values]

    def _drop_slow(self, conn: Subscriber) -> None:
        count = self.drop_connection(conn)
        log.warning("rpc ws %s dropped: slow consumer (%d subscriptions)", conn.conn_id, count)
        conn.drop("slow consumer: notification queue full")

    def count(self, conn: Subscriber | None = None) -> int:
        if conn is None:
            return len(self._subs)
        return len(self._by_conn.get(conn.conn_id, ()))
