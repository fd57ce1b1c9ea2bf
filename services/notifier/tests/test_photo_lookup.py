"""The notifier asks media for a return's photos in batches media accepts (defect: it asked for
all of them at once, and media refuses more than 100 ids, so a return with more photos never got
its customer-service e-mail)."""

from __future__ import annotations

import json

import httpx

from returns_contracts.service_kit.photos import PHOTO_LOOKUP_BATCH
from returns_notifier.adapters.http_clients import MediaPhotoDirectory


def _media(calls: list[int]) -> httpx.MockTransport:
    """Media's lookup: more ids than it takes is a 422, as its request model says."""

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        calls.append(len(body["photo_ids"]))
        if len(body["photo_ids"]) > PHOTO_LOOKUP_BATCH:
            return httpx.Response(422, json={"error": {"code": "validation_failed"}})
        return httpx.Response(
            200,
            json={
                "photos": [
                    {
                        "photo_id": photo_id,
                        "merchant_id": body["merchant_id"],
                        "draft_id": "d-1",
                        "line_id": "1",
                        "url": f"/p/{photo_id}/full",
                        "thumbnail_url": f"/p/{photo_id}/thumb",
                        "expires_at": "2026-12-31T00:00:00+00:00",
                    }
                    for photo_id in body["photo_ids"]
                ]
            },
        )

    return httpx.MockTransport(answer)


async def test_a_return_with_more_photos_than_one_lookup_takes_gets_them_all() -> None:
    calls: list[int] = []
    wanted = [f"p-{n}" for n in range(PHOTO_LOOKUP_BATCH + 30)]
    async with httpx.AsyncClient(transport=_media(calls)) as http:
        directory = MediaPhotoDirectory(http, "http://media.internal:8002", "token")
        photos = await directory.lookup("m-atelier", wanted)

    assert sorted(photos) == sorted(wanted)
    assert photos["p-7"].url == "http://media.internal:8002/p/p-7/full"
    assert all(size <= PHOTO_LOOKUP_BATCH for size in calls)
