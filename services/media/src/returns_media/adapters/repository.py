"""MongoDB storage of media: photos, drafts, and the places of photos on a draft's lines.

Photos have their random id as `_id`, drafts a key made of merchant and draft ids: the hot paths
(upload, link, lookup) read by `_id`, the only reads FerretDB turns into SQL.

FerretDB v1 checks the non-`_id` part of an update's filter in Go, between reading and writing,
so a conditional update is not atomic there (measured: several concurrent `replace_one`s with the
same version filter all matched). Creating a document whose `_id` exists is refused atomically,
though. So the rule that needs atomicity, at most N photos per line, is kept with one document
per place, `_id` = [merchant, draft, line, n]: taking a place is inserting it.

The consumer handles a batch's returns side by side: their `_id` reads of photos and drafts,
and the marks of kept photos, go through the kit's grouped helpers (one command for those in
flight at once).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from returns_contracts.service_kit.mongo import GroupedReads, GroupedUpdates
from returns_media.domain.model import DraftRef, DraftUploads, Photo, Slot

Document = dict[str, Any]

PHOTOS = "photos"
DRAFTS = "drafts"
PLACES = "places"


def place_id(ref: DraftRef, line_id: str, number: int) -> str:
    # JSON of the parts: unambiguous whatever characters the ids hold.
    return json.dumps([ref.merchant_id, ref.draft_id, line_id, number], separators=(",", ":"))


class MongoPhotoStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.photos = database[PHOTOS]
        self.drafts = database[DRAFTS]
        self.places = database[PLACES]
        self._draft_reads = GroupedReads(self.drafts)
        self._photo_reads = GroupedReads(self.photos)
        self._photo_updates = GroupedUpdates(self.photos)

    async def create_indexes(self) -> None:
        # Production MongoDB needs them for GDPR erasure and the clean-up of idle drafts.
        await self.photos.create_index([("merchant_id", 1)])
        await self.drafts.create_index([("merchant_id", 1)])
        await self.drafts.create_index([("last_activity_at", 1)])
        await self.places.create_index([("merchant_id", 1), ("draft_id", 1)])

    # --- drafts ------------------------------------------------------------------------------

    async def get_draft(self, ref: DraftRef) -> DraftUploads | None:
        document = await self._draft_reads.find_one(ref.key)
        return None if document is None else _draft(document)

    async def save_draft(self, draft: DraftUploads) -> None:
        document = _draft_document(draft)
        try:
            await self.drafts.replace_one({"_id": draft.ref.key}, document, upsert=True)
        except DuplicateKeyError:
            # Two first uploads of a draft both tried to create it: it exists now.
            await self.drafts.replace_one({"_id": draft.ref.key}, document)

    async def delete_draft(self, ref: DraftRef) -> None:
        await self.drafts.delete_one({"_id": ref.key})

    async def drafts_idle_since(self, cutoff: datetime, limit: int) -> list[DraftUploads]:
        cursor = self.drafts.find({"last_activity_at": {"$lt": cutoff}}).limit(limit)
        return [_draft(document) async for document in cursor]

    async def drafts_of_merchant(self, merchant_id: str, limit: int) -> list[DraftUploads]:
        cursor = self.drafts.find({"merchant_id": merchant_id}).limit(limit)
        return [_draft(document) async for document in cursor]

    # --- places ------------------------------------------------------------------------------

    async def claim_place(self, ref: DraftRef, slot: Slot, per_line: int) -> bool:
        document = {
            "merchant_id": ref.merchant_id,
            "draft_id": ref.draft_id,
            "line_id": slot.line_id,
            "photo_id": slot.photo_id,
            "full_key": slot.full_key,
            "thumbnail_key": slot.thumbnail_key,
            "reserved_at": slot.reserved_at,
        }
        for number in range(1, per_line + 1):
            try:
                await self.places.insert_one(
                    {"_id": place_id(ref, slot.line_id, number), **document}
                )
            except DuplicateKeyError:
                continue
            return True
        return False

    async def release_place(
        self, ref: DraftRef, line_id: str, photo_id: str, per_line: int
    ) -> None:
        # By `_id`, so that no scan is needed; a place never changes once taken.
        for number in range(1, per_line + 1):
            await self.places.delete_one(
                {"_id": place_id(ref, line_id, number), "photo_id": photo_id}
            )

    async def places_of_draft(self, ref: DraftRef) -> list[Slot]:
        cursor = self.places.find({"merchant_id": ref.merchant_id, "draft_id": ref.draft_id})
        return [_slot(document) async for document in cursor]

    async def forget_places_of_merchant(self, merchant_id: str) -> None:
        await self.places.delete_many({"merchant_id": merchant_id})

    # --- photos ------------------------------------------------------------------------------

    async def add_photo(self, photo: Photo) -> None:
        await self.photos.insert_one(_photo_document(photo))

    async def get_photo(self, photo_id: str) -> Photo | None:
        document = await self._photo_reads.find_one(photo_id)
        return None if document is None else _photo(document)

    async def mark_kept(self, photo_id: str, return_id: str) -> None:
        await self._photo_updates.update_one(
            {"_id": photo_id}, {"$set": {"kept_for_return_id": return_id}}
        )

    async def delete_photo(self, photo_id: str, *, unless_kept: bool) -> bool:
        query: Document = {"_id": photo_id}
        if unless_kept:
            query["kept_for_return_id"] = None
        result = await self.photos.delete_one(query)
        return result.deleted_count == 1

    async def photos_of_merchant(self, merchant_id: str, limit: int) -> list[Photo]:
        cursor = self.photos.find({"merchant_id": merchant_id}).limit(limit)
        return [_photo(document) async for document in cursor]


def _draft_document(draft: DraftUploads) -> Document:
    return {
        "_id": draft.ref.key,
        "merchant_id": draft.ref.merchant_id,
        "draft_id": draft.ref.draft_id,
        "created_at": draft.created_at,
        "last_activity_at": draft.last_activity_at,
        "recent_uploads": list(draft.recent_uploads),
        "submitted_return_id": draft.submitted_return_id,
    }


def _draft(document: Document) -> DraftUploads:
    return DraftUploads(
        ref=DraftRef(document["merchant_id"], document["draft_id"]),
        created_at=document["created_at"],
        last_activity_at=document["last_activity_at"],
        recent_uploads=list(document.get("recent_uploads", [])),
        submitted_return_id=document.get("submitted_return_id"),
    )


def _slot(document: Document) -> Slot:
    return Slot(
        photo_id=document["photo_id"],
        line_id=document["line_id"],
        full_key=document["full_key"],
        thumbnail_key=document["thumbnail_key"],
        reserved_at=document["reserved_at"],
    )


_PHOTO_FIELDS = (
    "merchant_id",
    "draft_id",
    "line_id",
    "content_type",
    "width",
    "height",
    "size_bytes",
    "sha256",
    "full_key",
    "thumbnail_key",
    "thumbnail_size_bytes",
    "source_format",
    "original_size_bytes",
    "original_sha256",
    "created_at",
    "kept_for_return_id",
)


def _photo_document(photo: Photo) -> Document:
    return {"_id": photo.photo_id, **{name: getattr(photo, name) for name in _PHOTO_FIELDS}}


def _photo(document: Document) -> Photo:
    fields: dict[str, Any] = {name: document.get(name) for name in _PHOTO_FIELDS}
    return Photo(photo_id=document["_id"], **fields)
