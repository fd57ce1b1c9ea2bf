"""Media's internal photo lookup over HTTP (docs/service-interfaces.md)."""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from returns_contracts.service_kit.photos import PhotoLookupClient, PhotoLookupFailed
from returns_declaration.service.errors import PhotoCatalogUnavailable, PhotoRefused
from returns_declaration.service.ports import Photo, UploadedPhoto


class MediaPhotoCatalog:
    """Media's photo lookup through the kit's batched client; `client` has media as base URL
    (one client for the process, created at start-up: connections are reused)."""

    def __init__(self, client: httpx.AsyncClient, internal_api_token: str) -> None:
        self._lookup = PhotoLookupClient(client, internal_api_token)

    async def lookup(self, merchant_id: str, photo_ids: Sequence[str]) -> list[Photo]:
        try:
            found = await self._lookup.lookup(merchant_id, photo_ids)
        except PhotoLookupFailed as error:
            raise PhotoCatalogUnavailable(str(error)) from error
        return [
            Photo(
                photo_id=photo.photo_id,
                merchant_id=photo.merchant_id,
                draft_id=photo.draft_id,
                line_id=photo.line_id,
                url=photo.url,
                thumbnail_url=photo.thumbnail_url,
            )
            for photo in found
        ]


class MediaPhotoUploader:
    """The portal's form posts photos here; they go on to media's upload with the draft token,
    exactly as a browser with JavaScript would send them (docs/service-interfaces.md)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def upload(
        self,
        merchant_id: str,
        draft_id: str,
        draft_token: str,
        line_id: str,
        filename: str,
        content: bytes,
        content_type: str,
    ) -> UploadedPhoto:
        try:
            response = await self.client.post(
                f"/v1/merchants/{merchant_id}/drafts/{draft_id}/photos",
                params={"line_id": line_id},
                files={"file": (filename or "photo", content, content_type)},
                headers={"Authorization": f"Bearer {draft_token}"},
                # A phone photo of several MB on a slow link takes longer than a lookup.
                timeout=60.0,
            )
        except httpx.HTTPError as error:
            raise PhotoCatalogUnavailable(str(error)) from error
        _raise_for_refusal(response)
        answer = response.json()
        return UploadedPhoto(str(answer["photo_id"]), answer.get("thumbnail_url"))

    async def remove(
        self, merchant_id: str, draft_id: str, draft_token: str, photo_id: str
    ) -> None:
        """The customer takes back a photo before submitting."""
        try:
            response = await self.client.delete(
                f"/v1/merchants/{merchant_id}/drafts/{draft_id}/photos/{photo_id}",
                headers={"Authorization": f"Bearer {draft_token}"},
            )
        except httpx.HTTPError as error:
            raise PhotoCatalogUnavailable(str(error)) from error
        _raise_for_refusal(response)


def _raise_for_refusal(response: httpx.Response) -> None:
    if response.status_code >= 500:
        raise PhotoCatalogUnavailable(f"media answered {response.status_code}")
    if response.is_error:
        try:
            code = str(response.json()["error"]["code"])
        except (ValueError, KeyError, TypeError):
            code = "refused"
        raise PhotoRefused(response.status_code, code)
