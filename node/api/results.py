"""The result schema of every RPC method, so OpenRPC (rpc_discover, docs/RPC.md) names every field.

Shapes several methods share (header, certificate, tx, receipt, proofs,
pages) are written once here; ``apply`` puts each method's schema on the
registry after all methods are declared, and refuses a method without one.
tests/api/test_result_schemas.py checks live answers against them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from marketnode.node.api.proofs import STATE_PROOF_SCHEMA
from marketnode.node.rpc.registry import Registry, Result


def _t(kind: str | list[str], description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind}
    if description:
        out["description"] = description
    return out


S, N, B = "string", "integer", "boolean"
HEX, ADDR = _t(S, "hex"), _t(S, "mn1 address")
NULL_S, NULL_I, NULL_ADDR = _t([S, "null"]), _t([N, "null"]), _t([S, "null"], "mn1 address or null")
ANY_MAP = _t("object", "map of canonical values (accounts and bytes as hex)")


def obj(properties: dict[str, Any], optional: tuple[str, ...] = (), description: str = "") -> dict[str, Any]:
    """An object whose ``properties`` are all present except those named in ``optional``."""
    out: dict[str, Any] = {"type": "object", "properties": properties,
                           "required": [k for k in properties if k not in optional]}
    if description:
        out["description"] = description
    return out


def array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


def page(item: dict[str, Any]) -> dict[str, Any]:
    return obj({"items": array(item), "next_cursor": _t([S, "null"], "pass as cursor for the next page")})


HEADER = obj({k: HEX for k in ("evidence_root", "last_cert_hash", "parent_hash", "proposer", "state_root", "tx_root")}
             | {"chain_id": _t(S), "height": _t(N), "timestamp_ms": _t(N), "tx_count": _t(N), "view": _t(N)},
             description="docs/PROTOCOL.md §8.1")
CERTIFICATE = obj({"block_hash": HEX, "chain_id": _t(S), "height": _t(N), "view": _t(N),
                   "signatures": array(array(_t(S, "[validator key hex, signature hex]")))},
                  description="docs/PROTOCOL.md §6.3")
TX = obj({"hash": HEX, "chain_id": _t(S), "sender": HEX, "nonce": _t(N), "kind": _t(S), "body": ANY_MAP,
          "fee": _t(N), "sig": HEX,
          "sigs": array(array(_t(S, "[public key hex, signature hex]; also a sig tx's own, docs/PROTOCOL.md §13"))),
          "raw": _t(S, "canonical signed bytes, hex: the exact form")})
EVENT = obj({"kind": _t(S), "attrs": ANY_MAP})
RECEIPT = obj({"code": _t(S), "events": array(EVENT), "fee_paid": _t(N), "message": _t(S), "ok": _t(B),
               "tx_hash": HEX})
LOCATED_RECEIPT = obj({**RECEIPT["properties"], "height": _t(N), "index": _t(N)})
MERKLE_PROOF = obj({"index": _t(N), "size": _t(N), "path": array(HEX)})
INCLUSION = obj({"tx_hash": HEX, "proof": MERKLE_PROOF, "header": HEADER, "certificate": CERTIFICATE})
RECEIPT_PROOF = obj({"receipt": _t(S, "canonical receipt bytes, hex"), "path": MERKLE_PROOF,
                     "state": STATE_PROOF_SCHEMA})
TX_STATUS = obj({
    "hash": HEX, "status": {"type": S, "enum": ["pending", "committed", "failed", "unknown"]},
    "height": _t(N), "index": _t(N), "tx": TX, "receipt": LOCATED_RECEIPT, "inclusion": INCLUSION,
    "receipt_proof": {"oneOf": [RECEIPT_PROOF, {"type": "null"}]},
    "durable": _t(B), "timed_out": _t(B),
}, optional=("height", "index", "tx", "receipt", "inclusion", "receipt_proof", "durable", "timed_out"))
RATING = obj({"count": _t(N), "avg_x100": obj({k: _t(N) for k in ("overall", "quality", "accuracy", "delivery",
                                                                  "service")})})
RATINGS = obj({k: _t(N) for k in ("accuracy", "delivery", "overall", "quality", "service")})
CERT = obj({"id": _t(N), "fingerprint": HEX, "issuer": ADDR, "issuer_accredited": _t(B), "owner": ADDR,
            "record": _t([S, "null"]), "metadata_hash": NULL_S, "issued_ms": _t(N), "revoked": _t(B),
            "revoke_reason": NULL_S, "valid": _t(B),
            "ownership_chain": array(obj({"from": NULL_ADDR, "to": ADDR, "time_ms": _t(N)})),
            "proof": STATE_PROOF_SCHEMA}, optional=("proof",))
REVIEW = obj({"order": _t(N), "listing": _t(N), "seller": ADDR, "reviewer": ADDR, "ratings": RATINGS,
              "text_hash": HEX, "reply_hash": NULL_S, "photo": _t(S, "the photo's sha256, hex (content store)"),
              "time_ms": _t(N), "weight": _t(N)}, optional=("weight", "photo"))
ORDER_FIELDS = {"id": _t(N), "listing": _t(N), "shop": _t(N), "buyer": ADDR, "seller": ADDR, "arbiter": NULL_ADDR,
                "status": _t(S), "quantity": _t(N), "asset": _t(S), "total": _t(N), "placed_ms": _t(N),
                "updated_ms": _t(N), "deadline_ms": NULL_I}
RETURN = obj({"shop": _t(N), "buyer": ADDR, "seller": ADDR, "arbiter": NULL_ADDR, "asset": _t(S),
              "status": _t(S), "refund": _t(N, "the goods' price: total less shipping"),
              "held": _t(N, "reserved from the deposit"), "paid": _t(N), "owed": _t(N), "reason_hash": HEX,
              "tracking_hash": NULL_S, "ruling_hash": NULL_S, "requested_ms": _t(N), "updated_ms": _t(N),
              "deadline_ms": _t(N, "0 in owed and terminal states"),
              "deadlines": obj({"current_ms": NULL_I, "actions": array(ANY_MAP), "claimable_by": NULL_S,
                                "on_claim": NULL_S})})
ORDER = obj({**ORDER_FIELDS, "type": _t(S), "arbiter_fee": _t(N), "shipped_ms": NULL_I, "buyer_amount": NULL_I,
             "address_seller": NULL_S, "address_arbiter": NULL_S, "tracking_hash": NULL_S, "delivery": NULL_S,
             "dispute_by": _t([S, "null"], "who may still dispute"), "reason_hash": NULL_S, "ruling_hash": NULL_S,
             "evidence_hash": NULL_S, "response_hash": NULL_S, "response_evidence_hash": NULL_S,
             "timeline": array(obj({"status": _t(S), "height": _t(N), "time_ms": _t(N), "deadline_ms": NULL_I,
                                    "by": ADDR, "tx": HEX})),
             "deadlines": obj({"current_ms": NULL_I, "actions": array(ANY_MAP), "claimable_by": NULL_S,
                               "on_claim": NULL_S, "windows_ms": obj({k: _t(N) for k in
                                                                      ("accept", "ship", "confirm", "ruling")})}),
             "review": {"oneOf": [REVIEW, {"type": "null"}]}, "proof": STATE_PROOF_SCHEMA,
             "variant": _t(S, "sku"), "unit_price": _t(N),
             "items": array(obj({"listing": _t(N), "quantity": _t(N), "variant": NULL_S, "unit_price": _t(N)})),
             "coupon": obj({"code": _t(S), "discount": _t(N)}),
             "return": {"oneOf": [RETURN, {"type": "null"}]},
             "refund_offer": obj({"by": ADDR, "buyer_amount": _t(N), "status": _t(S, "the state it was made in"),
                                  "time_ms": _t(N)}),
             "shipping": obj({"service": _t(S), "price": _t(N), "region": _t(S), "min_days": _t(N),
                              "max_days": _t(N)}),
             "return_window_ms": _t(N), "return_until_ms": _t(N)},
            optional=("proof", "variant", "unit_price", "items", "shipping", "refund_offer", "coupon", "return_window_ms",
                      "return_until_ms", "shipped_ms", "buyer_amount", "address_arbiter", "delivery", "dispute_by",
                      "reason_hash", "ruling_hash", "tracking_hash", "address_seller", "evidence_hash",
                      "response_hash", "response_evidence_hash"))
LISTING_SUMMARY = obj({"id": _t(N), "shop": _t(N), "seller": ADDR, "type": _t(S), "category": _t(S),
                       "title": _t(S), "tags": array(_t(S)), "asset": _t(S), "price": _t(N), "stock": _t(N),
                       "active": _t(B), "created_ms": _t(N), "sales": _t(N),
                       "rating": obj({"count": _t(N), "overall_avg_x100": NULL_I}), "reason": _t(S),
                       "cover": _t([S, "null"], "the first image's sha256, hex, or null")},
                      optional=("sales", "rating", "reason", "cover"))
RECORD_SUMMARY = obj({"id": _t(S), "type": _t(S), "owner": ADDR, "custodian": ADDR, "producer": ADDR,
                      "final": _t(B), "history_len": _t(N)})
SHIPPING_OPTION = obj({"service": _t(S), "regions": array(_t(S)), "price": _t(N), "min_days": _t(N),
                       "max_days": _t(N)})
LISTING = obj({**LISTING_SUMMARY["properties"], "rating": RATING, "description": _t(S), "images": array(_t(S)),
               "regions": array(_t(S)), "record": NULL_S, "certificate": NULL_I,
               "seller_profile": obj({"address": ADDR, "name": NULL_S, "rating": RATING}),
               "shop_info": obj({"id": _t(N), "name": _t(S), "region": _t(S), "open": _t(B),
                                 "arbiters": array(ADDR)}),
               "available": _t(B), "return_window_ms": _t(N, "0: no returns"), "options": array(obj({"name": _t(S), "values": array(_t(S))})),
               "variants": array(obj({"sku": _t(S), "choice": array(_t(S)),
                                      "price_delta": _t(N, "signed, |x| < 2^53"), "stock": _t(N)})),
               "shipping": array(SHIPPING_OPTION),
               "provenance": obj({"record": {"oneOf": [RECORD_SUMMARY, {"type": "null"}]},
                                  "certificate": {"oneOf": [CERT, {"type": "null"}]}}),
               "proof": STATE_PROOF_SCHEMA}, optional=("proof", "reason", "cover"))
SHOP_SUMMARY = {"id": _t(N), "owner": ADDR, "name": _t(S), "region": _t(S), "open": _t(B), "created_ms": _t(N)}
SHOP = obj({**SHOP_SUMMARY, "description": _t(S), "accepted_assets": array(_t(S)), "arbiters": array(ADDR),
            "listing_count": _t(N),
            "aftersales": {"type": "object", "description": "accepted asset → {free, owed}",
                           "additionalProperties": obj({"free": _t(N), "owed": _t(N)})}})
ARBITER = obj({"address": ADDR, "active": _t(B), "fee_fixed": _t(N), "fee_bps": _t(N), "description": _t(S),
               "since_ms": _t(N)})
KYC = obj({"level": _t(N), "attested_level": _t(N), "expires_ms": NULL_I, "attester": NULL_ADDR, "expired": _t(B),
           "set_ms": _t(N)}, optional=("attested_level", "expires_ms", "attester", "expired", "set_ms"))
ACCOUNT = obj({
    "address": ADDR, "public_key": HEX, "nonce": _t(N, "next nonce"),
    "balances": {"type": "object", "description": "asset id → amount in the smallest unit",
                 "additionalProperties": _t(N)},
    "registered": _t(B),
    "profile": {"oneOf": [obj({"name": _t(S), "commitment": HEX, "inviter": NULL_ADDR, "registered_ms": _t(N)}),
                          {"type": "null"}]},
    "roles": array(_t(S)), "kyc": KYC, "arbiter": {"oneOf": [ARBITER, {"type": "null"}]},
    "seller_rating": RATING, "proof": STATE_PROOF_SCHEMA,
}, optional=("proof",))
RECORD = obj({"id": _t(S), "type": _t(S), "attributes": ANY_MAP, "producer": ADDR, "owner": ADDR,
              "custodian": ADDR, "reporters": array(ADDR), "final": _t(B), "created_ms": _t(N),
              "history_len": _t(N),
              "proposals": array(obj({"receiver": ADDR, "role": _t(S), "issuer": ADDR, "terms": _t(["object", "null"]),
                                      "time_ms": _t(N)})),
              "certificates": array(_t(N))})
BLOCK = obj({"height": _t(N), "hash": HEX, "header": HEADER,
             "certificate": {"oneOf": [CERTIFICATE, {"type": "null"}],
                             "description": "the block's commit certificate: the one block height+1 commits to "
                                            "once that exists (identical on every node), else this node's"},
             "last_cert": {"oneOf": [CERTIFICATE, {"type": "null"}],
                           "description": "the parent's certificate this block carries (PROTOCOL §8.2)"},
             "tx_count": _t(N), "evidence": array(ANY_MAP), "txs": array(TX), "receipts": array(RECEIPT),
             "tx_hashes": array(HEX)}, optional=("txs", "receipts", "tx_hashes"))
VALIDATOR = obj({"name": _t(S), "public_key": HEX, "address": ADDR, "p2p_address": _t(S)})
EVIDENCE = obj({"hash": HEX, "validator": HEX, "height": _t(N), "view": _t(N), "phase": _t(S),
                "evidence": obj({"first": ANY_MAP, "second": ANY_MAP})})
INTAKE = obj({"busy": _t(B), "capacity": _t(N), "commit_tps": _t(N), "measured": _t(B), "max_pending_ms": _t(N),
              "durable": _t(B)})
NODE_STATUS = obj({"chain_id": _t(S), "node_id": HEX, "moniker": _t(S), "height": _t(N), "head_hash": HEX,
                   "state_root": HEX, "head_time_ms": _t(N), "view": _t(N), "primary": HEX,
                   "is_validator": _t(B), "peers": _t(N), "syncing": _t(B), "sync_target": _t(N),
                   "mempool_size": _t(N), "uptime_s": _t(N), "intake": INTAKE,
                   "content": obj({k: _t(N) for k in ("wanted", "fetched", "wrong_bytes_from_peers",
                                                      "unreferenced_bytes", "scanned_height")})})
NODE_HEALTH = obj({"ok": _t(B), "reasons": array(_t(S)), "height": _t(N),
                   "query_index": obj({"ok": _t(B), "height": _t(N), "reason": NULL_S, "retry_at": NULL_I})})
PEER = obj({"pubkey": HEX, "address_mn": ADDR, "address": NULL_S, "direction": _t(S, "in or out"),
            "connected_since_ms": _t(N), "score": _t(N), "msgs_in": _t(N), "msgs_out": _t(N), "bytes_in": _t(N),
            "bytes_out": _t(N), "dropped_out": _t(N), "dropped_in": _t(N), "reserved": _t(B), "ip": NULL_S})
ESTIMATE = obj({"ok": _t(B), "code": _t(S), "message": _t(S), "fee": _t(N), "events": array(EVENT)},
               optional=("fee", "events"))
SEND = obj({**TX_STATUS["properties"], "waiting_for_nonce": _t(N)},
           optional=(*(k for k in TX_STATUS["properties"] if k not in ("hash", "status")), "waiting_for_nonce"))
BATCH_ENTRY = {"oneOf": [obj({"hash": HEX, "status": _t(S), "durable": _t(B)}, optional=("durable",)),
                         obj({"error": obj({"code": _t(N), "message": _t(S), "data": ANY_MAP}, optional=("data",))})]}
FAUCET = obj({**SEND["properties"], "from": ADDR, "to": ADDR, "asset": _t(S), "amount": _t(N)},
             optional=tuple(k for k in SEND["properties"] if k not in ("hash", "status")))
GENESIS = obj({"hash": HEX, "genesis": obj({
    "chain_id": _t(S), "genesis_time_ms": _t(N),
    "validators": array(obj({"name": _t(S), "public_key": HEX, "p2p_address": _t(S)})),
    "accounts": array(obj({"address": ADDR, "balances": ANY_MAP})),
    "assets": array(obj({"asset": _t(S), "name": _t(S), "decimals": _t(N), "issuer": NULL_ADDR,
                         "max_supply": NULL_I})),
    "roles": ANY_MAP, "reward_pool": ANY_MAP, "params": ANY_MAP}, description="docs/GENESIS.md")})
ASSET = obj({"asset": _t(S), "name": _t(S), "decimals": _t(N), "issuer": NULL_ADDR, "supply": _t(N),
             "max_supply": NULL_I})
HISTORY = page(obj({"seq": _t(N), "event": _t(S, "created, reported, owner, custodian, reporter, finalized"),
                    "by": ADDR, "time_ms": _t(N), "type": _t(S, "created"), "property": _t(S, "reported"),
                    "value": _t(S, "reported"), "account": _t(S, "owner, custodian, reporter: mn1 address")},
                   optional=("type", "property", "value", "account")))
OPENRPC = obj({"openrpc": _t(S), "info": ANY_MAP, "methods": array(ANY_MAP), "components": ANY_MAP,
               "servers": array(ANY_MAP)}, optional=("servers",))

BLOB = obj({"hash": HEX, "content_type": _t(S), "size": _t(N), "pinned": _t(B, "a committed tx references it"),
            "expires_ms": NULL_I})
MESSAGE = obj({"id": HEX, "seq": _t(N), "sender": ADDR, "to": array(ADDR),
               "about": obj({"kind": _t(S, "listing or order"), "id": _t(N)}), "sent_ms": _t(N),
               "received_ms": _t(N), "size": _t(N), "direction": _t([S, "null"], "in or out; null without a reader"),
               "read": _t([B, "null"]), "envelope": _t(S, "the signed envelope's canonical bytes, hex")})
MESSAGE_LIMITS = obj({"max_envelope_bytes": _t(N), "max_messages_per_mailbox": _t(N), "sender_per_minute": _t(N),
                      "retention_s": _t(N)})

AUTHORITY = obj({"address": ADDR, "default": _t(B, "no key set was ever set: the address key alone"),
                 "keys": array(obj({"public_key": HEX, "address": ADDR})), "threshold": _t(N),
                 "kinds": _t([array(_t(S))["type"], "null"]), "above": NULL_I, "version": _t(N),
                 "guardians": _t(["object", "null"], "{guardians, threshold, delay_ms}"),
                 "recovery": _t(["object", "null"], "{id, state, new_key, approvals, started_ms, approve_by_ms, "
                                "ready_ms}")})

SCHEMAS: dict[str, dict[str, Any]] = {
    "account_get": ACCOUNT, "account_getAuthority": AUTHORITY, "asset_list": page(ASSET), "arbiter_list": page(ARBITER),
    "admin_addPeer": obj({"dialing": _t(S)}), "admin_banPeer": obj({"banned": HEX}),
    "admin_setLogLevel": obj({"level": _t(S)}),
    "cert_get": CERT, "cert_verify": obj({"valid": _t(B), "fingerprint": HEX, "certificates": array(CERT)}),
    "chain_getBlock": BLOCK, "chain_getEvidence": array(EVIDENCE), "chain_getGenesis": GENESIS,
    "chain_getValidators": array(VALIDATOR), "dev_faucet": FAUCET,
    "listing_get": LISTING, "listing_recommend": page(LISTING_SUMMARY), "listing_search": page(LISTING_SUMMARY),
    "node_health": NODE_HEALTH, "node_peers": array(PEER), "node_status": NODE_STATUS,
    "order_get": ORDER, "order_list": page(obj(ORDER_FIELDS)), "record_get": RECORD, "record_history": HISTORY,
    "review_list": page(REVIEW), "rpc_authenticate": _t(B), "rpc_discover": OPENRPC,
    "shop_get": SHOP, "shop_list": page(obj(SHOP_SUMMARY)), "state_getProof": STATE_PROOF_SCHEMA,
    "subscribe": _t(S, "subscription id"), "unsubscribe": _t(B),
    "message_send": obj({"id": HEX, "seq": _t(N), "new": _t(B, "false: this node already held it")}),
    "message_inbox": obj({"items": array(MESSAGE), "next_after": NULL_I, "last_seq": _t(N), "unread": _t(N)}),
    "message_get": MESSAGE,
    "message_stats": obj({"envelopes": _t(N), "accounts": _t(N), "last_seq": _t(N), "limits": MESSAGE_LIMITS,
                          "refused": {"type": "object", "description": "refusal reason → count",
                                      "additionalProperties": _t(N)}}),
    "content_put": obj({**BLOB["properties"], "url": _t(S, "/content/<hash>")}),
    "content_info": obj({**BLOB["properties"], "held": _t(B), "wanted": _t(B, "this node is fetching it from peers"),
                         "refused": _t([S, "null"], "why peers' bytes for it were refused, or null")},
                        optional=("content_type", "size", "pinned", "expires_ms")),
    "message_markRead": obj({"marked": _t(N, "ids newly marked read"), "unread": _t(N)}),
    "coupon_get": obj({"shop": _t(N), "coupon": _t(S), "percent_bps": NULL_I, "amount": NULL_I, "asset": NULL_S,
                       "max_uses": _t(N), "used": _t(N), "expires_ms": _t(N), "revoked": _t(B), "issued_ms": _t(N),
                       "valid": _t(B, "usable by an order placed now")}),
    "tx_estimate": ESTIMATE, "tx_get": TX_STATUS, "tx_send": SEND, "tx_sendBatch": array(BATCH_ENTRY),
}


def apply(registry: Registry) -> None:
    """Give each declared method its schema; a method missing here is a startup error, not a silent gap."""
    for method in list(registry):
        schema = SCHEMAS.get(method.name)
        if schema is None:
            raise ValueError(f"no result schema for RPC method {method.name} (node/api/results.py)")
        registry.replace(replace(method, result=Result(method.result.name, method.result.description, schema)))
