"""Uploads through the real media process into the real S3 server, with real image files."""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from PIL import Image

from . import images
from .drafts import Draft, error_of
from .process import INTERNAL_TOKEN, MediaProcess

pytestmark = pytest.mark.integration


@pytest.fixture
def draft(media: MediaProcess) -> Draft:
    return Draft(media)


def test_a_phone_photo_comes_back_upright_without_any_metadata(draft: Draft) -> None:
    original = images.phone_jpeg(400, 300, orientation=6)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(images.GPS_IFD)

    response = draft.upload(original)

    assert response.status_code == 201, response.text
    answer = response.json()
    assert (answer["width"], answer["height"]) == (300, 400)
    assert answer["content_type"] == "image/jpeg"
    assert answer["merchant_id"] == draft.merchant_id and answer["draft_id"] == draft.draft_id
    stored = httpx.get(answer["url"], timeout=30)
    assert stored.status_code == 200
    assert stored.headers["content-type"] == "image/jpeg"
    assert len(stored.content) == answer["size_bytes"]
    assert hashlib.sha256(stored.content).hexdigest() == answer["sha256"]
    image = Image.open(io.BytesIO(stored.content))
    assert image.size == (300, 400)
    # Stored sideways with its red corner top-left; turned a quarter clockwise it is top-right.
    assert _is_red(image.getpixel((290, 10))) and not _is_red(image.getpixel((10, 10)))
    assert not image.getexif(), "no EXIF at all: no orientation, no camera, no GPS"
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(image.info)
    assert b"PhoneMaker" not in stored.content and b"Exif" not in stored.content
    thumbnail = httpx.get(answer["thumbnail_url"], timeout=30)
    assert thumbnail.status_code == 200
    assert Image.open(io.BytesIO(thumbnail.content)).size[1] <= 400


def _is_red(pixel: Any) -> bool:
    red, green, blue = pixel[:3]
    return bool(red > 150 and green < 90 and blue < 90)


def test_a_heic_photo_is_accepted_and_stored_as_jpeg(draft: Draft) -> None:
    response = draft.upload(images.heic(), filename="IMG_0001.HEIC", content_type="image/heic")

    assert response.status_code == 201, response.text
    stored = httpx.get(response.json()["url"], timeout=30)
    assert Image.open(io.BytesIO(stored.content)).format == "JPEG"


def test_a_webp_photo_is_accepted(draft: Draft) -> None:
    response = draft.upload(images.webp(), filename="a.webp", content_type="image/webp")

    assert response.status_code == 201, response.text


def test_a_png_named_jpg_is_judged_by_its_bytes(draft: Draft, media: MediaProcess) -> None:
    response = draft.upload(images.png(320, 240), filename="photo.jpg", content_type="image/jpeg")

    assert response.status_code == 201, response.text
    document = media.photo_document(response.json()["photo_id"])
    assert document is not None and document["source_format"] == "PNG"


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        pytest.param(
            b"Dear customer service,\nmy mug is broken.\n", 415, "unsupported_image", id="text-file"
        ),
        pytest.param(images.truncated_jpeg(), 422, "broken_image", id="truncated-jpeg"),
        pytest.param(images.random_bytes(16 * 1024 * 1024), 413, "file_too_large", id="16-mb"),
        pytest.param(images.decompression_bomb(), 413, "image_too_large", id="bomb"),
    ],
)
def test_what_is_not_an_acceptable_image_is_refused_and_nothing_is_stored(
    draft: Draft, data: bytes, status: int, code: str
) -> None:
    response = draft.upload(data, filename="photo.jpg", content_type="image/jpeg")

    assert response.status_code == status, response.text
    assert error_of(response)["code"] == code
    assert draft.objects() == []
    # The refused upload left no slot behind: the line still takes its five photos.
    assert draft.upload(images.png(16, 16)).status_code == 201
    assert len(draft.objects()) == 2


def test_a_file_over_the_cap_without_content_length_is_cut_off_while_streaming(
    draft: Draft,
) -> None:
    boundary = "cap-test-boundary"
    payload = images.random_bytes(16 * 1024 * 1024)

    def body() -> Any:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'
        ).encode()
        for start in range(0, len(payload), 1024 * 1024):
            yield payload[start : start + 1024 * 1024]
        yield f"\r\n--{boundary}--\r\n".encode()

    response = draft.http.post(
        draft.photos_path,
        params={"line_id": "1"},
        content=body(),
        headers={
            "Authorization": f"Bearer {draft.token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )

    assert response.status_code == 413
    assert draft.objects() == []


def test_a_bad_or_foreign_token_is_refused(draft: Draft, media: MediaProcess) -> None:
    other = media.draft_token(draft.merchant_id, "another-draft")
    expired = media.draft_token(draft.merchant_id, draft.draft_id, valid_for=-10)

    for token in ("not-a-token", other, expired):
        response = draft.upload(images.png(16, 16), token=token)
        assert response.status_code == 401
        assert error_of(response)["code"] == "invalid_token"
    no_header = draft.http.post(
        draft.photos_path, params={"line_id": "1"}, files={"file": ("a.png", images.png(), "")}
    )
    assert no_header.status_code == 401
    assert draft.objects() == []


def test_at_most_five_photos_per_line(draft: Draft) -> None:
    for _ in range(5):
        assert draft.upload(images.png(16, 16), line_id="1").status_code == 201

    sixth = draft.upload(images.png(16, 16), line_id="1")

    assert sixth.status_code == 409
    assert error_of(sixth)["code"] == "too_many_photos"
    assert draft.upload(images.png(16, 16), line_id="2").status_code == 201


def test_concurrent_uploads_never_take_more_than_five_places_on_a_line(draft: Draft) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: draft.upload(images.png(16, 16)).status_code, range(8)))

    assert sorted(answers) == [201] * 5 + [409] * 3
    assert len(draft.objects()) == 10


def test_uploads_are_rate_limited_per_draft(draft: Draft, media: MediaProcess) -> None:
    # The test process allows 8 uploads per window; refused ones count too.
    for _ in range(8):
        assert draft.upload(b"not an image").status_code == 415

    ninth = draft.upload(images.png(16, 16))

    assert ninth.status_code == 429
    assert error_of(ninth)["code"] == "too_many_uploads"
    assert int(ninth.headers["Retry-After"]) > 0
    assert Draft(media, draft.merchant_id).upload(images.png(16, 16)).status_code == 201


def test_an_altered_expired_or_unknown_link_answers_404(draft: Draft) -> None:
    answer = draft.upload(images.png()).json()
    url = httpx.URL(answer["url"])
    params = dict(url.params)

    altered_signature = url.copy_with(params={**params, "sig": params["sig"][:-2] + "AA"})
    longer_expiry = url.copy_with(params={**params, "exp": str(int(params["exp"]) + 3600)})
    expired = url.copy_with(params={**params, "exp": "1000000000"})
    other_photo = httpx.URL(answer["url"].replace(answer["photo_id"], "x" + answer["photo_id"]))
    thumb_with_full_signature = httpx.URL(answer["url"].replace("/full?", "/thumb?"))
    unknown_variant = httpx.URL(answer["url"].replace("/full?", "/raw?"))
    unsigned = url.copy_with(params={})
    garbage = url.copy_with(params={"exp": "soon", "sig": "é%/"})
    long_variant = httpx.URL(answer["url"].replace("/full?", "/" + "x" * 300 + "?"))

    assert httpx.get(url).status_code == 200
    for link in (
        altered_signature,
        longer_expiry,
        expired,
        other_photo,
        thumb_with_full_signature,
        unknown_variant,
        unsigned,
        garbage,
        long_variant,
    ):
        response = httpx.get(link)
        assert response.status_code == 404, link
        assert error_of(response)["code"] == "not_found"


def test_the_customer_can_remove_a_photo_before_submitting(draft: Draft) -> None:
    answer = draft.upload(images.png()).json()
    path = f"{draft.photos_path}/{answer['photo_id']}"

    foreign = Draft(draft.media, draft.merchant_id)
    refused = draft.http.delete(path, headers={"Authorization": f"Bearer {foreign.token}"})
    assert refused.status_code == 401

    removed = draft.http.delete(path, headers={"Authorization": f"Bearer {draft.token}"})

    assert removed.status_code == 204
    assert draft.objects() == []
    assert httpx.get(answer["url"]).status_code == 404


def test_lookup_answers_only_the_merchant_s_own_photos_with_fresh_links(
    draft: Draft, media: MediaProcess
) -> None:
    mine = draft.upload(images.png()).json()
    stranger = Draft(media)
    theirs = stranger.upload(images.png()).json()
    http = httpx.Client(base_url=media.url, timeout=30)
    body = {
        "merchant_id": draft.merchant_id,
        "photo_ids": [mine["photo_id"], theirs["photo_id"], "no-such-photo"],
    }

    refused = http.post("/internal/v1/photos/lookup", json=body)
    wrong = http.post("/internal/v1/photos/lookup", json=body, headers={"X-Internal-Token": "x"})
    answer = http.post(
        "/internal/v1/photos/lookup", json=body, headers={"X-Internal-Token": INTERNAL_TOKEN}
    )

    assert (refused.status_code, wrong.status_code) == (401, 401)
    assert answer.status_code == 200, answer.text
    [found] = answer.json()["photos"]
    assert found["photo_id"] == mine["photo_id"]
    assert found["draft_id"] == draft.draft_id and found["line_id"] == "1"
    assert found["sha256"] == mine["sha256"]
    assert httpx.get(found["thumbnail_url"]).status_code == 200


def test_gdpr_erasure_removes_every_photo_of_the_merchant_and_no_other(
    draft: Draft, media: MediaProcess
) -> None:
    first = draft.upload(images.png()).json()
    second_draft = Draft(media, draft.merchant_id)
    second = second_draft.upload(images.heic()).json()
    stranger = Draft(media)
    kept = stranger.upload(images.png()).json()
    http = httpx.Client(base_url=media.url, timeout=30)

    refused = http.delete(f"/internal/v1/merchants/{draft.merchant_id}/photos")
    response = http.delete(
        f"/internal/v1/merchants/{draft.merchant_id}/photos",
        headers={"X-Internal-Token": INTERNAL_TOKEN},
    )

    assert refused.status_code == 401
    assert response.status_code == 200, response.text
    assert response.json()["photos_deleted"] == 2
    assert draft.objects() == []
    for gone in (first, second):
        assert httpx.get(gone["url"]).status_code == 404
        assert media.photo_document(gone["photo_id"]) is None
    assert httpx.get(kept["url"]).status_code == 200


def test_a_request_without_a_photo_is_told_how_to_send_one(draft: Draft) -> None:
    auth = {"Authorization": f"Bearer {draft.token}"}
    params = {"line_id": "1"}
    as_json = draft.http.post(draft.photos_path, params=params, json={"file": "x"}, headers=auth)
    other_field = draft.http.post(
        draft.photos_path, params=params, files={"photo": ("a.png", images.png())}, headers=auth
    )
    empty = draft.http.post(
        draft.photos_path, params=params, files={"file": ("a.png", b"")}, headers=auth
    )
    no_line = draft.http.post(
        draft.photos_path, files={"file": ("a.png", images.png())}, headers=auth
    )

    for response in (as_json, other_field, empty, no_line):
        assert response.status_code == 422, response.text
        assert error_of(response)["code"] == "invalid_request"
    assert "file" in error_of(other_field)["message"]
    assert draft.objects() == []
