"""Media's internal photo lookup over HTTP (docs/service-interfaces.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from returns_declaration.service.ports import Photo, PhotoCatalogUnavailable

INTERNAL_TOKEN_HEADER = "X-Internal-Token"
# Media answers at most this many ids per lookup.
LOOKUP_BATCH = 100


class MediaPhotoCatalog:
    def __init__(self, client: httpx.AsyncClient, internal_api_token: str) -> None:
        # One client for the process, created at start-up: connections are reused.
        self.client = client
        self.internal_api_token = internal_api_token

    async def lookup(self, merchant_id: str, photo_ids: Sequence[str]) -> list[Photo]:
        photos: list[Photo] = []
        unique = list(dict.fromkeys(photo_ids))
        for start in range(0, len(unique), LOOKUP_BATCH):
            photos.extend(await self._lookup(merchant_id, unique[start : start + LOOKUP_BATCH]))
        return photos

    async def _lookup(self, merchant_id: str, photo_ids: list[str]) -> list[Photo]:
        try:
            response = await self.client.post(
                "/internal/v1/photos/lookup",
                json={"merchant_id": merchant_id, "photo_ids": photo_ids},
                headers={INTERNAL_TOKEN_HEADER: self.internal_api_token},
            )
            response.raise_for_status()
            found: list[dict[str, Any]] = response.json()["photos"]
        except (httpx.HTTPError, KeyError, ValueError) as error:
            raise PhotoCatalogUnavailable(str(error)) from error
        return [
            Photo(
                photo_id=str(photo["photo_id"]),
                merchant_id=str(photo["merchant_id"]),
                draft_id=str(photo["draft_id"]),
                line_id=photo.get("line_id"),
                url=photo.get("url"),
                thumbnail_url=photo.get("thumbnail_url"),
            )
            for photo in found
        ]
