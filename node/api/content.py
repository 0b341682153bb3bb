"""content_put and content_info: upload a blob signed by its uploader's account key, ask what a node holds.

The bytes themselves are served by ``GET /content/<hex sha256>`` (node/content/http.py).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from marketnode.core.errors import RpcError
from marketnode.core.upload import UploadAuth
from marketnode.market.accounts import account_record
from marketnode.node.boundary import NodeApi
from marketnode.node.content.kinds import ContentRefused
from marketnode.node.content.store import ContentLimited
from marketnode.node.rpc.errors import INVALID_INPUT, LIMIT_EXCEEDED, invalid_params
from marketnode.node.rpc.registry import CallContext, Param, Registry, Result

# base64 of the largest blob the default limits accept (2 MiB image), with room: the RPC body cap bounds it first.
MAX_DATA_CHARS = 4 * ((4 * 1024 * 1024 + 2) // 3)


def refused(exc: ContentRefused) -> RpcError:
    return RpcError(INVALID_INPUT, f"content refused: {exc}", {"reason": exc.reason})


def limited(exc: ContentLimited) -> RpcError:
    data: dict[str, Any] = {"reason": exc.reason}
    if exc.retry_after_s is not None:
        data["retry_after_s"] = exc.retry_after_s
    return RpcError(LIMIT_EXCEEDED, f"limit exceeded: {exc}", data)


def _decode_data(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise invalid_params("'data' must be standard base64 (RFC 4648 §4, with padding)", "data") from None


def register(registry: Registry) -> None:
    @registry.method(
        "content_put",
        summary="Store an image (JPEG, PNG, WebP) or UTF-8 text on this node, authorised by the uploader's "
                "account signature; returns its sha256, the hash a tx references.",
        description="`signature` is the uploader's ed25519 signature over the upload authorisation "
                    "(docs/PROTOCOL.md §10: tag `content-upload`, {hash, time_ms, uploader}). The type is "
                    "sniffed from the bytes; `kind` only says what the uploader meant (`image` refused unless "
                    "the bytes are one). Refusals are -32000 with data.reason: `wrong_hash`, `bad_signature`, "
                    "`stale_time`, `not_registered`, `empty`, `too_large`, `not_image`, `bad_image`, "
                    "`too_many_pixels`, `not_text`. Quotas are -32005 with data.reason `rate` "
                    "(data.retry_after_s), `quota_blobs`, `quota_bytes`, `node_full`. An upload no committed tx "
                    "references within content.unreferenced_ttl_s is deleted; once referenced it is kept and "
                    "other nodes fetch it.",
        params=[Param("hash", "hash", "sha256 of the bytes: the hash the signature covers."),
                Param("data", "string", "The bytes, base64.", max_length=MAX_DATA_CHARS),
                Param("uploader", "address", "The uploading account (registered on chain)."),
                Param("time_ms", "integer", "The signed time, ms since the epoch (within content.auth_window_ms "
                      "of the node's clock).", minimum=0),
                Param("signature", "hex", "ed25519 signature over the upload authorisation.", max_length=64),
                Param("kind", "string", "What the uploader means the bytes to be (checked against them).",
                      required=False, enum=("image", "text"))],
        result=Result("blob", "{hash, content_type, size, pinned, expires_ms, url}.", {"type": "object"}),
        errors=(INVALID_INPUT, LIMIT_EXCEEDED),
        tags=("content",),
    )
    async def content_put(ctx: CallContext[NodeApi], hash: bytes, data: str, uploader: bytes, time_ms: int, signature: bytes,
                          kind: str | None = None) -> dict[str, Any]:
        node = ctx.node
        raw = _decode_data(data)
        store = node.content.store
        try:
            auth = UploadAuth(hash, uploader, time_ms, signature)
        except ValueError as exc:
            raise invalid_params(str(exc)) from None
        if account_record(node.store.state_reader(), uploader) is None:
            raise RpcError(INVALID_INPUT, "content refused: the uploader is not a registered account (quotas are "
                           "per account: register first)", {"reason": "not_registered"})
        was_wanted = store.is_wanted(hash)  # the chain named it before it arrived: peers are waiting for it
        try:
            info = store.put_upload(raw, auth, node.content.now_ms(), kind)  # the clock its expiry sweep reads
        except ContentLimited as exc:  # a ContentRefused too: caught first
            raise limited(exc) from None
        except ContentRefused as exc:
            raise refused(exc) from None
        if was_wanted:
            node.content.announce(info.hash)  # so the peers that want it ask this node now, not after their backoff
        return {**info.to_json(), "url": f"/content/{info.hash.hex()}"}

    @registry.method(
        "content_info",
        summary="Whether this node holds a blob, and if not whether it is fetching it from peers.",
        params=[Param("hash", "hash", "sha256 of the blob.")],
        result=Result("info", "{hash, held, content_type, size, pinned, expires_ms, wanted, refused}.",
                      {"type": "object"}),
        tags=("content",),
    )
    async def content_info(ctx: CallContext[NodeApi], hash: bytes) -> dict[str, Any]:
        store = ctx.node.content.store
        info = store.info(hash)
        out: dict[str, Any] = {"hash": hash.hex(), "held": info is not None, "wanted": store.is_wanted(hash),
                               "refused": store.refused(hash)}
        if info is not None:
            out.update(info.to_json())
        return out

