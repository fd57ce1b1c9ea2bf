"""The timeline of each return, kept from the events other services publish (R14): labels
made, rejected or requested elsewhere, and the e-mails sent."""

from __future__ import annotations

import uuid
from datetime import datetime

from returns_contracts import LabelGenerated, LabelRejected, LabelRequested, NotificationSent
from returns_declaration.domain.model import Actor, TimelineEntry, TimelineKind
from returns_declaration.service.ports import ReturnStore, TimelineChange


class Timeline:
    def __init__(self, store: ReturnStore) -> None:
        self.store = store

    async def record_label_generated(self, event: LabelGenerated) -> None:
        payload = event.payload
        label = {
            "label_id": payload.label_id,
            "tracking_number": payload.tracking_number,
            "carrier": payload.carrier,
            "download_url": payload.download_url,
        }
        actor = None
        if payload.requested_by is not None:
            actor = Actor.model_validate(payload.requested_by.model_dump())
        await self._record(
            event.merchant_id,
            payload.return_id,
            TimelineChange(
                entry=_entry(event.event_id, "label_generated", event.occurred_at, None, actor),
                label_status="generated",
                label=label,
            ),
        )

    async def record_label_requested(self, event: LabelRequested) -> None:
        """Label requests from elsewhere (the support CLI) join the timeline too; those this
        service published are there already under the same event id."""
        payload = event.payload
        actor = Actor.model_validate(payload.requested_by.model_dump())
        record = await self.store.get_return(event.merchant_id, payload.return_id)
        keeps_label = (
            record is not None and record.label_status == "generated" and not payload.regenerate
        )
        await self._record(
            event.merchant_id,
            payload.return_id,
            TimelineChange(
                entry=_entry(
                    event.event_id,
                    "label_requested",
                    event.occurred_at,
                    "regenerate" if payload.regenerate else None,
                    actor,
                ),
                label_status=None if keeps_label else "requested",
            ),
        )

    async def record_label_rejected(self, event: LabelRejected) -> None:
        payload = event.payload
        await self._record(
            event.merchant_id,
            payload.return_id,
            TimelineChange(
                entry=_entry(
                    event.event_id,
                    "label_rejected",
                    event.occurred_at,
                    f"{payload.reason}: {payload.detail}",
                    None,
                ),
                label_status="rejected",
            ),
        )

    async def record_notification_sent(self, event: NotificationSent) -> None:
        payload = event.payload
        await self._record(
            event.merchant_id,
            payload.return_id,
            TimelineChange(
                entry=_entry(
                    event.event_id,
                    _notification_kind(payload.template),
                    event.occurred_at,
                    # The kind already says which e-mail in words; the template name is
                    # the notifier's internal vocabulary, not something a merchant reads.
                    payload.recipient,
                    None,
                )
            ),
        )

    async def _record(self, merchant_id: str, return_id: str, change: TimelineChange) -> None:
        # An event about a return this merchant does not have (another deployment sharing the
        # topic, or a forged merchant id) changes nothing.
        await self.store.change_timeline(merchant_id, return_id, change)


def _entry(
    event_id: uuid.UUID, kind: TimelineKind, at: datetime, detail: str | None, actor: Actor | None
) -> TimelineEntry:
    return TimelineEntry(event_id=str(event_id), kind=kind, at=at, detail=detail, actor=actor)


def _notification_kind(template: str) -> TimelineKind:
    # Template names belong to the notifier; these are the families the timeline tells apart.
    if "customer_service" in template:
        return "customer_service_notified"
    if "label" in template:
        return "label_emailed"
    return "customer_notified"
