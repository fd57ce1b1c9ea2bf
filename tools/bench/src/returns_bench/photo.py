"""A real JPEG, made once per run: noise over a gradient compresses like a phone photo."""

from __future__ import annotations

import io
import random

from PIL import Image


def jpeg_photo(width: int = 1600, height: int = 1200, quality: int = 85, seed: int = 7) -> bytes:
    """A `width` x `height` baseline JPEG with camera-like texture (a few hundred KB at the
    default size), so media decodes, re-encodes and thumbnails real pixels."""
    if width < 16 or height < 16:
        raise ValueError("a photo needs at least 16x16 pixels")
    rng = random.Random(seed)
    base = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    small = (max(width // 4, 1), max(height // 4, 1))
    noise = Image.frombytes("RGB", small, rng.randbytes(small[0] * small[1] * 3))
    image = Image.blend(base, noise.resize((width, height), Image.Resampling.BILINEAR), 0.4)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
