"""MongoDB storage of media: one document per photo, one per draft that received uploads.

Photos have their random id as `_id` and drafts a key made of merchant and draft ids: the hot
paths (upload, link, lookup) read by `_id`, the only reads FerretDB turns into SQL. A draft
document is written with optimistic concurrency on its `version`, so two uploads at once can
never both take the fifth slot of a line.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from returns_media.domain.model import DraftRef, DraftUploads, Photo, Slot

Document = dict[str, Any]

PHOTOS = "photos"
DRAFTS = "drafts"


class MongoPhotoStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.photos = database[PHOTOS]
        self.drafts = database[DRAFTS]

    async def create_indexes(self) -> None:
        # Production MongoDB needs them for GDPR erasure and the clean-up of idle drafts.
        await self.photos.create_index([("merchant_id", 1)])
        await self.drafts.create_index([("merchant_id", 1)])
        await self.drafts.create_index([("last_activity_at", 1)])

    # --- drafts ------------------------------------------------------------------------------

    async def get_draft(self, ref: DraftRef) -> DraftUploads | None:
        document = await self.drafts.find_one({"_id": ref.key})
        return None if document is None else _draft(document)

    async def save_draft(self, draft: DraftUploads) -> bool:
        document = _draft_document(draft, draft.version + 1)
        if draft.version == 0:
            try:
                await self.drafts.insert_one(document)
            except DuplicateKeyError:
                return False
        else:
            result = await self.drafts.replace_one(
                {"_id": draft.ref.key, "version": draft.version}, document
            )
            if result.matched_count != 1:
                return False
        draft.version += 1
        return True

    async def delete_draft(self, draft: DraftUploads, *, unless_changed: bool = True) -> bool:
        query: Document = {"_id": draft.ref.key}
        if unless_changed:
            query["version"] = draft.version
        result = await self.drafts.delete_one(query)
        return result.deleted_count == 1

    async def drafts_idle_since(self, cutoff: datetime, limit: int) -> list[DraftUploads]:
        cursor = self.drafts.find({"last_activity_at": {"$lt": cutoff}}).limit(limit)
        return [_draft(document) async for document in cursor]

    async def drafts_of_merchant(self, merchant_id: str, limit: int) -> list[DraftUploads]:
        cursor = self.drafts.find({"merchant_id": merchant_id}).limit(limit)
        return [_draft(document) async for document in cursor]

    # --- photos ------------------------------------------------------------------------------

    async def add_photo(self, photo: Photo) -> None:
        await self.photos.insert_one(_photo_document(photo))

    async def get_photo(self, photo_id: str) -> Photo | None:
        document = await self.photos.find_one({"_id": photo_id})
        return None if document is None else _photo(document)

    async def mark_kept(self, photo_id: str, return_id: str) -> None:
        await self.photos.update_one({"_id": photo_id}, {"$set": {"kept_for_return_id": return_id}})

    async def delete_photo(self, photo_id: str, *, unless_kept: bool) -> bool:
        query: Document = {"_id": photo_id}
        if unless_kept:
            query["kept_for_return_id"] = None
        result = await self.photos.delete_one(query)
        return result.deleted_count == 1

    async def photos_of_merchant(self, merchant_id: str, limit: int) -> list[Photo]:
        cursor = self.photos.find({"merchant_id": merchant_id}).limit(limit)
        return [_photo(document) async for document in cursor]


def _draft_document(draft: DraftUploads, version: int) -> Document:
    return {
        "_id": draft.ref.key,
        "merchant_id": draft.ref.merchant_id,
        "draft_id": draft.ref.draft_id,
        "created_at": draft.created_at,
        "last_activity_at": draft.last_activity_at,
        "slots": [
            {
                "photo_id": slot.photo_id,
                "line_id": slot.line_id,
                "full_key": slot.full_key,
                "thumbnail_key": slot.thumbnail_key,
                "reserved_at": slot.reserved_at,
            }
            for slot in draft.slots
        ],
        "recent_uploads": list(draft.recent_uploads),
        "submitted_return_id": draft.submitted_return_id,
        "version": version,
    }


def _draft(document: Document) -> DraftUploads:
    return DraftUploads(
        ref=DraftRef(document["merchant_id"], document["draft_id"]),
        created_at=document["created_at"],
        last_activity_at=document["last_activity_at"],
        slots=[
            Slot(
                photo_id=slot["photo_id"],
                line_id=slot["line_id"],
                full_key=slot["full_key"],
                thumbnail_key=slot["thumbnail_key"],
                reserved_at=slot["reserved_at"],
            )
            for slot in document.get("slots", [])
        ],
        recent_uploads=list(document.get("recent_uploads", [])),
        submitted_return_id=document.get("submitted_return_id"),
        version=int(document["version"]),
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
