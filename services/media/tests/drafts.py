"""One draft return of one fresh merchant, and how to upload to it."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from returns_media.service.use_cases import merchant_prefix

from .process import MediaProcess


class Draft:
    """One draft return of one fresh merchant, with its token."""

    def __init__(self, media: MediaProcess, merchant_id: str | None = None) -> None:
        self.media = media
        self.merchant_id = merchant_id or f"shop-{uuid.uuid4().hex[:8]}"
        self.draft_id = f"draft-{uuid.uuid4().hex[:8]}"
        self.token = media.draft_token(self.merchant_id, self.draft_id)
        self.http = httpx.Client(base_url=media.url, timeout=60)

    @property
    def photos_path(self) -> str:
        return f"/v1/merchants/{self.merchant_id}/drafts/{self.draft_id}/photos"

    def upload(
        self,
        data: bytes,
        filename: str = "photo.jpg",
        content_type: str = "image/jpeg",
        line_id: str = "1",
        token: str | None = None,
    ) -> httpx.Response:
        return self.http.post(
            self.photos_path,
            params={"line_id": line_id},
            files={"file": (filename, data, content_type)},
            headers={"Authorization": f"Bearer {token or self.token}"},
        )

    def objects(self) -> list[str]:
        return self.media.object_keys(merchant_prefix(self.merchant_id))


def error_of(response: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = response.json()["error"]
    assert error["message"], "every error says what went wrong"
    return error
