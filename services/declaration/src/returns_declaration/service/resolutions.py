"""Resolving a defective return from its record (issue 15): the decision, its timeline step and
the ReturnResolved event (with LabelRequested for a label) in one write of the return's outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from returns_contracts import Actor as ContractActor
from returns_contracts import LabelRequested, Message, ReturnResolved, ReturnResolvedPayload
from returns_contracts.service_kit.clock import Clock, utc_now_millis
from returns_declaration.domain.model import Actor, LabelStatus, Locale, TimelineEntry
from returns_declaration.domain.resolution import (
    Resolution,
    ResolverKind,
    decide,
    outdated,
    timeline_kind,
)
from returns_declaration.service.errors import NotFound
from returns_declaration.service.events import label_requested
from returns_declaration.service.merchants import PRODUCER
from returns_declaration.service.ports import ReturnRecord, ReturnStore, TimelineChange


def return_resolved(
    merchant_id: str, return_id: str, resolution: Resolution, correlation_id: str, producer: str
) -> ReturnResolved:
    return ReturnResolved(
        event_id=uuid.UUID(resolution.event_id),
        occurred_at=resolution.at,
        merchant_id=merchant_id,
        correlation_id=correlation_id,
        producer=producer,
        payload=ReturnResolvedPayload(
            return_id=return_id,
            resolution=resolution.kind,
            note=resolution.note,
            resolved_by=ContractActor.model_validate(resolution.actor.model_dump()),
            resolved_at=resolution.at,
        ),
    )


class Resolutions:
    def __init__(
        self,
        store: ReturnStore,
        on_events: Callable[[], None],
        clock: Clock = utc_now_millis,
    ) -> None:
        self.store = store
        self.on_events = on_events
        self.clock = clock

    async def resolve(
        self,
        merchant_id: str,
        return_id: str,
        *,
        kind: str,
        note: str | None,
        resolver: ResolverKind,
        actor: Actor,
        locale: Locale,
        correlation_id: str,
    ) -> ReturnRecord:
        """Record the merchant's decision (domain/resolution.py says who, which and when) and
        publish ReturnResolved; a label also asks for it (R11) in the same write. The same
        decision again changes nothing and publishes nothing."""
        record = await self.store.get_return(merchant_id, return_id)
        if record is None:
            raise NotFound("return")
        resolution = decide(
            record.declared,
            record.resolution,
            kind=kind,
            note=note,
            resolver=resolver,
            actor=actor,
            at=self.clock(),
            event_id=str(uuid.uuid4()),
            locale=locale,
        )
        if resolution is None:
            return record
        events: list[Message] = [
            return_resolved(merchant_id, return_id, resolution, correlation_id, PRODUCER)
        ]
        label_status: LabelStatus | None = None
        if resolution.kind == "label":
            request: LabelRequested = label_requested(
                merchant_id, return_id, actor, False, correlation_id, PRODUCER
            )
            events.append(request)
            if record.label_status != "generated":
                label_status = "requested"
        change = TimelineChange(
            entry=TimelineEntry(
                event_id=resolution.event_id,
                kind=timeline_kind(resolution.kind),
                at=resolution.at,
                detail=resolution.note,
                actor=actor,
            ),
            label_status=label_status,
            events=events,
            resolution=resolution,
        )
        await self.store.change_timeline(merchant_id, return_id, change)
        updated = await self.store.get_return(merchant_id, return_id)
        if updated is None:
            raise NotFound("return")
        if updated.resolution is None or updated.resolution.event_id != resolution.event_id:
            # A newer decision was written between our read and our write.
            raise outdated(locale)
        self.on_events()
        return updated
