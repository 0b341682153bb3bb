"""Thumbnails of stored images (Pillow), bounded in pixels before any decoding and cached by (hash, width).

Only THUMB_WIDTHS are made, so a client cannot make a node render endless
variants; the cache is bounded in bytes and the work runs off the event loop.
"""

from __future__ import annotations

import io
import warnings
from collections import OrderedDict

from marketnode.node.content.kinds import PNG, ContentRefused, KindLimits, image_size

THUMB_WIDTHS = (160, 320, 640)


def make_thumbnail(data: bytes, content_type: str, width: int, limits: KindLimits) -> tuple[bytes, str]:
    """A copy at most ``width`` wide (never enlarged): PNG stays PNG (transparency), others become JPEG."""
    from PIL import Image

    w, h = image_size(data, content_type)
    if w * h > limits.max_image_pixels:
        raise ContentRefused("too_many_pixels", f"{w}x{h} pixels is over the limit of {limits.max_image_pixels}: "
                             "refused as a decompression bomb")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as image:
            image.draft("RGB", (width, max(1, h * width // w)))  # JPEG: decode at a reduced scale
            image.thumbnail((width, max(1, h * width // w) if w > width else h))
            out = io.BytesIO()
            if content_type == PNG:
                image.save(out, "PNG", optimize=True)
                return out.getvalue(), PNG
            image.convert("RGB").save(out, "JPEG", quality=82)
            return out.getvalue(), "image/jpeg"


class ServedCache:
    """An LRU of what GET /content served, keyed (hash, width; 0 for the original), at most ``max_bytes``.

    Blobs never change, so a copy checked once can be served again without reading and hashing the file.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[tuple[bytes, int], tuple[bytes, str]] = OrderedDict()

    def get(self, key: tuple[bytes, int]) -> tuple[bytes, str] | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: tuple[bytes, int], item: tuple[bytes, str]) -> None:
        if len(item[0]) > self.max_bytes or key in self._items:
            return
        self._items[key] = item
        self.size += len(item[0])
        while self.size > self.max_bytes:
            _, (old, _) = self._items.popitem(last=False)
            self.size -= len(old)
