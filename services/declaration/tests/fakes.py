"""In-memory stand-ins for the ports, for unit tests of the use cases only."""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Mapping, Sequence
from datetime import UTC, datetime

from returns_contracts import Message
from returns_declaration.domain.model import Draft, Merchant, Order, Reservations, Return
from returns_declaration.domain.reservations import PendingReservation
from returns_declaration.domain.rules import fits_in_order
from returns_declaration.service.errors import PhotoCatalogUnavailable, RevisionConflict
from returns_declaration.service.ports import (
    ApiKey,
    Photo,
    ReturnFilter,
    ReturnPage,
    ReturnRecord,
    StoredOrder,
    TimelineChange,
)


class InMemoryStore:
    def __init__(self) -> None:
        self.merchants: dict[str, Merchant] = {}
        self.keys: dict[str, ApiKey] = {}
        self.orders: dict[tuple[str, str], Order] = {}
        self.reservations: dict[tuple[str, str], Reservations] = {}
        self.drafts: dict[str, Draft] = {}
        self.returns: dict[str, ReturnRecord] = {}
        self.idempotency: dict[tuple[str, str], str] = {}
        self.outbox: list[Message] = []
        self.pending: dict[tuple[str, str], PendingReservation] = {}
        # Set to make the next add_return fail as if the process died after the reservation.
        self.crash_before_insert = False

    async def get_merchant(self, merchant_id: str) -> Merchant | None:
        return self.merchants.get(merchant_id)

    async def save_merchant(
        self, merchant: Merchant, events: Sequence[Message], expected_revision: int | None
    ) -> None:
        current = self.merchants.get(merchant.id)
        if (current is None) != (expected_revision is None) or (
            current is not None and current.revision != expected_revision
        ):
            raise RevisionConflict(merchant.id)
        self.merchants[merchant.id] = merchant
        self.outbox.extend(events)

    async def add_api_key(self, key: ApiKey, secret_hash: str) -> None:
        self.keys[secret_hash] = key

    async def find_api_key(self, secret_hash: str) -> ApiKey | None:
        return self.keys.get(secret_hash)

    async def revoke_api_key(self, merchant_id: str, key_id: str) -> bool:
        for secret_hash, key in self.keys.items():
            if key.merchant_id == merchant_id and key.key_id == key_id:
                self.keys[secret_hash] = ApiKey(key.key_id, key.merchant_id, key.created_at, True)
                return True
        return False

    async def save_order(self, order: Order) -> None:
        self.orders[(order.merchant_id, order.number)] = order

    async def get_order(
        self, merchant_id: str, order_number: str, with_reservations: bool = True
    ) -> StoredOrder | None:
        order = self.orders.get((merchant_id, order_number))
        if order is None:
            return None
        reservations = (
            self.reservations.get((merchant_id, order_number), {}) if with_reservations else {}
        )
        return StoredOrder(order, copy.deepcopy(reservations))

    async def reserve(
        self,
        order: Order,
        return_id: str,
        quantities: Mapping[str, int],
        seen: StoredOrder | None = None,
    ) -> bool:
        held = self.reservations.setdefault((order.merchant_id, order.number), {})
        if return_id in held:
            return True
        if not fits_in_order(order, held, quantities):
            return False
        held[return_id] = dict(quantities)
        return True

    async def note_reservation(self, pending: PendingReservation) -> None:
        self.pending[(pending.merchant_id, pending.return_id)] = pending

    async def settle_reservation(self, merchant_id: str, return_id: str) -> None:
        self.pending.pop((merchant_id, return_id), None)

    async def pending_reservations(
        self, noted_until: datetime, limit: int
    ) -> list[PendingReservation]:
        older = [one for one in self.pending.values() if one.noted_at <= noted_until]
        return sorted(older, key=lambda one: one.noted_at)[:limit]

    async def release(self, merchant_id: str, order_number: str, return_id: str) -> bool:
        held = self.reservations.get((merchant_id, order_number), {})
        return held.pop(return_id, None) is not None

    async def save_draft(self, draft: Draft) -> Draft:
        current = self.drafts.get(draft.id)
        if (current.revision if current else 0) != draft.revision:
            raise RevisionConflict(draft.id)
        saved = draft.model_copy(update={"revision": draft.revision + 1})
        self.drafts[draft.id] = saved
        return saved

    async def mark_draft_submitted(self, draft_id: str) -> None:
        current = self.drafts.get(draft_id)
        if current is not None:
            self.drafts[draft_id] = current.model_copy(
                update={"submitted_return_id": draft_id, "revision": current.revision + 1}
            )

    async def get_draft(self, merchant_id: str, draft_id: str) -> Draft | None:
        draft = self.drafts.get(draft_id)
        return draft if draft is not None and draft.merchant_id == merchant_id else None

    async def add_return(
        self,
        declared: Return,
        first: TimelineChange,
        before_insert: Awaitable[None] | None = None,
    ) -> tuple[ReturnRecord, bool]:
        if before_insert is not None:
            await before_insert
        if self.crash_before_insert:
            self.crash_before_insert = False
            raise ConnectionError("the process died between the reservation and the insert")
        if declared.id in self.returns:
            return self.returns[declared.id], False
        record = ReturnRecord(
            declared, first.label_status or declared.first_label_status(), (first.entry,)
        )
        self.returns[declared.id] = record
        self.outbox.extend(first.events)
        return record, True

    async def get_return(self, merchant_id: str, return_id: str) -> ReturnRecord | None:
        found = self.returns.get(return_id)
        return found if found is not None and found.declared.merchant_id == merchant_id else None

    async def list_returns(
        self, merchant_id: str, where: ReturnFilter, limit: int, cursor: str | None
    ) -> ReturnPage:
        # Newest first: in the order they were stored, last one first, like the listing.
        records = [
            record
            for record in reversed(self.returns.values())
            if record.declared.merchant_id == merchant_id and _lets_through(where, record)
        ]
        start = int(cursor or 0)
        page = records[start : start + limit]
        more = start + limit < len(records)
        return ReturnPage(page, str(start + limit) if more else None)

    async def change_timeline(
        self, merchant_id: str, return_id: str, change: TimelineChange
    ) -> bool:
        record = await self.get_return(merchant_id, return_id)
        if record is None:
            return False
        if any(entry.event_id == change.entry.event_id for entry in record.timeline):
            return True
        current = record.resolution
        if (
            change.resolution is not None
            and current is not None
            and (current.at >= change.resolution.at)
        ):
            return True  # as the adapter's filter: only over no resolution or an older one
        self.returns[return_id] = ReturnRecord(
            record.declared,
            change.label_status or record.label_status,
            (*record.timeline, change.entry),
            change.label if change.label is not None else record.label,
            change.resolution if change.resolution is not None else current,
        )
        self.outbox.extend(change.events)
        return True

    async def claim_idempotency_key(self, merchant_id: str, key: str, return_id: str) -> str:
        return self.idempotency.setdefault((merchant_id, key), return_id)


def _lets_through(where: ReturnFilter, record: ReturnRecord) -> bool:
    """Every condition of a back-office filter, as the MongoDB adapter applies them."""
    declared = record.declared
    submitted_on = declared.submitted_at.astimezone(UTC).date()
    return (
        (where.defective is None or declared.defective == where.defective)
        and (
            where.label_status is None
            or (
                _still_awaiting(record)
                if where.label_status == "awaiting_merchant"
                else record.label_status == where.label_status
            )
        )
        and (where.submitted_from is None or submitted_on >= where.submitted_from)
        and (where.submitted_to is None or submitted_on <= where.submitted_to)
        and (
            not where.order_number
            or where.order_number.casefold() in declared.order_number.casefold()
        )
    )


class FakePhotoCatalog:
    def __init__(self) -> None:
        self.photos: dict[str, Photo] = {}
        self.down = False

    def add(self, photo_id: str, merchant_id: str, draft_id: str) -> None:
        self.photos[photo_id] = Photo(
            photo_id,
            merchant_id,
            draft_id,
            None,
            f"https://media/{photo_id}",
            f"https://t/{photo_id}",
        )

    async def lookup(self, merchant_id: str, photo_ids: Sequence[str]) -> list[Photo]:
        if self.down:
            raise PhotoCatalogUnavailable("media is down")
        return [
            self.photos[photo_id]
            for photo_id in photo_ids
            if photo_id in self.photos and self.photos[photo_id].merchant_id == merchant_id
        ]


class InMemoryRateLimiter:
    def __init__(self) -> None:
        self.counts: dict[tuple[str, int], int] = {}

    async def allow(self, key: str, limit: int, window_seconds: int, now: datetime) -> bool:
        window = (key, int(now.timestamp()) // window_seconds)
        self.counts[window] = self.counts.get(window, 0) + 1
        return self.counts[window] <= limit

    async def exceeded(self, key: str, limit: int, window_seconds: int, now: datetime) -> bool:
        return self.counts.get((key, int(now.timestamp()) // window_seconds), 0) >= limit


def _still_awaiting(record: ReturnRecord) -> bool:
    """The "to handle" box as the adapter reads it (adapters/resolutions.py)."""
    if record.resolution is not None:
        return False
    return record.declared.split_mixed or record.label_status == "awaiting_merchant"
