"""The wallet drops a photo's metadata (EXIF GPS position, XMP, comments) before upload, pixels untouched."""

from __future__ import annotations

import io

from PIL import Image, PngImagePlugin

from marketnode.wallet.content import strip_metadata


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (40, 30), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}  # GPSInfo: Berlin
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"taken at home")
    return out.getvalue()


def pixels(data: bytes) -> bytes:
    return Image.open(io.BytesIO(data)).convert("RGB").tobytes()


def test_a_jpeg_loses_exif_and_comments_and_keeps_its_pixels() -> None:
    data = jpeg_with_gps()
    assert b"Exif" in data and b"PhoneMaker" in data and b"taken at home" in data
    stripped = strip_metadata(data)
    assert b"Exif" not in stripped and b"PhoneMaker" not in stripped and b"taken at home" not in stripped
    assert pixels(stripped) == pixels(data) and len(stripped) < len(data)
    assert not Image.open(io.BytesIO(stripped)).getexif()


def test_a_png_loses_its_text_chunks_and_keeps_its_pixels() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "52.52N 13.40E")
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (1, 2, 3)).save(out, "PNG", pnginfo=info)
    data = out.getvalue()
    stripped = strip_metadata(data)
    assert b"52.52N" in data and b"52.52N" not in stripped
    assert pixels(stripped) == pixels(data)


def test_what_it_does_not_understand_is_returned_unchanged() -> None:
    for data in (b"plain text", b"\xff\xd8\xff\xe1\x00", b"\x89PNG\r\n\x1a\n\x00\x00\x10\x00IHDR", b""):
        assert strip_metadata(data) == data
    clean = io.BytesIO()
    Image.new("RGB", (8, 8)).save(clean, "PNG")
    assert strip_metadata(clean.getvalue()) == clean.getvalue()
