"""shop_*, listing_*, order_* and review_list: the marketplace as a buyer browses it.

Single objects come from market state (the source of truth); lists, search,
recommendations and order timelines come from the query index
(node/queries), which is updated in the same event-loop step as each commit.
"""

from __future__ import annotations

from typing import Any

from marketnode.core.jsonable import to_json
from marketnode.market import keys, store
from marketnode.market.engine import load_params
from marketnode.market.orders import OPEN, TERMINAL
from marketnode.market.schema import LISTING_TYPES
from marketnode.node.api.accounts import PAGE_RESULT, cursor_param, limit_param
from marketnode.node.api.aftersales import aftersales_json, return_json
from marketnode.node.api.proofs import PROOF_PARAM, state_proof
from marketnode.node.api.views import (
    addr,
    certificate_json,
    deadlines_json,
    listing_summary_json,
    order_json,
    order_summary_json,
    page_json,
    query_conn,
    rating_json,
    shop_json,
)
from marketnode.node.boundary import NodeApi
from marketnode.node.queries import search
from marketnode.node.rpc.errors import INDEX_UNAVAILABLE, RESOURCE_NOT_FOUND, invalid_params, not_found
from marketnode.node.rpc.registry import CallContext, Param, Registry, Result

ORDER_STATUSES = OPEN + TERMINAL


def _page(page: search.Page, view: Any) -> dict[str, Any]:
    return page_json([view(item) for item in page.items], page.next_cursor)


def _paged(call: Any) -> search.Page:
    try:
        return call()
    except search.BadCursor as exc:
        raise invalid_params(str(exc), "cursor") from None


def _one_of(method: str, **given: Any) -> None:
    present = [name for name, value in given.items() if value is not None]
    if len(present) != 1:
        raise invalid_params(f"{method} takes exactly one of {', '.join(given)}", (present or list(given))[0])


def listing_json(ctx: CallContext[NodeApi], listing_id: int) -> dict[str, Any]:
    reader = ctx.node.store.state_reader()
    listing = store.load(reader, keys.listing(listing_id))
    if listing is None:
        raise not_found(f"listing {listing_id}")
    out = to_json(listing)
    out["id"] = listing_id
    out["seller"] = addr(listing["seller"])
    out["stock"] = store.load_int(reader, keys.stock(listing_id))
    out["options"], out["shipping"] = out.get("options") or [], out.get("shipping") or []
    out["return_window_ms"] = out.get("return_window_ms") or 0
    out["variants"] = [{**v, "stock": store.load_int(reader, keys.variant_stock(listing_id, v["sku"]))}
                       for v in out.get("variants") or []]
    out["rating"] = rating_json(store.load(reader, keys.listing_rating(listing_id)))
    out["sales"] = search.listing_sales(query_conn(ctx.node), listing_id)
    seller_record = store.load(reader, keys.account(listing["seller"]))
    out["seller_profile"] = {
        "address": addr(listing["seller"]), "name": seller_record["name"] if seller_record else None,
        "rating": rating_json(store.load(reader, keys.seller_rating(listing["seller"]))),
    }
    shop = store.load(reader, keys.shop(listing["shop"]))
    out["shop_info"] = None if shop is None else {
        "id": listing["shop"], "name": shop["name"], "region": shop["region"], "open": shop["open"],
        "arbiters": [addr(a) for a in shop["arbiters"]]}
    out["available"] = bool(listing["active"] and shop and shop["open"] and out["stock"] > 0)
    out["provenance"] = _provenance_links(reader, listing)
    return out


def _provenance_links(reader: Any, listing: dict[str, Any]) -> dict[str, Any]:
    record_id, cert_id = listing["record"], listing["certificate"]
    record = None if record_id is None else store.load(reader, keys.record(record_id))
    cert = None if cert_id is None else store.load(reader, keys.certificate(cert_id))
    return {
        "record": None if record is None else {
            "id": record_id, "type": record["type"], "owner": addr(record["owner"]),
            "custodian": addr(record["custodian"]), "producer": addr(record["producer"]), "final": record["final"],
            "history_len": record["history_len"]},
        "certificate": None if cert is None else certificate_json(reader, cert_id, cert),
    }


def register(registry: Registry) -> None:
    _register_shops(registry)
    _register_listings(registry)
    _register_orders(registry)


def _register_shops(registry: Registry) -> None:
    @registry.method(
        "shop_get",
        summary="One shop: owner, terms (accepted assets and arbiters), region, open, its active listing count, "
                "and its after-sales deposit (free, owed to buyers) per accepted asset.",
        params=[Param("shop", "integer", "Shop id.", minimum=1)],
        result=Result("shop", "The shop.", {"type": "object"}),
        errors=(RESOURCE_NOT_FOUND, INDEX_UNAVAILABLE),
        tags=("market",),
    )
    async def shop_get(ctx: CallContext[NodeApi], shop: int) -> dict[str, Any]:
        record = store.load(ctx.node.store.state_reader(), keys.shop(shop))
        if record is None:
            raise not_found(f"shop {shop}")
        out = shop_json(shop, record)
        out["listing_count"] = search.shop_listing_count(query_conn(ctx.node), shop)
        out["aftersales"] = aftersales_json(ctx.node.store.state_reader(), shop, record["accepted_assets"])
        return out

    @registry.method(
        "shop_list",
        summary="Shops, newest first, optionally by owner and/or region.",
        params=[Param("owner", "address", "Only this owner's shops.", required=False),
                Param("region", "string", "Only shops in this region (e.g. DE, US-CA).", required=False,
                      max_length=16),
                Param("include_closed", "boolean", "Also closed shops.", required=False, default=False),
                limit_param(), cursor_param()],
        result=Result("page", "{items: [{id, owner, name, region, open, created_ms}], next_cursor}", PAGE_RESULT),
        errors=(INDEX_UNAVAILABLE,),
        tags=("market",),
    )
    async def shop_list(ctx: CallContext[NodeApi], include_closed: bool, limit: int, owner: bytes | None = None,
                        region: str | None = None, cursor: str | None = None) -> dict[str, Any]:
        page = _paged(lambda: search.list_shops(query_conn(ctx.node), owner=owner, region=region,
                                                include_closed=include_closed, limit=limit, cursor=cursor))

        def view(row: dict[str, Any]) -> dict[str, Any]:
            return {**row, "owner": addr(row["owner"]), "open": bool(row["open"])}

        return _page(page, view)


def _register_listings(registry: Registry) -> None:
    @registry.method(
        "listing_get",
        summary="One listing with its stock, variants (each with its stock), shipping options, rating, sales, "
                "seller (name, rating), shop, and provenance links.",
        description="`provenance.record` summarises the linked provenance record; `provenance.certificate` is "
                    "the linked certificate as cert_verify sees it. `available`: active, shop open, in stock.",
        params=[Param("listing", "integer", "Listing id.", minimum=1), PROOF_PARAM],
        result=Result("listing", "The listing.", {"type": "object"}),
        errors=(RESOURCE_NOT_FOUND, INDEX_UNAVAILABLE),
        tags=("market",),
    )
    async def listing_get(ctx: CallContext[NodeApi], listing: int, proof: bool) -> dict[str, Any]:
        out = listing_json(ctx, listing)
        if proof:
            out["proof"] = state_proof(ctx.node, [keys.listing(listing), keys.stock(listing)]).to_json()
        return out

    @registry.method(
        "listing_search",
        summary="Search active listings: free text over title, description and tags, filters, sorts, pages.",
        description="Every word of `q` must appear in the title, description or tags; the last word also "
                    "matches as a prefix, for type-ahead (`brass lam` finds \"Vintage brass lamp\"), and each word "
                    "also in its simple singular or plural form (`cups` finds \"cup\", `berry` finds \"berries\"). "
                    "Sorts: newest, price_asc, price_desc, rating (value-weighted average overall rating), relevance "
                    "(bm25, a title word counting most, then a tag, then the description; default "
                    "when `q` is given; ranks the 2,000 newest matches, pages up to 1,000 deep). Only active "
                    "listings of open shops. `sales` counts units ordered. Served from the query index.",
        params=[
            Param("q", "string", "Free text.", required=False, max_length=200),
            Param("category", "string", "Category label.", required=False, max_length=32),
            Param("shop", "integer", "Shop id.", required=False, minimum=1),
            Param("seller", "address", "Seller.", required=False),
            Param("type", "string", "Listing type.", required=False, enum=LISTING_TYPES),
            Param("min_price", "integer", "Lowest unit price (smallest unit).", required=False, minimum=0),
            Param("max_price", "integer", "Highest unit price (smallest unit).", required=False, minimum=0),
            Param("asset", "string", "Price asset.", required=False, max_length=12),
            Param("in_stock", "boolean", "Only listings with stock left.", required=False, default=False),
            Param("sort", "string", "Order of results.", required=False, enum=search.SORTS),
            limit_param(), cursor_param(),
        ],
        result=Result("page", "{items: [{id, shop, seller, type, category, title, tags, asset, price, stock, active, "
                      "created_ms, sales, rating: {count, overall_avg_x100}, cover: first image's sha256 or null}], "
                      "next_cursor}", PAGE_RESULT),
        errors=(INDEX_UNAVAILABLE,),
        tags=("market",),
    )
    async def listing_search(ctx: CallContext[NodeApi], in_stock: bool, limit: int, q: str | None = None,
                             category: str | None = None, shop: int | None = None, seller: bytes | None = None,
                             type: str | None = None, min_price: int | None = None, max_price: int | None = None,
                             asset: str | None = None, sort: str | None = None,
                             cursor: str | None = None) -> dict[str, Any]:
        if min_price is not None and max_price is not None and min_price > max_price:
            raise invalid_params("min_price is above max_price", "min_price")
        page = _paged(lambda: search.search_listings(
            query_conn(ctx.node), text=q, category=category, shop=shop, seller=seller, type=type, min_price=min_price,
            max_price=max_price, asset=asset, in_stock=in_stock, sort=sort, limit=limit, cursor=cursor))
        reader = ctx.node.store.state_reader()
        return _page(page, lambda row: _with_cover(reader, listing_summary_json(row)))

    @registry.method(
        "listing_recommend",
        summary="Listings for an account: what buyers of its items also bought, then what sells in its categories.",
        description="Each item carries `reason`: also_bought, popular_in_category or popular (fallback for an "
                    "account with no purchases). Listings it bought or sells itself are left out.",
        params=[Param("address", "address", "The account to recommend for."),
                Param("limit", "integer", "How many (default 10).", required=False, default=10, minimum=1,
                      maximum=50)],
        result=Result("page", "{items: [listing summary + reason], next_cursor: null}", PAGE_RESULT),
        errors=(INDEX_UNAVAILABLE,),
        tags=("market",),
    )
    async def listing_recommend(ctx: CallContext[NodeApi], address: bytes, limit: int) -> dict[str, Any]:
        rows = search.recommend(query_conn(ctx.node), address, limit)
        reader = ctx.node.store.state_reader()
        return page_json([_with_cover(reader, listing_summary_json(r)) for r in rows], None)


def _register_orders(registry: Registry) -> None:
    @registry.method(
        "order_get",
        summary="One order with its escrow timeline (every status change with height, time and tx) and deadlines.",
        description="`deadlines.current_ms` is when the current state's window closes; `deadlines.actions` "
                    "lists who may do what (and whether only before it); at or after it `claimable_by` may "
                    "order_claim, which leads to `on_claim`. `return` is the after-sales return of a completed "
                    "order (null if none), with its own `deadlines` in the same form.",
        params=[Param("order", "integer", "Order id.", minimum=1), PROOF_PARAM],
        result=Result("order", "The order with `timeline` and `deadlines`.", {"type": "object"}),
        errors=(RESOURCE_NOT_FOUND, INDEX_UNAVAILABLE),
        tags=("market",),
    )
    async def order_get(ctx: CallContext[NodeApi], order: int, proof: bool) -> dict[str, Any]:
        reader = ctx.node.store.state_reader()
        record = store.load(reader, keys.order(order))
        if record is None:
            raise not_found(f"order {order}")
        out = order_json(order, record)
        out["timeline"] = [
            {"status": e["status"], "height": e["height"], "time_ms": e["time_ms"], "deadline_ms": e["deadline_ms"],
             "by": addr(e["actor"]), "tx": e["tx_hash"].hex()}
            for e in search.order_timeline(query_conn(ctx.node), order)
        ]
        out["deadlines"] = deadlines_json(record, load_params(reader))
        out["review"] = _review_json(reader, order)
        out["return"] = return_json(reader, order)
        if proof:
            out["proof"] = state_proof(ctx.node, [keys.order(order)]).to_json()
        return out

    @registry.method(
        "order_list",
        summary="A buyer's or a seller's orders, newest first, optionally with one status.",
        params=[Param("buyer", "address", "Orders placed by this account.", required=False),
                Param("seller", "address", "Orders received by this seller.", required=False),
                Param("status", "string", "Only orders in this status.", required=False, enum=ORDER_STATUSES),
                limit_param(), cursor_param()],
        result=Result("page", "{items: [{id, listing, shop, buyer, seller, arbiter, status, quantity, asset, total, "
                      "placed_ms, updated_ms, deadline_ms}], next_cursor}", PAGE_RESULT),
        errors=(INDEX_UNAVAILABLE,),
        tags=("market",),
    )
    async def order_list(ctx: CallContext[NodeApi], limit: int, buyer: bytes | None = None, seller: bytes | None = None,
                         status: str | None = None, cursor: str | None = None) -> dict[str, Any]:
        _one_of("order_list", buyer=buyer, seller=seller)
        page = _paged(lambda: search.list_orders(query_conn(ctx.node), buyer=buyer, seller=seller, status=status,
                                                 limit=limit, cursor=cursor))
        return _page(page, order_summary_json)

    @registry.method(
        "review_list",
        summary="Reviews of one listing or of one seller, newest first, with ratings and hashes of the texts.",
        params=[Param("listing", "integer", "Reviews of this listing.", required=False, minimum=1),
                Param("seller", "address", "Reviews of this seller's orders.", required=False),
                limit_param(), cursor_param()],
        result=Result("page", "{items: [{order, listing, seller, reviewer, ratings, text_hash, reply_hash, photo?, time_ms}], "
                      "next_cursor}", PAGE_RESULT),
        errors=(INDEX_UNAVAILABLE,),
        tags=("market",),
    )
    async def review_list(ctx: CallContext[NodeApi], limit: int, listing: int | None = None, seller: bytes | None = None,
                          cursor: str | None = None) -> dict[str, Any]:
        _one_of("review_list", listing=listing, seller=seller)
        page = _paged(lambda: search.list_reviews(query_conn(ctx.node), listing=listing, seller=seller, limit=limit,
                                                  cursor=cursor))
        reader = ctx.node.store.state_reader()
        return _page(page, lambda row: _review_json(reader, row["order_id"]))


def _with_cover(reader: Any, item: dict[str, Any]) -> dict[str, Any]:
    """A search card's ``cover``: the listing's first image hash (from state, the index keeps no images), or None."""
    listing = store.load(reader, keys.listing(item["id"]))
    images = listing["images"] if listing else []
    return {**item, "cover": images[0].hex() if images else None}


def _review_json(reader: Any, order_id: int) -> dict[str, Any] | None:
    review = store.load(reader, keys.review(order_id))
    if review is None:
        return None
    out = to_json(review)
    out["order"] = order_id
    out["reviewer"] = addr(review["reviewer"])
    out["seller"] = addr(review["seller"])
    return out
