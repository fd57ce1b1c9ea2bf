"""What the use cases need from the outside world; adapters and the test fakes provide it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import BinaryIO, Protocol

from returns_media.domain.model import DraftRef, DraftUploads, NormalisedImage, Photo, Slot


class PhotoStore(Protocol):
    async def get_draft(self, ref: DraftRef) -> DraftUploads | None: ...

    async def save_draft(self, draft: DraftUploads) -> None:
        """Create or overwrite (last writer wins: only the rate limit may overshoot a little)."""
        ...

    async def delete_draft(self, ref: DraftRef) -> None: ...

    async def drafts_idle_since(self, cutoff: datetime, limit: int) -> list[DraftUploads]: ...

    async def drafts_of_merchant(self, merchant_id: str, limit: int) -> list[DraftUploads]: ...

    async def claim_place(self, ref: DraftRef, slot: Slot, per_line: int) -> bool:
        """Take one of the `per_line` places of the slot's line, atomically; False if all are
        taken. Two concurrent uploads can never both get the last place."""
        ...

    async def release_place(
        self, ref: DraftRef, line_id: str, photo_id: str, per_line: int
    ) -> None: ...

    async def places_of_draft(self, ref: DraftRef) -> list[Slot]: ...

    async def forget_places_of_merchant(self, merchant_id: str) -> None: ...

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
