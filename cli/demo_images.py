"""The demo's product photos, drawn with Pillow so the repository ships no binary images.

Each is a deterministic picture (same bytes every run, so the same content
hash): a coffee bag, the coffee's beans, a mug, the review photo and the
dispute's evidence of a cracked handle.
"""

from __future__ import annotations

import io

from PIL import Image, ImageDraw

SIZE = (800, 600)


def _canvas(background: tuple[int, int, int]) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", SIZE, background)
    draw = ImageDraw.Draw(image)
    for y in range(0, SIZE[1], 6):  # a soft vertical gradient: a table top under the product
        shade = tuple(max(0, c - y // 12) for c in background)
        draw.rectangle([0, y, SIZE[0], y + 6], fill=shade)
    return image, draw


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def coffee_bag() -> bytes:
    image, draw = _canvas((236, 224, 204))
    draw.polygon([(270, 120), (530, 120), (560, 520), (240, 520)], fill=(120, 72, 40), outline=(70, 40, 20))
    draw.rectangle([300, 250, 500, 390], fill=(245, 238, 225))
    draw.text((325, 290), "HUILA", fill=(70, 40, 20))
    draw.text((325, 320), "single origin", fill=(70, 40, 20))
    draw.text((325, 350), "250 g", fill=(70, 40, 20))
    return _jpeg(image)


def coffee_beans() -> bytes:
    image, draw = _canvas((210, 190, 160))
    for i in range(60):
        x, y = 80 + (i * 97) % 640, 80 + (i * 53) % 440
        draw.ellipse([x, y, x + 46, y + 30], fill=(90 + i % 20, 50, 25), outline=(40, 20, 10))
        draw.line([x + 8, y + 15, x + 38, y + 15], fill=(40, 20, 10), width=2)
    return _jpeg(image)


def mug(cracked: bool = False) -> bytes:
    image, draw = _canvas((200, 215, 225))
    draw.rectangle([260, 180, 500, 470], fill=(84, 110, 122), outline=(40, 55, 62), width=4)
    draw.ellipse([260, 160, 500, 200], fill=(60, 80, 90), outline=(40, 55, 62), width=4)
    draw.arc([450, 240, 590, 400], start=-90, end=90, fill=(84, 110, 122), width=26)
    if cracked:
        draw.line([(520, 255), (548, 300), (530, 330), (560, 372)], fill=(20, 20, 20), width=5)
        draw.text((280, 500), "crack through the handle", fill=(120, 20, 20))
    return _jpeg(image)


def review_photo() -> bytes:
    image, draw = _canvas((240, 232, 220))
    draw.ellipse([250, 170, 550, 470], fill=(255, 255, 255), outline=(180, 170, 160), width=6)
    draw.ellipse([300, 220, 500, 420], fill=(92, 54, 30))
    draw.ellipse([360, 280, 440, 330], fill=(150, 100, 60))
    draw.text((300, 500), "first cup, Berlin", fill=(90, 60, 40))
    return _jpeg(image)


def vase(side: bool = False, glaze: tuple[int, int, int] = (30, 70, 150)) -> bytes:
    image, draw = _canvas((232, 226, 214))
    left, right = (300, 500) if not side else (320, 480)
    draw.ellipse([left - 40, 260, right + 40, 500], fill=glaze, outline=(15, 35, 80), width=4)
    draw.rectangle([left + 40, 140, right - 40, 300], fill=glaze)
    draw.ellipse([left + 30, 120, right - 30, 160], fill=(20, 50, 110), outline=(15, 35, 80), width=4)
    draw.arc([left, 300, right, 420], start=200, end=340, fill=(200, 220, 255), width=6)
    return _jpeg(image)


def painting() -> bytes:
    image, draw = _canvas((60, 60, 70))
    draw.rectangle([140, 90, 660, 510], fill=(120, 90, 50))
    draw.rectangle([160, 110, 640, 490], fill=(250, 196, 140))
    draw.rectangle([160, 330, 640, 490], fill=(60, 100, 140))
    draw.ellipse([460, 170, 560, 270], fill=(255, 230, 170))
    for x in range(180, 620, 70):
        draw.polygon([(x, 330), (x + 30, 250), (x + 60, 330)], fill=(40, 50, 60))
    return _jpeg(image)


def riso_print() -> bytes:
    out = io.BytesIO()
    image = Image.new("RGB", SIZE, (246, 240, 228))
    draw = ImageDraw.Draw(image)
    for i in range(6):
        draw.arc([60 + i * 110, 200, 260 + i * 110, 420], start=180, end=360, fill=(230, 60, 90), width=14)
    draw.rectangle([40, 320, 760, 340], fill=(40, 90, 200))
    draw.text((60, 520), "ELBE BRIDGES  riso 2/50", fill=(40, 90, 200))
    image.save(out, "PNG")
    return out.getvalue()
