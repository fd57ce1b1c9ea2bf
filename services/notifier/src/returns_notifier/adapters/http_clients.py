"""What the notifier asks other services over HTTP: photo links from media, label PDFs from labels.

Both share the process's one httpx client. A service that does not answer (connection refused,
timeout, 502/503/504) is an outage, raised as `DependencyUnavailable` so the consumer waits for it
instead of spending the message's attempts; any other error answer is the message's problem.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from returns_contracts.service_kit.photos import PhotoLookupClient, PhotoLookupUnavailable
from returns_notifier.domain.model import PhotoLink
from returns_notifier.service.errors import DependencyUnavailable, LabelGone, LabelLinkRefused

_OUTAGE_STATUSES = frozenset({502, 503, 504})
# A label is a page or two; anything bigger is not one, and must not fill the mail server.
MAX_LABEL_BYTES = 10 * 1024 * 1024
MAX_THUMBNAIL_BYTES = 2 * 1024 * 1024
# What every common mail client shows inline; anything else stays a link.
INLINE_IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code in _OUTAGE_STATUSES:
        raise DependencyUnavailable(f"{what}: HTTP {response.status_code}")
    response.raise_for_status()


class MediaPhotoDirectory:
    """Media's photo lookup (the kit's batched client), links made absolute for e-mails."""

    def __init__(self, client: httpx.AsyncClient, base_url: str, internal_token: str) -> None:
        self._client = client
        self._lookup = PhotoLookupClient(client, internal_token, base_url)

    async def lookup(self, merchant_id: str, photo_ids: Sequence[str]) -> dict[str, PhotoLink]:
        try:
            found = await self._lookup.lookup(merchant_id, photo_ids)
        except PhotoLookupUnavailable as error:
            raise DependencyUnavailable(str(error)) from error
        return {
            photo.photo_id: PhotoLink(
                photo_id=photo.photo_id,
                url=str(photo.url),
                thumbnail_url=str(photo.thumbnail_url),
                expires_at=photo.expires_at,
            )
            for photo in found
        }

    async def thumbnail(self, photo: PhotoLink) -> tuple[str, bytes] | None:
        try:
            data, content_type = await _download(
                self._client, photo.thumbnail_url, MAX_THUMBNAIL_BYTES, "media thumbnail"
            )
        except httpx.HTTPStatusError:
            return None  # expired or deleted since the lookup: the link is all we can give
        return (content_type, data) if content_type in INLINE_IMAGE_TYPES else None


async def _download(
    client: httpx.AsyncClient, url: str, limit: int, what: str
) -> tuple[bytes, str]:
    """The body and content type at `url`, refusing more than `limit` bytes."""
    try:
        async with client.stream("GET", url) as response:
            _check(response, f"{what} at {url}")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise ValueError(f"the {what} at {url} is larger than {limit} bytes")
                chunks.append(chunk)
            content_type = response.headers.get("content-type", "").split(";")[0].strip()
    except httpx.TransportError as error:
        raise DependencyUnavailable(f"{what} at {url} does not answer: {error!r}") from error
    return b"".join(chunks), content_type.lower()


class HttpLabelFiles:
    """Downloads the signed label link of `LabelGenerated.download_url` from labels only."""

    def __init__(self, client: httpx.AsyncClient, labels_base_url: str) -> None:
        self._client = client
        self._base_url = labels_base_url.rstrip("/") + "/"

    async def download(self, url: str) -> bytes:
        # A message must not make the notifier fetch any URL it names.
        if not url.startswith(self._base_url):
            raise LabelLinkRefused(
                f"label link {url} is not on the labels service ({self._base_url})"
            )
        try:
            data, _ = await _download(self._client, url, MAX_LABEL_BYTES, "label")
        except httpx.HTTPStatusError as error:
            if error.response.status_code in (404, 410):
                raise LabelGone(
                    f"label link {url} answers {error.response.status_code}: the label was "
                    "voided by a regeneration, or the link expired"
                ) from error
            raise
        return data
