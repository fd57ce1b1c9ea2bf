"""In-memory stand-ins for the ports, for unit tests of the use cases only."""

from __future__ import annotations

import copy
import hashlib
import io
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import BinaryIO

from returns_contracts.service_kit.testing import FakeClock
from returns_contracts.signing import issue_draft_token
from returns_media.domain.model import (
    DraftRef,
    DraftUploads,
    NormalisedImage,
    Photo,
    Slot,
    UploadLimits,
)
from returns_media.service.links import LinkSigner
from returns_media.service.use_cases import MediaService, ReceivedFile

SECRET = "unit-portal-secret"
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class FakeStore:
    def __init__(self) -> None:
        self.drafts: dict[str, DraftUploads] = {}
        self.places: dict[tuple[DraftRef, str], list[Slot]] = {}
        self.photos: dict[str, Photo] = {}

    async def get_draft(self, ref: DraftRef) -> DraftUploads | None:
        stored = self.drafts.get(ref.key)
        return copy.deepcopy(stored) if stored else None

    async def save_draft(self, draft: DraftUploads) -> None:
        self.drafts[draft.ref.key] = copy.deepcopy(draft)

    async def delete_draft(self, ref: DraftRef) -> None:
        self.drafts.pop(ref.key, None)

    async def drafts_idle_since(self, cutoff: datetime, limit: int) -> list[DraftUploads]:
        idle = [d for d in self.drafts.values() if d.last_activity_at < cutoff]
        return copy.deepcopy(idle[:limit])

    async def drafts_of_merchant(self, merchant_id: str, limit: int) -> list[DraftUploads]:
        mine = [d for d in self.drafts.values() if d.ref.merchant_id == merchant_id]
        return copy.deepcopy(mine[:limit])

    async def claim_place(self, ref: DraftRef, slot: Slot, per_line: int) -> bool:
        taken = self.places.setdefault((ref, slot.line_id), [])
        if len(taken) >= per_line:
            return False
        taken.append(slot)
        return True

    async def release_place(
        self, ref: DraftRef, line_id: str, photo_id: str, per_line: int
    ) -> None:
        taken = self.places.get((ref, line_id), [])
        taken[:] = [slot for slot in taken if slot.photo_id != photo_id]

    async def places_of_draft(self, ref: DraftRef) -> list[Slot]:
        return [slot for (owner, _), slots in self.places.items() if owner == ref for slot in slots]

    async def forget_places_of_merchant(self, merchant_id: str) -> None:
        for owner, _ in list(self.places):
            if owner.merchant_id == merchant_id:
                del self.places[(owner, _)]

    def place_count(self) -> int:
        return sum(len(slots) for slots in self.places.values())

    async def add_photo(self, photo: Photo) -> None:
        assert photo.photo_id not in self.photos
        self.photos[photo.photo_id] = photo

    async def get_photo(self, photo_id: str) -> Photo | None:
        return self.photos.get(photo_id)

    async def mark_kept(self, photo_id: str, return_id: str) -> None:
        if photo_id in self.photos:
            self.photos[photo_id] = replace(self.photos[photo_id], kept_for_return_id=return_id)

    async def delete_photo(self, photo_id: str, *, unless_kept: bool) -> bool:
        photo = self.photos.get(photo_id)
        if photo is None or (unless_kept and photo.kept_for_return_id is not None):
            return False
        del self.photos[photo_id]
        return True

    async def photos_of_merchant(self, merchant_id: str, limit: int) -> list[Photo]:
        return [p for p in self.photos.values() if p.merchant_id == merchant_id][:limit]


class FakeObjects:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.fail_puts = False

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        if self.fail_puts:
            raise ConnectionError("S3 went away")
        self.objects[key] = data

    async def get(self, key: str) -> bytes | None:
        return self.objects.get(key)

    async def remove(self, keys: Iterable[str]) -> None:
        for key in keys:
            self.objects.pop(key, None)

    async def remove_under(self, prefix: str) -> int:
        doomed = [key for key in self.objects if key.startswith(prefix)]
        await self.remove(doomed)
        return len(doomed)


class FakeNormaliser:
    def __init__(self) -> None:
        self.error: Exception | None = None

    async def normalise(self, source: BinaryIO) -> NormalisedImage:
        if self.error is not None:
            raise self.error
        full = b"full-jpeg-" + source.read()
        return NormalisedImage(
            full=full,
            full_sha256=hashlib.sha256(full).hexdigest(),
            thumbnail=b"thumb",
            content_type="image/jpeg",
            width=30,
            height=40,
            source_format="PNG",
        )


class World:
    """A MediaService wired to fakes, and the fakes to look into."""

    def __init__(self) -> None:
        self.store = FakeStore()
        self.objects = FakeObjects()
        self.normaliser = FakeNormaliser()
        self.clock = FakeClock(T0)
        self.service = MediaService(
            store=self.store,
            objects=self.objects,
            normaliser=self.normaliser,
            signer=LinkSigner("unit-link-secret", "https://media.example", timedelta(days=30)),
            limits=UploadLimits(5, 10, timedelta(minutes=10)),
            portal_token_secret=SECRET,
            draft_retention=timedelta(hours=48),
            clock=self.clock,
        )

    def token(self, merchant_id: str, draft_id: str) -> str:
        return issue_draft_token(SECRET, merchant_id, draft_id, self.clock() + timedelta(hours=1))

    async def upload(self, ref: DraftRef, line_id: str = "1", data: bytes = b"px") -> Photo:
        async def receive() -> ReceivedFile:
            return ReceivedFile(io.BytesIO(data), len(data), "sha-of-original")

        return (await self.service.upload(ref, line_id, receive)).photo
