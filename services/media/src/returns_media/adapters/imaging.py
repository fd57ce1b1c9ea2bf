"""Validation and normalisation of uploaded images with Pillow (and pillow-heif for HEIC).

The type is decided from the bytes: Pillow identifies the file by its signature, and only the
four formats of R13 are tried. Decoding runs in a small thread pool of its own, so the event
loop never waits on it and at most `workers` images are in memory at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import math
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import BinaryIO

import pillow_heif
from PIL import Image, ImageCms, ImageFile, ImageOps, UnidentifiedImageError

from returns_media.adapters.jpeg_segments import stripped_jpeg
from returns_media.domain.errors import BrokenImage, TooManyPixels, UnsupportedImage
from returns_media.domain.model import NormalisedImage

pillow_heif.register_heif_opener()
# A truncated file is a broken image, never a half-grey one.
ImageFile.LOAD_TRUNCATED_IMAGES = False

# Pillow's format names of what R13 accepts; pillow-heif registers HEIC as "HEIF".
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
OUTPUT_CONTENT_TYPE = "image/jpeg"
_SRGB = ImageCms.createProfile("sRGB")
_ORIENTATION = 0x0112
# Past this a JPEG was saved at a quality near 100: stored as it is it would take several times
# the room of its re-encoding, for no detail anyone can see.
_KEPT_JPEG_MAX_BYTES_PER_PIXEL = 1.0


class PillowNormaliser:
    def __init__(
        self,
        *,
        max_pixels: int,
        full_max_side: int,
        thumbnail_max_side: int,
        jpeg_quality: int,
        workers: int,
        keep_sent_jpegs: bool = True,
    ) -> None:
        self.max_pixels = max_pixels
        self.full_max_side = full_max_side
        self.thumbnail_max_side = thumbnail_max_side
        self.jpeg_quality = jpeg_quality
        self.keep_sent_jpegs = keep_sent_jpegs
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="imaging")
        # Pillow's own guard (DecompressionBombError at twice this) backs up the check below
        # for decoders that allocate before we look at the size.
        Image.MAX_IMAGE_PIXELS = max_pixels
        # Between the cap and twice it Pillow only warns; `_normalise` refuses those itself.
        warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)

    async def normalise(self, source: BinaryIO) -> NormalisedImage:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self.normalise_now, source)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def normalise_now(self, source: BinaryIO) -> NormalisedImage:
        source.seek(0)
        try:
            with Image.open(source, formats=ACCEPTED_FORMATS) as image:
                return self._normalise(image, source)
        except UnidentifiedImageError as error:
            raise UnsupportedImage(
                "This file is not a supported image: send a JPEG, PNG, WebP or HEIC photo."
            ) from error
        except Image.DecompressionBombError as error:
            raise self._too_many_pixels() from error
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            # Pillow reports truncated and corrupt data as OSError or SyntaxError.
            raise BrokenImage(
                "This image is damaged or incomplete and cannot be read; please take or "
                "export the photo again."
            ) from error

    def _too_many_pixels(self) -> TooManyPixels:
        megapixels = self.max_pixels // 1_000_000
        return TooManyPixels(
            f"This image has too many pixels (at most {megapixels} megapixels); please send a "
            "smaller photo."
        )

    def _normalise(self, image: Image.Image, source: BinaryIO) -> NormalisedImage:
        source_format = str(image.format)
        width, height = image.size
        if width < 1 or height < 1 or width * height > self.max_pixels:
            raise self._too_many_pixels()
        kept = self._kept_jpeg(image, source)
        if source_format == "JPEG":
            # Decode straight at the smallest scale (1/2, 1/4, 1/8) still at least as large as
            # what is made from the pixels: the stored image, or only the thumbnail when the
            # JPEG is kept as it is. Far less time and memory for a phone photo.
            made_side = self.thumbnail_max_side if kept is not None else self.full_max_side
            ratio = min(1.0, made_side / max(width, height))
            image.draft("RGB", (math.ceil(width * ratio), math.ceil(height * ratio)))
        # Every image is decoded whole, kept or not: damaged data is refused here.
        image.load()
        if kept is not None:
            rgb = image if image.mode == "RGB" else image.convert("RGB")
            rgb.thumbnail(
                (self.thumbnail_max_side, self.thumbnail_max_side), Image.Resampling.LANCZOS
            )
            return self._normalised(kept, rgb, (width, height), source_format)
        # In place: each copy of a phone photo's pixels costs milliseconds (make bench).
        ImageOps.exif_transpose(image, in_place=True)
        rgb = _to_srgb(image, image.info.get("icc_profile"))
        rgb.thumbnail((self.full_max_side, self.full_max_side), Image.Resampling.LANCZOS)
        full = self._encode(rgb)
        size = rgb.size
        # The full image is encoded: its pixels can become the thumbnail's, without a copy.
        rgb.thumbnail((self.thumbnail_max_side, self.thumbnail_max_side), Image.Resampling.LANCZOS)
        return self._normalised(full, rgb, size, source_format)

    def _kept_jpeg(self, image: Image.Image, source: BinaryIO) -> bytes | None:
        """The uploaded JPEG with its metadata stripped, when its pixels need no change.

        Upright, without a colour profile to apply, already within the stored size and saved
        at an ordinary quality: re-encoding would only lose quality and cost the most CPU of
        an upload (make bench). Anything else is re-encoded from decoded pixels.
        """
        width, height = image.size
        if (
            not self.keep_sent_jpegs
            or image.format != "JPEG"
            or image.mode != "RGB"
            or max(width, height) > self.full_max_side
            or image.info.get("icc_profile")
            or image.getexif().get(_ORIENTATION, 1) != 1
        ):
            return None
        source.seek(0)
        data = source.read()
        if len(data) > width * height * _KEPT_JPEG_MAX_BYTES_PER_PIXEL:
            return None
        return stripped_jpeg(data)

    def _normalised(
        self, full: bytes, thumbnail: Image.Image, size: tuple[int, int], source_format: str
    ) -> NormalisedImage:
        width, height = size
        return NormalisedImage(
            full=full,
            # Hashed here, in the worker thread, rather than on the event loop.
            full_sha256=hashlib.sha256(full).hexdigest(),
            thumbnail=self._encode(thumbnail),
            content_type=OUTPUT_CONTENT_TYPE,
            width=width,
            height=height,
            source_format=source_format,
        )

    def _encode(self, image: Image.Image) -> bytes:
        # Saved from a fresh image that never had metadata: no EXIF (GPS, camera, time), no
        # ICC profile, no XMP, no comments can travel along.
        clean = Image.new("RGB", image.size)
        clean.paste(image)
        buffer = io.BytesIO()
        # Optimised Huffman tables: ~8% smaller for ~20 ms; progressive would cost 50 ms more.
        clean.save(buffer, "JPEG", quality=self.jpeg_quality, optimize=True)
        return buffer.getvalue()


def _to_srgb(image: Image.Image, icc_profile: object) -> Image.Image:
    """RGB pixels in sRGB: colours stay right once the (stripped) ICC profile is gone."""
    rgb = image
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        rgb = Image.new("RGB", rgba.size, (255, 255, 255))
        rgb.paste(rgba, mask=rgba.getchannel("A"))
    if isinstance(icc_profile, bytes) and icc_profile:
        try:
            embedded = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(rgb, embedded, _SRGB, outputMode="RGB")
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # A profile we cannot read: keep the pixels as they are.
    return rgb if rgb.mode == "RGB" else rgb.convert("RGB")
