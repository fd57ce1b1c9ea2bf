"""The one client of media's internal photo lookup (docs/service-interfaces.md, "Media").

`POST /internal/v1/photos/lookup` answers at most `PHOTO_LOOKUP_BATCH` ids per call; this client
asks in batches of that size, each id once, so a caller may pass as many ids as a return holds.
Media's photos of another merchant are dropped here too: a leak across merchants must not
happen even if media answered one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import httpx

from returns_contracts.service_kit.access import INTERNAL_TOKEN_HEADER

PHOTO_LOOKUP_BATCH = 100
"""The most ids one lookup may carry; media refuses more (422)."""

PHOTO_LOOKUP_PATH = "/internal/v1/photos/lookup"

# Answers that say media is away (a proxy in front of it, a restart), not that the ask is bad.
_OUTAGE_STATUSES = frozenset({502, 503, 504})


class PhotoLookupFailed(Exception):
    """Media answered the lookup with an error, or with an answer this client cannot read."""


class PhotoLookupUnavailable(PhotoLookupFailed):
    """Media does not answer (connection refused, timeout, 502/503/504): an outage."""


@dataclass(frozen=True, slots=True)
class FoundPhoto:
    """One photo of the lookup's answer; links are absolute when the client has a base URL."""

    photo_id: str
    merchant_id: str
    draft_id: str
    line_id: str | None
    url: str | None
    thumbnail_url: str | None
    expires_at: datetime | None


class PhotoLookupClient:
    """Media's photo lookup over the process's one httpx client.

    `base_url`: media's address, for a client without one (links in the answer are made
    absolute on it); empty when the httpx client already has media as its base URL.
    """

    def __init__(self, client: httpx.AsyncClient, internal_token: str, base_url: str = "") -> None:
        self._client = client
        self._token = internal_token
        self._base_url = base_url.rstrip("/")

    @property
    def url(self) -> str:
        return f"{self._base_url}{PHOTO_LOOKUP_PATH}"

    async def lookup(self, merchant_id: str, photo_ids: Sequence[str]) -> list[FoundPhoto]:
        """The known photos of `merchant_id` among `photo_ids`, in the order asked."""
        unique = list(dict.fromkeys(photo_ids))
        found: list[FoundPhoto] = []
        for start in range(0, len(unique), PHOTO_LOOKUP_BATCH):
            batch = unique[start : start + PHOTO_LOOKUP_BATCH]
            found.extend(await self._lookup(merchant_id, batch))
        return found

    async def _lookup(self, merchant_id: str, photo_ids: list[str]) -> list[FoundPhoto]:
        url = self.url
        try:
            response = await self._client.post(
                url,
                json={"merchant_id": merchant_id, "photo_ids": photo_ids},
                headers={INTERNAL_TOKEN_HEADER: self._token},
            )
        except httpx.TransportError as error:
            raise PhotoLookupUnavailable(f"media at {url} does not answer: {error!r}") from error
        if response.status_code in _OUTAGE_STATUSES:
            raise PhotoLookupUnavailable(
                f"media photo lookup at {url}: HTTP {response.status_code}"
            )
        if response.is_error:
            raise PhotoLookupFailed(f"media photo lookup at {url}: HTTP {response.status_code}")
        try:
            entries: list[dict[str, Any]] = response.json()["photos"]
            return [
                self._photo(entry) for entry in entries if str(entry["merchant_id"]) == merchant_id
            ]
        except (ValueError, KeyError, TypeError) as error:
            raise PhotoLookupFailed(f"media photo lookup at {url}: {error!r}") from error

    def _photo(self, entry: dict[str, Any]) -> FoundPhoto:
        expires_at = entry.get("expires_at")
        line_id = entry.get("line_id")
        return FoundPhoto(
            photo_id=str(entry["photo_id"]),
            merchant_id=str(entry["merchant_id"]),
            draft_id=str(entry["draft_id"]),
            line_id=None if line_id is None else str(line_id),
            url=self._absolute(entry.get("url")),
            thumbnail_url=self._absolute(entry.get("thumbnail_url")),
            expires_at=None if expires_at is None else datetime.fromisoformat(expires_at),
        )

    def _absolute(self, link: object) -> str | None:
        # Links may come relative to media; e-mails need them absolute.
        if link is None:
            return None
        return urljoin(f"{self._base_url}/", str(link)) if self._base_url else str(link)
