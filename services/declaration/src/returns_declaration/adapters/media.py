"""Media's internal photo lookup over HTTP (docs/service-interfaces.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from returns_declaration.service.ports import Photo, PhotoCatalogUnavailable

INTERNAL_TOKEN_HEADER = "X-Internal-Token"


class MediaPhotoCatalog:
    def __init__(self, client: httpx.AsyncClient, internal_api_token: str) -> None:
        # One client for the process, created at start-up: connections are reused.
        self.client = client
        self.internal_api_token = internal_api_token

    async def lookup(self, merchant_id: str, photo_ids: Sequence[str]) -> list[Photo]:
        if not photo_ids:
            return []
        try:
            response = await self.client.post(
                "/internal/v1/photos/lookup",
                json={"merchant_id": merchant_id, "photo_ids": list(photo_ids)},
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
