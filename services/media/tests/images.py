"""Real image files, made here with Pillow and pillow-heif, as phones and people send them."""

from __future__ import annotations

import io
import os

import pillow_heif
from PIL import Image

pillow_heif.register_heif_opener()

ORIENTATION = 0x0112
GPS_IFD = 0x8825
RED = (220, 20, 20)
BLUE = (20, 20, 220)


def marked(width: int, height: int) -> Image.Image:
    """Blue, with a red block in the top-left corner as stored: shows which way is up."""
    image = Image.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 4, height // 4))
    return image


def phone_jpeg(width: int = 400, height: int = 300, orientation: int = 6) -> bytes:
    """A JPEG stored sideways with EXIF orientation and a GPS position, like a phone's."""
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 12"  # Model
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (48.0, 51.0, 24.0)
    gps[3] = "E"
    gps[4] = (2.0, 21.0, 7.0)
    buffer = io.BytesIO()
    marked(width, height).save(buffer, "JPEG", exif=exif, quality=90)
    return buffer.getvalue()


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png(width: int = 320, height: int = 240) -> bytes:
    return encoded(marked(width, height), "PNG")


def heic(width: int = 320, height: int = 240) -> bytes:
    return encoded(marked(width, height), "HEIF", quality=80)


def webp(width: int = 320, height: int = 240) -> bytes:
    return encoded(marked(width, height), "WEBP", quality=80)


def truncated_jpeg() -> bytes:
    whole = encoded(noisy(800, 600), "JPEG", quality=90)
    return whole[: len(whole) // 2]


def decompression_bomb() -> bytes:
    """A PNG of a few kilobytes that decodes to 100 megapixels."""
    return encoded(Image.new("1", (10_000, 10_000)), "PNG", optimize=True)


def noisy(width: int, height: int, noise_side: int = 64) -> Image.Image:
    """A gradient with coarse noise: compresses like a photo, not like a flat colour."""
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    noise = Image.frombytes("RGB", (noise_side, noise_side), os.urandom(noise_side**2 * 3))
    return Image.blend(base, noise.resize((width, height), Image.Resampling.NEAREST), 0.5)


def big_phone_jpeg(target_bytes: int = 4 * 1024 * 1024) -> bytes:
    """A 12-megapixel (4032x3024) JPEG of about `target_bytes`, with EXIF orientation 6."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    image = noisy(4032, 3024, noise_side=1008)
    low, high = 30, 98
    best = b""
    while low <= high:
        quality = (low + high) // 2
        data = encoded(image, "JPEG", quality=quality, exif=exif)
        best = data
        if len(data) < target_bytes:
            low = quality + 1
        else:
            high = quality - 1
    return best


def random_bytes(size: int) -> bytes:
    # Starts like a JPEG, so only the size can be the reason for refusing it.
    return b"\xff\xd8\xff\xe0" + os.urandom(size - 4)
