"""The back-office (R11, R12, R14): a merchant's returns, one return's record with its photos,
and a label request published through the return's outbox."""

from __future__ import annotations

from collections.abc import Callable

from returns_declaration.domain.model import Actor, TimelineEntry
from returns_declaration.service.errors import NotFound, PhotoCatalogUnavailable
from returns_declaration.service.events import label_requested
from returns_declaration.service.merchants import PRODUCER, known_merchant
from returns_declaration.service.ports import (
    DeclarationStore,
    Photo,
    PhotoCatalog,
    ReturnFilter,
    ReturnPage,
    ReturnRecord,
    TimelineChange,
)


class BackOffice:
    def __init__(
        self, store: DeclarationStore, photos: PhotoCatalog, on_events: Callable[[], None]
    ) -> None:
        self.store = store
        self.photos = photos
        self.on_events = on_events

    async def list_returns(
        self, merchant_id: str, where: ReturnFilter, limit: int, cursor: str | None
    ) -> ReturnPage:
        await known_merchant(self.store, merchant_id)
        return await self.store.list_returns(merchant_id, where, limit, cursor)

    async def return_record(
        self, merchant_id: str, return_id: str
    ) -> tuple[ReturnRecord, dict[str, Photo]]:
        record = await self.store.get_return(merchant_id, return_id)
        if record is None:
            raise NotFound("return")
        photo_ids = [photo for line in record.declared.lines for photo in line.media_ids]
        # The photos the customer sent later, with an answer to a question (issue 15).
        photo_ids += [photo for entry in record.timeline for photo in entry.media_ids]
        try:
            found = await self.photos.lookup(merchant_id, photo_ids)
        except PhotoCatalogUnavailable:
            # The record is still worth reading while media is down; the links come back later.
            found = []
        return record, {photo.photo_id: photo for photo in found}

    async def request_label(
        self,
        merchant_id: str,
        return_id: str,
        actor: Actor,
        regenerate: bool,
        correlation_id: str,
    ) -> ReturnRecord:
        """R11: publish LabelRequested (through the return's outbox) with who asked."""
        record = await self.store.get_return(merchant_id, return_id)
        if record is None:
            raise NotFound("return")
        event = label_requested(merchant_id, return_id, actor, regenerate, correlation_id, PRODUCER)
        keeps_label = record.label_status == "generated" and not regenerate
        change = TimelineChange(
            entry=TimelineEntry(
                event_id=str(event.event_id),
                kind="label_requested",
                at=event.occurred_at,
                detail="regenerate" if regenerate else None,
                actor=actor,
            ),
            label_status=None if keeps_label else "requested",
            events=[event],
        )
        await self.store.change_timeline(merchant_id, return_id, change)
        self.on_events()
        updated = await self.store.get_return(merchant_id, return_id)
        assert updated is not None
        return updated
