"""A customer's photo through the media process that `make run` starts, with the shared secrets
every service reads (draft tokens from declaration, the internal token of the other services).

Declaration's HTTP API is not used here: the draft token is issued the way declaration issues it.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from PIL import Image

from returns_contracts.service_kit.settings import ServiceSettings
from returns_contracts.signing import issue_draft_token
from returns_infra.fixtures import RunningServices

pytestmark = pytest.mark.e2e


def _phone_photo() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways, as phones do
    exif.get_ifd(0x8825)[2] = (48.0, 51.0, 24.0)  # a GPS latitude
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 30, 30)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_an_uploaded_photo_is_found_by_lookup_and_served_by_its_link(
    services: RunningServices,
) -> None:
    shared = ServiceSettings()
    merchant_id, draft_id = f"shop-{uuid.uuid4().hex[:8]}", "draft-1"
    token = issue_draft_token(
        shared.portal_token_secret, merchant_id, draft_id, datetime.now(UTC) + timedelta(hours=1)
    )
    media = httpx.Client(base_url=services.urls["media"], timeout=30)

    upload = media.post(
        f"/v1/merchants/{merchant_id}/drafts/{draft_id}/photos",
        params={"line_id": "1"},
        files={"file": ("IMG_0042.JPG", _phone_photo(), "image/jpeg")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert upload.status_code == 201, upload.text
    photo = upload.json()
    assert photo["url"].startswith(services.urls["media"] + "/p/")

    lookup = media.post(
        "/internal/v1/photos/lookup",
        json={"merchant_id": merchant_id, "photo_ids": [photo["photo_id"]]},
        headers={"X-Internal-Token": shared.internal_api_token},
    )
    assert lookup.status_code == 200, lookup.text
    [found] = lookup.json()["photos"]
    assert (found["draft_id"], found["line_id"]) == (draft_id, "1")

    image = Image.open(io.BytesIO(httpx.get(found["url"], timeout=30).content))
    assert image.size == (480, 640)
    assert not image.getexif()
