"""Stripping a JPEG's metadata without touching its compressed pixels, on real files."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from returns_media.adapters.jpeg_segments import stripped_jpeg

from . import images

XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>secret place</rdf:RDF></x:xmpmeta>'


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()


def with_everything(**options: object) -> bytes:
    """A phone-like JPEG with EXIF and GPS, XMP, a comment and bytes after its end."""
    exif = Image.open(io.BytesIO(images.phone_jpeg(64, 48, orientation=1))).getexif()
    data = images.encoded(
        images.noisy(64, 48), "JPEG", exif=exif, xmp=XMP, comment=b"taken at home", **options
    )
    return data + b"appended after the end of the image"


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({}, id="baseline"),
        pytest.param({"progressive": True}, id="progressive"),
        pytest.param({"restart_marker_blocks": 4}, id="restart-markers"),
        pytest.param({"optimize": True, "subsampling": 0}, id="optimised-4:4:4"),
    ],
)
def test_only_the_picture_is_kept_and_it_decodes_to_the_same_pixels(
    options: dict[str, object],
) -> None:
    original = with_everything(**options)

    kept = stripped_jpeg(original)

    assert kept is not None
    assert pixels(kept) == pixels(original)
    for trace in (b"Exif", b"PhoneMaker", b"secret place", b"taken at home", b"appended"):
        assert trace in original
        assert trace not in kept
    with Image.open(io.BytesIO(kept)) as stored:
        assert not stored.getexif()
        assert not {"exif", "xmp", "comment", "icc_profile"} & set(stored.info)


def test_a_jfif_header_stays_without_its_thumbnail() -> None:
    original = images.encoded(images.marked(32, 32), "JPEG")
    jfif_at = original.index(b"JFIF\x00")
    length = int.from_bytes(original[jfif_at - 2 : jfif_at], "big")
    # The same header announcing a 1x1 thumbnail of one red pixel after it.
    with_thumbnail = (
        original[: jfif_at - 2]
        + (length + 3).to_bytes(2, "big")
        + original[jfif_at : jfif_at + length - 4]
        + b"\x01\x01\xcc\x00\x00"
        + original[jfif_at + length - 2 :]
    )
    assert pixels(with_thumbnail) == pixels(original)

    kept = stripped_jpeg(with_thumbnail)

    assert kept is not None
    assert b"JFIF\x00" in kept
    assert b"\xcc\x00\x00" not in kept[: kept.index(b"\xff\xdb")]
    assert pixels(kept) == pixels(original)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(images.truncated_jpeg(), id="truncated-in-its-scan"),
        pytest.param(images.phone_jpeg()[:200], id="headers-only"),
        pytest.param(b"", id="empty"),
        pytest.param(images.png(), id="png"),
        pytest.param(images.encoded(images.marked(32, 32).convert("CMYK"), "JPEG"), id="adobe"),
        pytest.param(
            images.encoded(images.marked(32, 32), "JPEG").replace(b"\xff\xc0", b"\xff\xc3", 1),
            id="lossless-frame",
        ),
        pytest.param(
            images.encoded(images.marked(32, 32), "JPEG").replace(b"\xff\xda", b"\xff\x02", 1),
            id="unknown-marker",
        ),
    ],
)
def test_what_is_not_one_plain_jpeg_is_left_to_re_encoding(data: bytes) -> None:
    assert stripped_jpeg(data) is None


def test_two_frames_are_left_to_re_encoding() -> None:
    single = images.encoded(images.marked(32, 32), "JPEG")
    frame_at = single.index(b"\xff\xc0")
    length = int.from_bytes(single[frame_at + 2 : frame_at + 4], "big")
    frame = single[frame_at : frame_at + 2 + length]
    doubled = single[:frame_at] + frame + single[frame_at:]

    assert stripped_jpeg(single) is not None
    assert stripped_jpeg(doubled) is None
