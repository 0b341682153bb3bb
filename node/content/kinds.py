"""What a blob is, sniffed from its bytes (never from a header or a file name), and whether it fits the limits.

Only JPEG, PNG and WebP images and UTF-8 text are stored. An image's size in
pixels is read from its header before anything is decoded, so a small file
that would decompress to gigabytes (a decompression bomb) is refused here.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from marketnode.core.errors import ValidationError

JPEG, PNG, WEBP = "image/jpeg", "image/png", "image/webp"
TEXT = "text/plain; charset=utf-8"
IMAGE_TYPES = (JPEG, PNG, WEBP)
CONTENT_TYPES = (*IMAGE_TYPES, TEXT)
_PIL_FORMATS = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP"}


class ContentRefused(ValidationError):
    """A blob this node will not store; ``reason`` is a stable code (docs/RPC.md content_put)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class KindLimits:
    max_image_bytes: int
    max_text_bytes: int
    max_image_pixels: int

    @property
    def max_blob_bytes(self) -> int:
        return max(self.max_image_bytes, self.max_text_bytes)


def sniff_image(data: bytes) -> str | None:
    """The image type named by the file's magic bytes, or None."""
    if data[:3] == b"\xff\xd8\xff":
        return JPEG
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


def classify(data: bytes, limits: KindLimits, declared: str | None = None) -> str:
    """The Content-Type of ``data``; ContentRefused when it is not an acceptable image or text.

    ``declared`` ("image" or "text", from the uploader) must agree with the bytes.
    """
    if not data:
        raise ContentRefused("empty", "the blob is empty")
    image = sniff_image(data)
    if declared == "image" and image is None:
        raise ContentRefused("not_image", "declared an image, but the bytes are not JPEG, PNG or WebP "
                             "(the type is read from the bytes, never from a name or header)")
    if image is not None and declared != "text":
        return _check_image(data, image, limits)
    if len(data) > limits.max_text_bytes:
        raise ContentRefused("too_large", f"a text is at most {limits.max_text_bytes} bytes; this one is {len(data)}")
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as exc:
        raise ContentRefused("not_text", f"neither an image (JPEG, PNG, WebP) nor UTF-8 text: byte {exc.start} "
                             "is not UTF-8") from None
    if "\x00" in text:
        raise ContentRefused("not_text", "a text may not contain NUL characters (binary data is not text)")
    return TEXT


def _check_image(data: bytes, kind: str, limits: KindLimits) -> str:
    if len(data) > limits.max_image_bytes:
        raise ContentRefused("too_large", f"an image is at most {limits.max_image_bytes} bytes; "
                             f"this one is {len(data)}")
    width, height = image_size(data, kind)
    if width * height > limits.max_image_pixels:
        raise ContentRefused("too_many_pixels", f"the image is {width}x{height} = {width * height} pixels, over "
                             f"the limit of {limits.max_image_pixels} (it would decompress to "
                             f"{width * height * 4 // 2**20} MiB: refused as a decompression bomb)")
    return kind


def image_size(data: bytes, kind: str) -> tuple[int, int]:
    """(width, height) from the image header, without decoding pixels; ContentRefused when unreadable."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_PIL_FORMATS[kind]]) as image:
                width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        if isinstance(exc, Image.DecompressionBombError):
            raise ContentRefused("too_many_pixels", f"refused as a decompression bomb: {exc}") from None
        raise ContentRefused("bad_image", f"the bytes start like {kind} but are not a readable image: {exc}") from None
    if width < 1 or height < 1:
        raise ContentRefused("bad_image", "the image has no pixels")
    return width, height
