"""Sample blobs for the content tests: real small images, padded ones at a size limit, and crafted bombs."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

from marketnode.core.keys import PrivateKey
from marketnode.core.upload import UploadAuth, authorise_upload
from marketnode.node.content.kinds import KindLimits
from marketnode.node.content.store import ContentLimits

CHAIN_ID = "marketnode-contenttest"
DEFAULT_KINDS = KindLimits(2 * 1024 * 1024, 16 * 1024, 25_000_000)


def limits(**changes: int) -> ContentLimits:
    values = dict(auth_window_ms=300_000, unreferenced_ttl_ms=3_600_000, account_pending_bytes=8 * 1024 * 1024,
                  account_pending_blobs=20, account_uploads_per_minute=30, total_pending_bytes=64 * 1024 * 1024,
                  max_wanted=1000)
    values.update(changes)
    return ContentLimits(kinds=DEFAULT_KINDS, **values)  # type: ignore[arg-type]


def image(fmt: str = "PNG", size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 80, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


def padded_png(total: int) -> bytes:
    """A valid PNG of exactly ``total`` bytes (readers ignore what follows IEND)."""
    data = image("PNG", (8, 8))
    assert len(data) <= total
    return data + bytes(total - len(data))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bomb_png(width: int, height: int) -> bytes:
    """A few hundred bytes whose header claims width x height pixels: a decompression bomb's shape."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024, 9)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def real_bomb_png(width: int, height: int) -> bytes:
    """A complete PNG of width x height black pixels: tiny on disk, width*height*3 bytes decoded."""
    row = b"\x00" + bytes(width * 3)
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def auth(key: PrivateKey, data: bytes, time_ms: int, chain_id: str = CHAIN_ID) -> UploadAuth:
    return authorise_upload(key, chain_id, data, time_ms)
