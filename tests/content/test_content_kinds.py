"""What the content store accepts, sniffed from the bytes: every limit at its edge."""

from __future__ import annotations

import pytest
from content_samples import DEFAULT_KINDS, bomb_png, image, padded_png

from marketnode.node.content.kinds import JPEG, PNG, TEXT, WEBP, ContentRefused, KindLimits, classify


@pytest.mark.parametrize(("fmt", "expected"), [("PNG", PNG), ("JPEG", JPEG), ("WEBP", WEBP)])
def test_images_are_typed_from_their_bytes(fmt: str, expected: str) -> None:
    assert classify(image(fmt), DEFAULT_KINDS) == expected
    assert classify(image(fmt), DEFAULT_KINDS, "image") == expected


def test_an_image_of_exactly_2_mib_is_kept_and_one_byte_more_is_refused() -> None:
    assert classify(padded_png(2 * 1024 * 1024), DEFAULT_KINDS) == PNG
    with pytest.raises(ContentRefused) as refused:
        classify(padded_png(2 * 1024 * 1024 + 1), DEFAULT_KINDS)
    assert refused.value.reason == "too_large" and "2097152" in str(refused.value)


def test_a_text_of_exactly_16_kib_is_kept_and_one_byte_more_is_refused() -> None:
    assert classify(b"a" * 16 * 1024, DEFAULT_KINDS) == TEXT
    assert classify("é".encode() * 8 * 1024, DEFAULT_KINDS) == TEXT  # bytes count, not characters
    with pytest.raises(ContentRefused) as refused:
        classify(b"a" * (16 * 1024 + 1), DEFAULT_KINDS)
    assert refused.value.reason == "too_large"


def test_a_non_image_labelled_as_image_is_refused() -> None:
    with pytest.raises(ContentRefused) as refused:
        classify(b"GIF89a not what we take", DEFAULT_KINDS, "image")
    assert refused.value.reason == "not_image"
    with pytest.raises(ContentRefused) as html:
        classify(b"<html><script>alert(1)</script></html>", DEFAULT_KINDS, "image")
    assert html.value.reason == "not_image"


def test_bytes_that_start_like_an_image_but_are_not_one_are_refused() -> None:
    with pytest.raises(ContentRefused) as refused:
        classify(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, DEFAULT_KINDS)
    assert refused.value.reason == "bad_image"


def test_binary_that_is_neither_image_nor_utf8_is_refused() -> None:
    with pytest.raises(ContentRefused) as refused:
        classify(b"\xff\xfe\x00binary", DEFAULT_KINDS)
    assert refused.value.reason == "not_text"
    with pytest.raises(ContentRefused) as nul:
        classify(b"text\x00with nul", DEFAULT_KINDS)
    assert nul.value.reason == "not_text"
    with pytest.raises(ContentRefused) as empty:
        classify(b"", DEFAULT_KINDS)
    assert empty.value.reason == "empty"


def test_a_50_megapixel_bomb_is_refused_before_decoding() -> None:
    with pytest.raises(ContentRefused) as refused:
        classify(bomb_png(10_000, 5_000), DEFAULT_KINDS)
    assert refused.value.reason == "too_many_pixels" and "decompression bomb" in str(refused.value)


def test_the_pixel_limit_holds_at_its_edge() -> None:
    kinds = KindLimits(2 * 1024 * 1024, 16 * 1024, 10_000)
    assert classify(bomb_png(100, 100), kinds) == PNG
    with pytest.raises(ContentRefused):
        classify(bomb_png(100, 101), kinds)


def test_image_bytes_declared_as_text_are_checked_as_text() -> None:
    with pytest.raises(ContentRefused) as refused:
        classify(image("PNG"), DEFAULT_KINDS, "text")
    assert refused.value.reason == "not_text"
