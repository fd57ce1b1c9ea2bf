"""What the use cases need from the outside world; adapters and the test fakes provide it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import BinaryIO, Protocol

from returns_media.domain.model import DraftRef, DraftUploads, NormalisedImage, Photo


class PhotoStore(Protocol):
    async def get_draft(self, ref: DraftRef) -> DraftUploads | None: ...

    async def save_draft(self, draft: DraftUploads) -> bool:
        """Write the draft if nobody changed it since it was read (its `version`); False if
        somebody did. On success the draft's version is the stored one."""
        ...

    async def delete_draft(self, draft: DraftUploads, *, unless_changed: bool = True) -> bool: ...

    async def drafts_idle_since(self, cutoff: datetime, limit: int) -> list[DraftUploads]: ...

    async def drafts_of_merchant(self, merchant_id: str, limit: int) -> list[DraftUploads]: ...

    async def add_photo(self, photo: Photo) -> None: ...

    async def get_photo(self, photo_id: str) -> Photo | None: ...

    async def mark_kept(self, photo_id: str, return_id: str) -> None: ...

    async def delete_photo(self, photo_id: str, *, unless_kept: bool) -> bool:
        """Delete the metadata; False if it was not there (or kept, with `unless_kept`)."""
        ...

    async def photos_of_merchant(self, merchant_id: str, limit: int) -> list[Photo]: ...


class ObjectStore(Protocol):
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    async def get(self, key: str) -> bytes | None: ...

    async def remove(self, keys: Iterable[str]) -> None: ...

    async def remove_under(self, prefix: str) -> int: ...


class ImageNormaliser(Protocol):
    async def normalise(self, source: BinaryIO) -> NormalisedImage:
        """Validate and normalise; raise UnsupportedImage, BrokenImage or TooManyPixels."""
        ...
