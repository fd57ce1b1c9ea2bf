"""Media's HTTP API on in-memory fakes, assembled by the composition root as the process does:
who may upload, remove, look up and erase, what a signed link opens, and how every refusal is
answered (the one error shape, its status, the headers it wants)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from returns_contracts.service_kit.http import install_operations
from returns_contracts.service_kit.photos import PHOTO_LOOKUP_BATCH
from returns_contracts.service_kit.testing import FakeClock, error_of
from returns_contracts.signing import issue_draft_token
from returns_media.bootstrap import Adapters, build_container
from returns_media.config import MediaSettings
from returns_media.entrypoints.app import install_routes

from .fakes import T0, FakeNormaliser, FakeObjects, FakeStore

SECRET = "unit-portal-secret"
INTERNAL_TOKEN = "unit-internal-token"
INTERNAL = {"X-Internal-Token": INTERNAL_TOKEN}
PHOTOS = "/v1/merchants/shop/drafts/d-1/photos"


@dataclass
class Media:
    client: httpx.AsyncClient
    store: FakeStore
    objects: FakeObjects
    clock: FakeClock

    def bearer(self, merchant_id: str = "shop", draft_id: str = "d-1") -> dict[str, str]:
        token = issue_draft_token(SECRET, merchant_id, draft_id, self.clock() + timedelta(hours=1))
        return {"Authorization": f"Bearer {token}"}

    async def upload(
        self, data: bytes = b"pixels", headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.client.post(
            PHOTOS,
            params={"line_id": "1"},
            files={"file": ("photo.jpg", data, "image/jpeg")},
            headers=self.bearer() if headers is None else headers,
        )


@pytest.fixture
async def media() -> AsyncIterator[Media]:
    settings = MediaSettings(
        portal_token_secret=SECRET,
        internal_api_token=INTERNAL_TOKEN,
        media_base_url="https://media.example",
        media_uploads_per_window=3,
        media_max_upload_bytes=1024,
        media_cors_allow_origins="https://portal.example",
    )
    store, objects, clock = FakeStore(), FakeObjects(), FakeClock(T0)
    container = build_container(
        settings, Adapters(store=store, objects=objects, normaliser=FakeNormaliser(), clock=clock)
    )
    app = FastAPI()
    install_operations(app, checks={}, registry=CollectorRegistry(), timeout_seconds=1.0)
    install_routes(app, container)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://media.example") as client:
        yield Media(client, store, objects, clock)


async def test_an_upload_with_the_draft_token_answers_the_photo_and_its_signed_links(
    media: Media,
) -> None:
    uploaded = await media.upload()

    assert uploaded.status_code == 201, uploaded.text
    photo = uploaded.json()
    assert (photo["merchant_id"], photo["draft_id"], photo["line_id"]) == ("shop", "d-1", "1")
    assert photo["url"].startswith(f"https://media.example/p/{photo['photo_id']}/full?")
    assert photo["thumbnail_url"].startswith(f"https://media.example/p/{photo['photo_id']}/thumb?")
    assert photo["photo_id"] in media.store.photos
    opened = await media.client.get(photo["url"])
    assert opened.status_code == 200
    assert opened.headers["content-type"] == "image/jpeg"
    assert opened.content == b"full-jpeg-pixels"
    assert opened.headers["x-content-type-options"] == "nosniff"


async def test_an_upload_without_the_token_of_this_draft_is_refused(media: Media) -> None:
    missing = await media.upload(headers={})
    other_draft = await media.upload(headers=media.bearer(draft_id="d-2"))
    forged = await media.upload(headers={"Authorization": "Bearer not-a-token"})

    for refused in (missing, other_draft, forged):
        error_of(refused, 401, "invalid_token")
        assert refused.headers["WWW-Authenticate"] == "Bearer"
    assert media.store.photos == {} and media.objects.objects == {}


async def test_uploads_over_the_window_answer_429_with_retry_after(media: Media) -> None:
    for _ in range(3):
        assert (await media.upload()).status_code == 201

    refused = await media.upload()

    error_of(refused, 429, "too_many_uploads")
    assert int(refused.headers["Retry-After"]) > 0


async def test_a_body_that_is_no_photo_or_too_large_is_refused_in_the_error_shape(
    media: Media,
) -> None:
    not_multipart = await media.client.post(
        PHOTOS, params={"line_id": "1"}, content=b"raw", headers=media.bearer()
    )
    too_large = await media.upload(b"x" * 2048)
    bad_line = await media.client.post(
        PHOTOS, params={"line_id": "a b"}, files={"file": ("p.jpg", b"x")}, headers=media.bearer()
    )

    error_of(not_multipart, 422, "invalid_request")
    error_of(too_large, 413, "file_too_large")
    assert bad_line.status_code == 422
    assert media.store.photos == {}


async def test_a_removed_photo_s_link_no_longer_opens(media: Media) -> None:
    photo = (await media.upload()).json()
    path = f"{PHOTOS}/{photo['photo_id']}"

    anonymous = await media.client.delete(path)
    removed = await media.client.delete(path, headers=media.bearer())

    error_of(anonymous, 401, "invalid_token")
    assert removed.status_code == 204
    error_of(await media.client.get(photo["url"]), 404, "not_found")


async def test_a_link_that_is_altered_or_unknown_answers_404(media: Media) -> None:
    photo = (await media.upload()).json()

    tampered = await media.client.get(photo["url"].replace("sig=", "sig=x"))
    other_variant = await media.client.get(photo["url"].replace("/full?", "/huge?"))
    unsigned = await media.client.get(f"/p/{photo['photo_id']}/full")

    for refused in (tampered, other_variant, unsigned):
        error_of(refused, 404, "not_found")


async def test_the_lookup_answers_the_internal_token_only_and_in_batches(media: Media) -> None:
    photo = (await media.upload()).json()
    body = {"merchant_id": "shop", "photo_ids": [photo["photo_id"], "unknown"]}

    anonymous = await media.client.post("/internal/v1/photos/lookup", json=body)
    found = await media.client.post("/internal/v1/photos/lookup", json=body, headers=INTERNAL)
    foreign = await media.client.post(
        "/internal/v1/photos/lookup",
        json={**body, "merchant_id": "other"},
        headers=INTERNAL,
    )
    too_many = await media.client.post(
        "/internal/v1/photos/lookup",
        json={"merchant_id": "shop", "photo_ids": ["p"] * (PHOTO_LOOKUP_BATCH + 1)},
        headers=INTERNAL,
    )

    error_of(anonymous, 401, "invalid_token")
    assert found.status_code == 200
    assert [p["photo_id"] for p in found.json()["photos"]] == [photo["photo_id"]]
    assert foreign.json() == {"photos": []}
    assert too_many.status_code == 422


async def test_erasing_a_merchant_needs_the_internal_token_and_removes_every_photo(
    media: Media,
) -> None:
    await media.upload()
    await media.upload()

    anonymous = await media.client.delete("/internal/v1/merchants/shop/photos")
    erased = await media.client.delete("/internal/v1/merchants/shop/photos", headers=INTERNAL)

    error_of(anonymous, 401, "invalid_token")
    assert erased.json() == {"merchant_id": "shop", "photos_deleted": 2}
    assert media.store.photos == {} and media.objects.objects == {}


async def test_the_portal_s_origin_may_upload_from_the_browser(media: Media) -> None:
    allowed = await media.client.options(
        PHOTOS,
        headers={
            "Origin": "https://portal.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    other = await media.client.options(
        PHOTOS,
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://portal.example"
    assert "access-control-allow-origin" not in other.headers
