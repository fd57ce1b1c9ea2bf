"""Validation and normalisation of real image files with Pillow, without servers."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from returns_media.adapters.imaging import PillowNormaliser
from returns_media.adapters.jpeg_segments import stripped_jpeg
from returns_media.domain.errors import BrokenImage, TooManyPixels, UnsupportedImage
from returns_media.domain.model import NormalisedImage

from . import images


def normaliser_with(*, keep_sent_jpegs: bool) -> PillowNormaliser:
    """The service's defaults, one worker."""
    return PillowNormaliser(
        max_pixels=50_000_000,
        full_max_side=2000,
        thumbnail_max_side=400,
        jpeg_quality=85,
        workers=1,
        keep_sent_jpegs=keep_sent_jpegs,
    )


@pytest.fixture(scope="module")
def normaliser() -> PillowNormaliser:
    return normaliser_with(keep_sent_jpegs=True)


def normalise(normaliser: PillowNormaliser, data: bytes) -> NormalisedImage:
    return normaliser.normalise_now(io.BytesIO(data))


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.mark.parametrize(
    ("orientation", "size"),
    [(1, (400, 300)), (3, (400, 300)), (6, (300, 400)), (8, (300, 400)), (5, (300, 400))],
)
def test_every_exif_orientation_ends_upright(
    normaliser: PillowNormaliser, orientation: int, size: tuple[int, int]
) -> None:
    result = normalise(normaliser, images.phone_jpeg(400, 300, orientation))

    assert (result.width, result.height) == size
    stored = opened(result.full)
    assert stored.size == size
    assert not stored.getexif()


def test_a_large_jpeg_is_decoded_at_reduced_size_and_stored_at_most_2000_px(
    normaliser: PillowNormaliser,
) -> None:
    data = images.encoded(images.noisy(4032, 3024), "JPEG", quality=80)

    result = normalise(normaliser, data)

    assert (result.width, result.height) == (2000, 1500)
    assert max(opened(result.thumbnail).size) == 400


def test_an_upright_jpeg_within_the_stored_size_keeps_its_pixels_and_loses_its_metadata(
    normaliser: PillowNormaliser,
) -> None:
    data = images.phone_jpeg(1600, 1200, orientation=1)

    result = normalise(normaliser, data)

    assert opened(result.full).tobytes() == opened(data).tobytes()
    assert (result.width, result.height) == (1600, 1200)
    assert b"PhoneMaker" in data
    assert b"PhoneMaker" not in result.full
    assert not opened(result.full).getexif()
    assert opened(result.thumbnail).size == (400, 300)


def test_with_keeping_turned_off_every_jpeg_is_re_encoded_from_its_pixels() -> None:
    data = images.phone_jpeg(1600, 1200, orientation=1)
    result = normalise(normaliser_with(keep_sent_jpegs=False), data)

    assert result.full != stripped_jpeg(data)
    assert b"PhoneMaker" not in result.full
    assert (result.width, result.height) == (1600, 1200)


def test_a_jpeg_saved_near_full_quality_is_re_encoded_rather_than_kept(
    normaliser: PillowNormaliser,
) -> None:
    data = images.encoded(images.noisy(400, 300, noise_side=400), "JPEG", quality=100)
    assert len(data) > 400 * 300

    result = normalise(normaliser, data)

    assert len(result.full) < len(data) / 2


def test_transparency_is_flattened_on_white(normaliser: PillowNormaliser) -> None:
    transparent = Image.new("RGBA", (50, 50), (0, 0, 0, 0))

    result = normalise(normaliser, images.encoded(transparent, "PNG"))

    red, green, blue = opened(result.full).convert("RGB").getpixel((25, 25))  # type: ignore[misc]
    assert min(red, green, blue) > 245


def test_an_icc_profile_is_applied_then_dropped(normaliser: PillowNormaliser) -> None:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = images.encoded(images.marked(64, 48), "JPEG", icc_profile=profile)
    assert opened(data).info.get("icc_profile")

    result = normalise(normaliser, data)

    assert "icc_profile" not in opened(result.full).info


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(images.encoded(images.marked(32, 32).convert("CMYK"), "JPEG"), id="cmyk"),
        pytest.param(images.encoded(Image.new("L", (32, 32), 128), "PNG"), id="grey"),
        pytest.param(images.encoded(Image.new("I;16", (32, 32), 300), "PNG"), id="16-bit"),
        pytest.param(images.encoded(images.marked(32, 32).convert("P"), "PNG"), id="palette"),
        pytest.param(images.heic(), id="heic"),
        pytest.param(
            images.encoded(
                images.marked(64, 48),
                "MPO",
                save_all=True,
                append_images=[images.marked(32, 24)],
            ),
            id="mpo-multi-picture-jpeg-of-phones",
        ),
        pytest.param(images.encoded(images.marked(64, 48), "JPEG", progressive=True), id="progr"),
        pytest.param(images.webp(), id="webp"),
    ],
)
def test_the_usual_variants_become_an_rgb_jpeg(normaliser: PillowNormaliser, data: bytes) -> None:
    result = normalise(normaliser, data)

    stored = opened(result.full)
    assert (stored.format, stored.mode) == ("JPEG", "RGB")
    assert result.content_type == "image/jpeg"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"just some text, not an image", id="text"),
        pytest.param(images.encoded(images.marked(32, 32), "GIF"), id="gif"),
        pytest.param(images.encoded(images.marked(32, 32), "BMP"), id="bmp"),
        pytest.param(images.encoded(images.marked(32, 32), "TIFF"), id="tiff"),
        pytest.param(b"%PDF-1.7\n" + b"0" * 100, id="pdf"),
        pytest.param(b"", id="empty"),
    ],
)
def test_what_is_not_one_of_the_four_formats_is_unsupported(
    normaliser: PillowNormaliser, data: bytes
) -> None:
    with pytest.raises(UnsupportedImage):
        normalise(normaliser, data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(images.truncated_jpeg(), id="truncated-jpeg"),
        pytest.param(images.png(200, 200)[:-300], id="truncated-png"),
        pytest.param(images.heic()[:-200], id="truncated-heic"),
        pytest.param(images.phone_jpeg()[:200], id="jpeg-headers-only"),
    ],
)
def test_a_damaged_image_is_broken(normaliser: PillowNormaliser, data: bytes) -> None:
    with pytest.raises(BrokenImage):
        normalise(normaliser, data)


# Pillow warns between its limit and twice it; the normaliser's own check is what refuses.
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_a_decompression_bomb_is_refused_before_decoding(normaliser: PillowNormaliser) -> None:
    bomb = images.decompression_bomb()
    assert len(bomb) < 100_000

    with pytest.raises(TooManyPixels) as refused:
        normalise(normaliser, bomb)

    assert "50 megapixels" in refused.value.message


def test_a_bomb_far_over_the_cap_is_refused_by_pillow_s_own_guard_too(
    normaliser: PillowNormaliser,
) -> None:
    bomb = images.encoded(Image.new("1", (20_000, 20_000)), "PNG", optimize=True)

    with pytest.raises(TooManyPixels):
        normalise(normaliser, bomb)
