"""The kit's client of media's photo lookup: batches of at most 100 ids, each id once, only the
asking merchant's photos, and an outage told apart from a refusal.

Media is played by an httpx MockTransport that refuses more ids than media's lookup takes (422),
as media's `LookupRequest` does; the end-to-end tests drive the real media.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from returns_contracts.service_kit.access import INTERNAL_TOKEN_HEADER
from returns_contracts.service_kit.photos import (
    PHOTO_LOOKUP_BATCH,
    PhotoLookupClient,
    PhotoLookupFailed,
    PhotoLookupUnavailable,
)

EXPIRES = datetime(2026, 12, 31, tzinfo=UTC)


class FakeMedia:
    """Answers every asked id of merchant "m" (and one of "intruder"), like media's lookup."""

    def __init__(self, status: int = 200) -> None:
        self.calls: list[list[str]] = []
        self.status = status

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/internal/v1/photos/lookup"
        assert request.headers[INTERNAL_TOKEN_HEADER] == "token"
        body = json.loads(request.content)
        ids: list[str] = body["photo_ids"]
        self.calls.append(ids)
        if self.status != 200:
            return httpx.Response(self.status, json={"error": {"code": "down"}})
        if len(ids) > PHOTO_LOOKUP_BATCH:
            return httpx.Response(422, json={"error": {"code": "validation_failed"}})
        photos = [
            {
                "photo_id": photo_id,
                "merchant_id": "intruder" if photo_id == "p-stranger" else body["merchant_id"],
                "draft_id": "d-1",
                "line_id": "1",
                "url": f"/p/{photo_id}/full?sig=x",
                "thumbnail_url": f"/p/{photo_id}/thumb?sig=x",
                "expires_at": EXPIRES.isoformat(),
            }
            for photo_id in ids
        ]
        return httpx.Response(200, json={"photos": photos})


def _client(media: FakeMedia) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(media))


async def test_many_photos_are_asked_in_batches_media_accepts_each_id_once() -> None:
    media = FakeMedia()
    wanted = [f"p-{n}" for n in range(250)]
    async with _client(media) as http:
        lookup = PhotoLookupClient(http, "token", "http://media.internal:8002")
        found = await lookup.lookup("m", [*wanted, "p-0", "p-1"])

    assert [len(batch) for batch in media.calls] == [100, 100, 50]
    assert [photo.photo_id for photo in found] == wanted


async def test_links_are_made_absolute_on_medias_address_and_read_fully() -> None:
    async with _client(FakeMedia()) as http:
        lookup = PhotoLookupClient(http, "token", "http://media.internal:8002/")
        [photo] = await lookup.lookup("m", ["p-1"])

    assert photo.url == "http://media.internal:8002/p/p-1/full?sig=x"
    assert photo.thumbnail_url == "http://media.internal:8002/p/p-1/thumb?sig=x"
    assert (photo.merchant_id, photo.draft_id, photo.line_id) == ("m", "d-1", "1")
    assert photo.expires_at == EXPIRES


async def test_another_merchants_photo_is_never_given_back() -> None:
    async with _client(FakeMedia()) as http:
        found = await PhotoLookupClient(http, "token", "http://media").lookup(
            "m", ["p-1", "p-stranger"]
        )

    assert [photo.photo_id for photo in found] == ["p-1"]


async def test_no_photo_asks_nothing() -> None:
    media = FakeMedia()
    async with _client(media) as http:
        assert await PhotoLookupClient(http, "token", "http://media").lookup("m", []) == []
    assert media.calls == []


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_media_away_is_an_outage(status: int) -> None:
    async with _client(FakeMedia(status)) as http:
        with pytest.raises(PhotoLookupUnavailable):
            await PhotoLookupClient(http, "token", "http://media").lookup("m", ["p-1"])


async def test_a_refusal_is_a_failure_not_an_outage() -> None:
    async with _client(FakeMedia(401)) as http:
        with pytest.raises(PhotoLookupFailed) as raised:
            await PhotoLookupClient(http, "token", "http://media").lookup("m", ["p-1"])
    assert not isinstance(raised.value, PhotoLookupUnavailable)


async def test_nobody_listening_is_an_outage() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        with pytest.raises(PhotoLookupUnavailable):
            await PhotoLookupClient(http, "token", "http://media").lookup("m", ["p-1"])
