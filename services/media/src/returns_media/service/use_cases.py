"""The media use cases, against the ports: no Pillow, S3 or MongoDB in here."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from returns_contracts import CustomerAnswered, ReturnSubmitted
from returns_contracts.service_kit.clock import Clock, utc_now
from returns_contracts.signing import InvalidToken, read_draft_token
from returns_media.domain.errors import NotAuthorized, NotFound, PhotoKept
from returns_media.domain.model import (
    DraftRef,
    DraftUploads,
    Photo,
    Slot,
    UploadLimits,
    Variant,
    too_many_photos,
)
from returns_media.service.links import LINK_GONE, LinkSigner, PhotoLinks
from returns_media.service.ports import ImageNormaliser, ObjectStore, PhotoStore

logger = logging.getLogger(__name__)

PAGE = 200


def new_photo_id() -> str:
    # 192 random bits: a photo id can be neither guessed nor enumerated.
    return secrets.token_urlsafe(24)


def merchant_prefix(merchant_id: str) -> str:
    """Every object of a merchant lives under one prefix, so GDPR erasure misses none."""
    return f"merchants/{hashlib.sha256(merchant_id.encode()).hexdigest()[:32]}/"


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    """The uploaded bytes as they arrived, counted and hashed while streaming."""

    file: BinaryIO
    size_bytes: int
    sha256: str


Receive = Callable[[], Awaitable[ReceivedFile]]


@dataclass(frozen=True, slots=True)
class PhotoView:
    photo: Photo
    links: PhotoLinks


class MediaService:
    def __init__(
        self,
        *,
        store: PhotoStore,
        objects: ObjectStore,
        normaliser: ImageNormaliser,
        signer: LinkSigner,
        limits: UploadLimits,
        portal_token_secret: str,
        draft_retention: timedelta,
        clock: Clock = utc_now,
        new_id: Callable[[], str] = new_photo_id,
    ) -> None:
        self._store = store
        self._objects = objects
        self._normaliser = normaliser
        self._signer = signer
        self._limits = limits
        self._portal_token_secret = portal_token_secret
        self._draft_retention = draft_retention
        self._clock = clock
        self._new_id = new_id

    # --- the customer, holding a draft token ---------------------------------------------

    def authorize(self, authorization: str | None, merchant_id: str, draft_id: str) -> DraftRef:
        """The draft the bearer token proves, if it is the one in the path."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise NotAuthorized(
                "Uploading a photo needs the draft token of your return "
                "(header Authorization: Bearer <token>)."
            )
        try:
            claim = read_draft_token(self._portal_token_secret, token.strip(), self._clock())
        except InvalidToken as error:
            raise NotAuthorized(
                "Your return session is not valid or has expired; please start again."
            ) from error
        if (claim.merchant_id, claim.draft_id) != (merchant_id, draft_id):
            raise NotAuthorized("This token is for another return; please start again.")
        return DraftRef(merchant_id, draft_id)

    async def upload(self, ref: DraftRef, line_id: str, receive: Receive) -> PhotoView:
        """Reserve a slot (limits first, before reading a byte), then receive, check, store."""
        prefix = merchant_prefix(ref.merchant_id)
        now = self._clock()
        object_id = secrets.token_urlsafe(24)
        slot = Slot(
            photo_id=self._new_id(),
            line_id=line_id,
            full_key=f"{prefix}{object_id}/full.jpg",
            thumbnail_key=f"{prefix}{object_id}/thumb.jpg",
            reserved_at=now,
        )
        started = time.perf_counter()
        draft = await self._store.get_draft(ref) or DraftUploads.new(ref, now)
        draft.admit(now, self._limits)
        await self._store.save_draft(draft)
        if not await self._store.claim_place(ref, slot, self._limits.photos_per_line):
            raise too_many_photos(self._limits)
        try:
            reserved = time.perf_counter()
            received = await receive()
            arrived = time.perf_counter()
            image = await self._normaliser.normalise(received.file)
            normalised = time.perf_counter()
            await self._objects.put(slot.full_key, image.full, image.content_type)
            await self._objects.put(slot.thumbnail_key, image.thumbnail, image.content_type)
            photo = Photo(
                photo_id=slot.photo_id,
                merchant_id=ref.merchant_id,
                draft_id=ref.draft_id,
                line_id=line_id,
                content_type=image.content_type,
                width=image.width,
                height=image.height,
                size_bytes=len(image.full),
                sha256=image.full_sha256,
                full_key=slot.full_key,
                thumbnail_key=slot.thumbnail_key,
                thumbnail_size_bytes=len(image.thumbnail),
                source_format=image.source_format,
                original_size_bytes=received.size_bytes,
                original_sha256=received.sha256,
                created_at=self._clock(),
            )
            await self._store.add_photo(photo)
        except BaseException:
            # Refused or failed: nothing of it stays, neither its objects nor its slot.
            await asyncio.shield(self._release(ref, slot))
            raise
        logger.info(
            "photo stored",
            extra={
                "merchant_id": ref.merchant_id,
                "draft_id": ref.draft_id,
                "photo_id": photo.photo_id,
                "source_format": photo.source_format,
                "original_size_bytes": photo.original_size_bytes,
                "reserve_ms": round((reserved - started) * 1000),
                "receive_ms": round((arrived - reserved) * 1000),
                "normalise_ms": round((normalised - arrived) * 1000),
                "store_ms": round((time.perf_counter() - normalised) * 1000),
            },
        )
        return self._view(photo)

    async def remove(self, ref: DraftRef, photo_id: str) -> None:
        """The customer takes a photo back before submitting."""
        photo = await self._store.get_photo(photo_id)
        if photo is None or photo.draft != ref:
            raise NotFound("There is no such photo in this return.")
        if photo.kept_for_return_id is not None or not await self._store.delete_photo(
            photo_id, unless_kept=True
        ):
            raise PhotoKept("This photo belongs to a submitted return and cannot be removed.")
        await self._objects.remove((photo.full_key, photo.thumbnail_key))
        await self._store.release_place(ref, photo.line_id, photo_id, self._limits.photos_per_line)

    async def _release(self, ref: DraftRef, slot: Slot) -> None:
        try:
            await self._objects.remove(slot.keys)
            await self._store.release_place(
                ref, slot.line_id, slot.photo_id, self._limits.photos_per_line
            )
        except Exception:
            # The place stays recorded with its keys: the clean-up of the draft removes them.
            logger.exception("could not release a photo place", extra={"photo_id": slot.photo_id})

    # --- other services and link holders ---------------------------------------------------

    async def lookup(self, merchant_id: str, photo_ids: Sequence[str]) -> list[PhotoView]:
        """The known photos of this merchant among `photo_ids`, in the order asked."""
        unique = list(dict.fromkeys(photo_ids))
        photos = await asyncio.gather(*(self._store.get_photo(pid) for pid in unique))
        return [
            self._view(photo)
            for photo in photos
            if photo is not None and photo.merchant_id == merchant_id
        ]

    async def open(
        self, photo_id: str, variant: Variant, exp: str, sig: str
    ) -> tuple[bytes, Photo]:
        """The image behind a signed link; NotFound for a bad, expired or dangling link."""
        self._signer.check(photo_id, variant, exp, sig, self._clock())
        photo = await self._store.get_photo(photo_id)
        if photo is None:
            raise NotFound(LINK_GONE)
        data = await self._objects.get(photo.object_key(variant))
        if data is None:
            raise NotFound(LINK_GONE)
        return data, photo

    def _view(self, photo: Photo) -> PhotoView:
        return PhotoView(photo, self._signer.links(photo.photo_id, self._clock()))

    # --- events and housekeeping -----------------------------------------------------------

    async def record_submitted(self, event: ReturnSubmitted) -> None:
        """Keep the photos of a submitted return; the draft takes no more uploads.

        Idempotent: marking kept twice changes nothing. Ids that are not this merchant's
        photos are ignored (declaration checked them with `lookup` before submitting).
        """
        photo_ids = [photo_id for item in event.payload.items for photo_id in item.media_ids]
        await self._keep(event.merchant_id, event.payload.return_id, photo_ids)

    async def record_answered(self, event: CustomerAnswered) -> None:
        """Keep the photos a customer sent with an answer to a question (issue 15), like those
        of a submitted return; the answer's draft takes no more uploads."""
        await self._keep(event.merchant_id, event.payload.return_id, event.payload.media_ids)

    async def _keep(self, merchant_id: str, return_id: str, photo_ids: list[str]) -> None:
        drafts: set[DraftRef] = set()
        for photo_id in photo_ids:
            photo = await self._store.get_photo(photo_id)
            if photo is None or photo.merchant_id != merchant_id:
                logger.warning(
                    "an event names a photo media does not know",
                    extra={"return_id": return_id, "photo_id": photo_id},
                )
                continue
            await self._store.mark_kept(photo_id, return_id)
            drafts.add(photo.draft)
        for ref in drafts:
            draft = await self._store.get_draft(ref)
            if draft is not None and draft.submitted_return_id != return_id:
                draft.submitted_return_id = return_id
                await self._store.save_draft(draft)

    async def clean_up_abandoned(self, limit: int = PAGE) -> int:
        """Delete the photos of drafts idle longer than the retention; how many were deleted.

        Kept photos (of submitted returns) stay. The draft document goes last, so a run that
        stops halfway is finished by the next one. A place taken after the cutoff belongs to
        an upload in progress: the draft is left for a later run.
        """
        cutoff = self._clock() - self._draft_retention
        deleted = 0
        for draft in await self._store.drafts_idle_since(cutoff, limit):
            busy = False
            for slot in await self._store.places_of_draft(draft.ref):
                if slot.reserved_at >= cutoff:
                    busy = True
                    continue
                photo = await self._store.get_photo(slot.photo_id)
                if photo is None or (
                    photo.kept_for_return_id is None
                    and await self._store.delete_photo(slot.photo_id, unless_kept=True)
                ):
                    await self._objects.remove(slot.keys)
                    deleted += photo is not None
                await self._store.release_place(
                    draft.ref, slot.line_id, slot.photo_id, self._limits.photos_per_line
                )
            if not busy:
                await self._store.delete_draft(draft.ref)
        if deleted:
            logger.info("abandoned photos deleted", extra={"photos": deleted})
        return deleted

    async def forget_merchant(self, merchant_id: str) -> int:
        """GDPR erasure: every photo of the merchant, its metadata and its objects."""
        deleted = 0
        while photos := await self._store.photos_of_merchant(merchant_id, PAGE):
            for photo in photos:
                deleted += await self._store.delete_photo(photo.photo_id, unless_kept=False)
        await self._store.forget_places_of_merchant(merchant_id)
        while drafts := await self._store.drafts_of_merchant(merchant_id, PAGE):
            for draft in drafts:
                await self._store.delete_draft(draft.ref)
        objects = await self._objects.remove_under(merchant_prefix(merchant_id))
        logger.info(
            "merchant photos erased",
            extra={"merchant_id": merchant_id, "photos": deleted, "objects": objects},
        )
        return deleted
