"""Use cases of the labels service: track submitted returns, tell where their label stands.

Generating the label itself (R10, R11) comes with a later change; until then a classic return
stays `label_pending`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from returns_contracts import ReturnSubmitted
from returns_labels.domain.model import TrackedReturn, initial_status
from returns_labels.service.ports import ReturnStore

logger = logging.getLogger(__name__)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class LabelsService:
    def __init__(self, store: ReturnStore, clock: Callable[[], datetime] = _utc_now) -> None:
        self.store = store
        self.clock = clock

    async def record_submitted(self, event: ReturnSubmitted) -> bool:
        """Track a submitted return; a redelivery (same return_id) changes nothing.

        Returns whether the return was new.
        """
        payload = event.payload
        tracked = TrackedReturn(
            return_id=payload.return_id,
            merchant_id=event.merchant_id,
            order_number=payload.order_number,
            defective=payload.defective,
            status=initial_status(payload.defective),
            source_event_id=event.event_id,
            recorded_at=self.clock(),
        )
        created = await self.store.add(tracked)
        if not created:
            logger.info(
                "return already tracked; redelivery ignored",
                extra={"return_id": payload.return_id, "event_id": str(event.event_id)},
            )
        return created

    async def label_status(self, merchant_id: str, return_id: str) -> TrackedReturn | None:
        """The return, if it exists and belongs to `merchant_id`; None otherwise (R12)."""
        tracked = await self.store.get(return_id)
        if tracked is None or not tracked.visible_to(merchant_id):
            return None
        return tracked
