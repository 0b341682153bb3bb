"""The marketplace a load runs against: funded buyers and sellers, shops, listings, orders ready to ship/confirm.

Nothing here is timed. Orders to ship and to confirm are prepared in
advance (the steady mix ships and confirms them) and consumed by every
load step that follows, so several steps can share one cluster.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from marketnode.core.hashing import digest
from marketnode.tools.bench.cluster import BenchError, Cluster, Rpc
from marketnode.tools.bench.workload import (
    MIX,
    Actor,
    Spec,
    listing_body,
    make_actors,
    order_body,
    register_body,
    shop_body,
    sign_specs,
)
from marketnode.tools.testnet.load import demo_keys

Echo = Callable[[str], None]
PHASE_CHUNK = 10_000  # setup txs per round: keeps each seller far below the mempool's per-sender cap
N_BUYERS, N_SELLERS = 64, 16


@dataclass
class Market:
    chain_id: str
    buyers: list[Actor]
    sellers: list[Actor]
    listings: dict[bytes, int]  # seller pub -> listing id
    to_ship: deque = field(default_factory=deque)  # (seller pub, order id), accepted
    to_confirm: deque = field(default_factory=deque)  # (buyer pub, order id), shipped

    def ships(self) -> Iterator[tuple[bytes, int]]:
        """Prepared orders to ship, each handed out once across all steps."""
        while self.to_ship:
            yield self.to_ship.popleft()

    def confirms(self) -> Iterator[tuple[bytes, int]]:
        while self.to_confirm:
            yield self.to_confirm.popleft()


@dataclass(frozen=True)
class BenchNet:
    """A running cluster with its market set up, and what every load step needs to measure against it."""

    rpc: Rpc
    cluster: Cluster
    market: Market
    sig_bound: float
    workers: int
    echo: Echo


async def _phase(rpc: Rpc, urls: list[str], specs: list[Spec], echo: Echo, label: str, workers: int,
                 timeout_s: float = 300) -> dict[str, dict]:
    """Submit and commit ``specs`` in rounds of PHASE_CHUNK; hash -> tx_get result, in order."""
    out: dict[str, dict] = {}
    for start in range(0, len(specs), PHASE_CHUNK):
        raws = sign_specs(specs[start:start + PHASE_CHUNK], workers)
        await rpc.send_all(urls, raws, f"setup {label}")
        hashes = [digest("tx", raw).hex() for raw in raws]
        results = await rpc.wait_receipts(urls[0], hashes, timeout_s)
        failed = [r for r in results.values() if r["status"] != "committed"]
        if failed:
            raise BenchError(f"setup {label}: {len(failed)} txs failed, e.g. {failed[0]['receipt']['message']}")
        out.update((h, results[h]) for h in hashes)
    echo(f"  setup {label}: {len(specs)} txs committed")
    return out


def _event(result: dict, kind: str, attr: str) -> Any:
    for event in result["receipt"]["events"]:
        if event["kind"] == kind:
            return event["attrs"][attr]
    raise BenchError(f"no {kind} event in receipt")


async def setup_market(rpc: Rpc, cluster: Cluster, chain_id: str, workers: int, echo: Echo) -> Market:
    """Fund, register and give shops and one listing each to the bench's buyers and sellers."""
    urls = cluster.urls
    buyers, sellers = make_actors("bench-buyer", N_BUYERS), make_actors("bench-seller", N_SELLERS)
    funders = [Actor(k) for k in demo_keys(cluster.dir).values()]
    for funder in funders:
        funder.nonce = (await rpc.call(urls[0], "account_get", address=funder.key.address))["nonce"]
    actors = buyers + sellers
    fund = [funders[i % len(funders)].spec(chain_id, "transfer", {"amount": 10**10, "asset": "MKT", "to": a.pub})
            for i, a in enumerate(actors)]
    await _phase(rpc, urls, fund, echo, "funding", workers)
    specs = [a.spec(chain_id, "register", register_body(f"bench{i}")) for i, a in enumerate(actors)]
    shop_specs = [s.spec(chain_id, "shop_create", shop_body(f"shop {i}")) for i, s in enumerate(sellers)]
    results = await _phase(rpc, urls, specs + shop_specs, echo, "registration and shops", workers)
    shop_hashes = list(results)[len(specs):]
    shops = {s.pub: _event(results[h], "shop_created", "shop") for s, h in zip(sellers, shop_hashes)}
    results = await _phase(rpc, urls, [s.spec(chain_id, "listing_create", listing_body(shops[s.pub], i))
                                       for i, s in enumerate(sellers)], echo, "listings", workers)
    listings = {s.pub: _event(r, "listing_created", "listing") for s, r in zip(sellers, results.values())}
    return Market(chain_id, buyers, sellers, listings)


PROBE_ORDERS = 1_000  # orders placed first to measure how fast this network commits setup txs
HEADROOM = 2  # prepare for twice what the measured rate could commit in the window


def orders_needed(steady_count: int) -> int:
    """Orders per group (to ship, to confirm) that a steady load of ``steady_count`` txs consumes."""
    return int(steady_count * max(MIX["order_ship"], MIX["order_confirm"])) + 1


def sized_per_group(per_group: int, setup_tps: float, duration_s: float) -> int:
    """``per_group`` cut to what HEADROOM x ``setup_tps`` commits in ``duration_s``, never below the probe's half."""
    return max(PROBE_ORDERS // 2, min(per_group, orders_needed(int(HEADROOM * setup_tps * duration_s))))


async def prepare_orders(net: BenchNet, steady_count: int, duration_s: float | None = None) -> None:
    """Place, accept (and half of them ship) enough orders for ``steady_count`` txs of the steady mix.

    With ``duration_s``, no more than the network can use: a load offered at
    2-4x capacity commits only capacity x duration, and preparing for the
    offered count had made the untimed setup (place, accept, ship: 4.5 setup
    txs per prepared pair) take longer than the run itself (67,500 setup txs
    for a 30 s run at 3,000 tx/s; with a CPU hog beside the nodes it did not
    finish in 560 s). The first PROBE_ORDERS placements measure the commit
    rate; the rest is sized to HEADROOM x that rate x ``duration_s``. When the
    prepared orders run out, the mix sends transfers instead (workload.steady_specs).
    """
    rpc, market, workers, echo = net.rpc, net.market, net.workers, net.echo
    urls, chain_id = net.cluster.urls, market.chain_id
    per_group = orders_needed(steady_count)
    listing_ids = list(market.listings.values())
    buyers = market.buyers
    place = [buyers[i % len(buyers)].spec(chain_id, "order_place", order_body(listing_ids[i % len(listing_ids)]))
             for i in range(2 * per_group)]
    results: dict[str, dict] = {}
    if duration_s is not None and len(place) > PROBE_ORDERS:
        started = time.monotonic()
        results = await _phase(rpc, urls, place[:PROBE_ORDERS], echo, "orders (rate probe)", workers)
        rate = PROBE_ORDERS / max(time.monotonic() - started, 1e-3)
        per_group = sized_per_group(per_group, rate, duration_s)
        echo(f"  setup commits {rate:,.0f} tx/s here: preparing {per_group:,} orders per group")
        by_seed = {b.key.seed: b for b in buyers}
        for spec in place[2 * per_group:]:  # each buyer's last specs, never sent: give their nonces back
            by_seed[spec[0]].nonce -= 1
        place = place[:2 * per_group]
    results.update(await _phase(rpc, urls, place[len(results):], echo, "orders to ship and confirm", workers))
    await _accept_and_ship(net, place, results, per_group)


async def _accept_and_ship(net: BenchNet, place: list[Spec], results: dict[str, dict], per_group: int) -> None:
    rpc, market, workers, echo = net.rpc, net.market, net.workers, net.echo
    urls, chain_id = net.cluster.urls, market.chain_id
    seller_of = {listing: pub for pub, listing in market.listings.items()}
    orders = []
    for spec, result in zip(place, results.values()):
        orders.append((spec[0], _event(result, "order_placed", "order"), seller_of[spec[4]["listing"]]))
    by_seed = {a.key.seed: a for a in market.buyers}
    seller_by_pub = {s.pub: s for s in market.sellers}
    accept = [seller_by_pub[seller].spec(chain_id, "order_accept", {"order": oid}) for _, oid, seller in orders]
    await _phase(rpc, urls, accept, echo, "accepts", workers)
    group_ship, group_confirm = orders[:per_group], orders[per_group:]
    ship = [seller_by_pub[seller].spec(chain_id, "order_ship", {"order": oid}) for _, oid, seller in group_confirm]
    await _phase(rpc, urls, ship, echo, "ships", workers)
    market.to_ship.extend((seller, oid) for _, oid, seller in group_ship)
    market.to_confirm.extend((by_seed[seed].pub, oid) for seed, oid, _ in group_confirm)
