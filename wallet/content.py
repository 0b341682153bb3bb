"""Put a blob on a node (content_put) and read one back checked against its hash.

The upload is signed by the account key (core/upload.py), so the node charges
it to that account's quota; what comes back from ``GET /content/<hash>`` is
checked against the hash before it is trusted.
"""

from __future__ import annotations

import base64
import time
import urllib.error
import urllib.request
from typing import Any, Protocol

from marketnode.core.errors import MarketnodeError
from marketnode.core.keys import PrivateKey, address_from_pubkey
from marketnode.core.upload import authorise_upload, content_hash
from marketnode.wallet.client import result_object


class Caller(Protocol):
    url: str

    def call(self, method: str, /, **params: Any) -> Any: ...


class ContentMismatch(MarketnodeError):
    """A node served bytes that are not the ones the chain's hash names."""


def put_content(client: Caller, key: PrivateKey, chain_id: str, data: bytes, kind: str | None = None) -> dict[str, Any]:
    """Upload ``data``; the node's answer {hash, content_type, size, pinned, expires_ms, url}."""
    auth = authorise_upload(key, chain_id, data, time.time_ns() // 1_000_000)
    params: dict[str, Any] = {"hash": auth.hash.hex(), "data": base64.b64encode(data).decode(),
                              "uploader": address_from_pubkey(key.public_key), "time_ms": auth.time_ms,
                              "signature": auth.sig.hex()}
    if kind is not None:
        params["kind"] = kind
    return result_object(client.call("content_put", **params), "content_put")


def content_url(rpc_url: str, blob_hash: bytes) -> str:
    base = rpc_url.rstrip("/")
    if base.endswith("/rpc"):
        base = base[: -len("/rpc")]
    return f"{base}/content/{blob_hash.hex()}"


def get_content(rpc_url: str, blob_hash: bytes, timeout_s: float = 10.0) -> bytes | None:
    """The blob's bytes from the node, checked; None when the node does not hold it."""
    try:
        with urllib.request.urlopen(content_url(rpc_url, blob_hash), timeout=timeout_s) as response:
            data: bytes = response.read()
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise
    if content_hash(data) != blob_hash:
        raise ContentMismatch(f"the node served bytes hashing to {content_hash(data).hex()[:16]}…, "
                              f"not {blob_hash.hex()[:16]}…")
    return data


_JPEG_DROP = {0xE1, 0xED, 0xFE}  # APP1 (Exif, XMP: camera, time, GPS position), APP13 (IPTC), COM (comments)
_PNG_DROP = {b"eXIf", b"tEXt", b"zTXt", b"iTXt", b"tIME"}


def strip_metadata(data: bytes) -> bytes:
    """The image without its metadata (EXIF with the GPS position a phone writes, XMP, comments), pixels untouched.

    Photos of what arrived are taken at home: the wallet drops these segments
    (JPEG) or chunks (PNG) before the upload, without re-encoding. Anything
    it does not understand, it returns unchanged.
    """
    if data[:2] == b"\xff\xd8":
        return _strip_jpeg(data)
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return _strip_png(data)
    return data


def _strip_jpeg(data: bytes) -> bytes:
    out, i = [data[:2]], 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the compressed image follows, to the end
            break
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if length < 2 or i + 2 + length > len(data):
            return data
        if marker not in _JPEG_DROP:
            out.append(data[i:i + 2 + length])
        i += 2 + length
    return b"".join(out) + data[i:]


def _strip_png(data: bytes) -> bytes:
    out, i = [data[:8]], 8
    while i + 12 <= len(data):
        length = int.from_bytes(data[i:i + 4], "big")
        kind = data[i + 4:i + 8]
        end = i + 12 + length
        if end > len(data):
            return data
        if kind not in _PNG_DROP:
            out.append(data[i:end])
        i = end
        if kind == b"IEND":
            break
    return b"".join(out) + data[i:]
