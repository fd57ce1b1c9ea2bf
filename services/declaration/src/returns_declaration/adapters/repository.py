"""MongoDB storage of merchants, API keys, orders, drafts and returns.

Documents get natural `_id`s (`<merchant_id>:<order_number>` for orders, the SHA-256 of the
secret for API keys) because FerretDB turns only `_id` filters into SQL; everything else is a
scan. Events are written in the same document as the change that caused them (see outbox.py).

Single-document updates are atomic, so a filter guard (a revision, an event not applied yet,
the outbox's size) is a compare-and-swap, in any number of processes: on MongoDB by design, on
the embedded FerretDB v1 through a patch of ours that writes a single-document update only over
the document as it read it, and runs it again otherwise
(deploy/src/returns_infra/patches/ferretdb-sqlite-atomic-update.patch). So no lock serialises
the writes (unpatched FerretDB needed one per process, shared with the relay), and declaration
runs as several processes: tests/test_processes_integration.py races two of them.
Reservations are in reservations.py, how a return is stored in return_documents.py.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import Awaitable, Mapping, Sequence
from datetime import datetime
from time import time as time_now
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from returns_contracts import Message
from returns_contracts.label_status import LabelStatus, first_label_status
from returns_contracts.service_kit.cache import RecentReads
from returns_contracts.service_kit.mongo import (
    GroupedGuardedUpdates,
    GroupedInserts,
    GroupedReads,
    GroupedUpdates,
)
from returns_declaration.adapters.listing import MerchantListing, entry_id
from returns_declaration.adapters.outbox import (
    MARKERS,
    MIGRATIONS,
    Document,
    forget_marker,
    mark_pending,
    marker_id,
    outbox_append,
    outbox_fields,
)
from returns_declaration.adapters.reservations import OrderReservations, order_id
from returns_declaration.adapters.resolutions import (
    awaits_merchant,
    newer_resolution_guard,
    resolution_fields,
    still_awaiting,
)
from returns_declaration.adapters.return_documents import (
    first_record,
    list_query,
    record_of,
    return_document,
)
from returns_declaration.domain.model import (
    Draft,
    Merchant,
    Order,
    Reservations,
    Return,
)
from returns_declaration.domain.reservations import PendingReservation
from returns_declaration.service.errors import InvalidCursor, RevisionConflict
from returns_declaration.service.ports import (
    ApiKey,
    ReturnFilter,
    ReturnPage,
    ReturnRecord,
    StoredOrder,
    TimelineChange,
)

MERCHANTS = "merchants"
API_KEYS = "api_keys"
ORDERS = "orders"
DRAFTS = "drafts"
RETURNS = "returns"
IDEMPOTENCY_KEYS = "idempotency_keys"
RESERVATIONS = "reservations"
PENDING_RESERVATIONS = "pending_reservations"
RETURNS_BY_MERCHANT = "returns_by_merchant"
AWAITING_MERCHANT = "returns_awaiting_merchant"
# Listing numbers read per round when the back-office list has a filter to apply.
_FILTERED_READ = 200
# The "to handle" box reads the queue by listing numbers, in steps growing 4 times up to this.
_AWAITING_FIRST_STEP = 64
_AWAITING_MAX_STEP = 8192
OUTBOX_COLLECTIONS = (MERCHANTS, RETURNS)


def _encode_cursor(number: int) -> str:
    return base64.urlsafe_b64encode(f"n{number}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    """The listing number the next page starts below."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        number = int(text.removeprefix("n")) if text.startswith("n") else 0
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidCursor(cursor) from error
    if number < 1:
        raise InvalidCursor(cursor)
    return number


class DeclarationRepository:
    def __init__(
        self, database: AsyncDatabase[Document], merchant_cache_seconds: float = 0.0
    ) -> None:
        self.database = database
        # Every portal and back-office call reads its merchant.
        self._merchants_read: RecentReads[str, Merchant] = RecentReads(merchant_cache_seconds)
        self.merchants = database[MERCHANTS]
        self.api_keys = database[API_KEYS]
        self.orders = database[ORDERS]
        self.drafts = database[DRAFTS]
        self.returns = database[RETURNS]
        self.idempotency_keys = database[IDEMPOTENCY_KEYS]
        self.order_reservations = OrderReservations(
            database[RESERVATIONS], database[PENDING_RESERVATIONS]
        )
        self.outbox_markers = database[MARKERS]
        self.listing = MerchantListing(database[RETURNS_BY_MERCHANT])
        # Defective returns waiting for the merchant's decision (the back-office "to handle"
        # box), under their listing number; entries of decided ones are dropped as they are read.
        self.awaiting = database[AWAITING_MERCHANT]
        self.awaiting_listing = MerchantListing(self.awaiting)
        self.migrations = database[MIGRATIONS]
        # The submits a process serves at once send their inserts, `_id` reads and draft marks
        # together (the kit's grouped store helpers): one command per step, not per submit; so
        # do the timeline changes its consumer handles side by side.
        self._return_inserts = GroupedInserts(self.returns)
        self._marker_inserts = GroupedInserts(self.outbox_markers)
        self._awaiting_inserts = GroupedInserts(self.awaiting)
        self._key_inserts = GroupedInserts(self.idempotency_keys)
        self._order_reads = GroupedReads(self.orders)
        self._draft_reads = GroupedReads(self.drafts)
        self._draft_updates = GroupedUpdates(self.drafts)
        self._return_reads = GroupedReads(self.returns)
        self._timeline_updates = GroupedGuardedUpdates(self.returns)

    async def create_indexes(self) -> None:
        # FerretDB on SQLite does not use it; production MongoDB needs it for key revocation.
        await self.api_keys.create_index([("merchant_id", 1), ("key_id", 1)])
        # The reconciler reads the oldest notes; the collection holds only submits in flight.
        await self.order_reservations.notes.create_index([("noted_at", 1)])
        await self._number_older_returns()

    async def _number_older_returns(self) -> None:
        """Once per database: list the returns stored before listings existed (one scan)."""
        if await self.migrations.find_one({"_id": RETURNS_BY_MERCHANT}) is not None:
            return
        older = self.returns.find(
            {"listing_number": {"$exists": False}},
            {"merchant_id": 1, "label_status": 1, "defective": 1},
        ).sort([("submitted_at", 1), ("_id", 1)])
        async for document in older:
            number = await self.listing.take(document["merchant_id"], document["_id"])
            await self.returns.update_one(
                {"_id": document["_id"]}, {"$set": {"listing_number": number}}
            )
            status = document.get("label_status") or first_label_status(
                bool(document.get("defective"))
            )
            if status == "awaiting_merchant":
                await self._await_merchant(document["merchant_id"], document["_id"], number)
        with contextlib.suppress(DuplicateKeyError):
            await self.migrations.insert_one({"_id": RETURNS_BY_MERCHANT})

    async def _number(self, declared: Return, label_status: LabelStatus) -> int:
        number = await self.listing.take(declared.merchant_id, declared.id)
        if awaits_merchant(label_status, declared.defective):
            await self._await_merchant(declared.merchant_id, declared.id, number)
        return number

    async def _leave_merchant_queue(
        self, declared: Return, label_status: LabelStatus, number: int
    ) -> None:
        if awaits_merchant(label_status, declared.defective):
            await self.awaiting.delete_one({"_id": entry_id(declared.merchant_id, number)})

    async def _await_merchant(self, merchant_id: str, return_id: str, number: int) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self._awaiting_inserts.insert_one(
                {"_id": entry_id(merchant_id, number), "listed_id": return_id}
            )

    # --- merchants and keys ------------------------------------------------------------------

    async def get_merchant(self, merchant_id: str) -> Merchant | None:
        cached = self._merchants_read.get(merchant_id)
        if cached is not None:
            return cached
        document = await self.merchants.find_one({"_id": merchant_id}, {"merchant": 1})
        if document is None:
            return None
        merchant = Merchant.model_validate(document["merchant"])
        self._merchants_read.keep(merchant.id, merchant)
        return merchant

    async def save_merchant(
        self, merchant: Merchant, events: Sequence[Message], expected_revision: int | None
    ) -> None:
        body = merchant.model_dump(mode="json")
        marker = await mark_pending(self._marker_inserts, MERCHANTS, merchant.id, events)
        if expected_revision is None:
            try:
                await self.merchants.insert_one(
                    {"_id": merchant.id, "merchant": body, **outbox_fields(events)}
                )
            except DuplicateKeyError as error:
                await forget_marker(self.outbox_markers, marker)
                raise RevisionConflict(merchant.id) from error
            self._merchants_read.keep(merchant.id, merchant)
            return
        update = outbox_append(events)
        update["$set"]["merchant"] = body
        result = await self.merchants.update_one(
            {"_id": merchant.id, "merchant.revision": expected_revision}, update
        )
        if result.matched_count == 0:
            await forget_marker(self.outbox_markers, marker)
            self._merchants_read.forget(merchant.id)  # the next read is the stored one
            raise RevisionConflict(merchant.id)
        self._merchants_read.keep(merchant.id, merchant)

    async def add_api_key(self, key: ApiKey, secret_hash: str) -> None:
        await self.api_keys.insert_one(
            {
                "_id": secret_hash,
                "key_id": key.key_id,
                "merchant_id": key.merchant_id,
                "created_at": key.created_at,
                "revoked": False,
            }
        )

    async def find_api_key(self, secret_hash: str) -> ApiKey | None:
        document = await self.api_keys.find_one({"_id": secret_hash})
        if document is None:
            return None
        return ApiKey(
            key_id=document["key_id"],
            merchant_id=document["merchant_id"],
            created_at=document["created_at"],
            revoked=bool(document.get("revoked")),
        )

    async def revoke_api_key(self, merchant_id: str, key_id: str) -> bool:
        result = await self.api_keys.update_one(
            {"merchant_id": merchant_id, "key_id": key_id}, {"$set": {"revoked": True}}
        )
        return result.matched_count > 0

    # --- orders and their reservations -------------------------------------------------------

    async def save_order(self, order: Order) -> None:
        # Reservations live in their own documents, so replacing the order keeps them.
        await self.orders.replace_one(
            {"_id": order_id(order.merchant_id, order.number)},
            {"order": order.model_dump(mode="json")},
            upsert=True,
        )

    async def get_order(
        self, merchant_id: str, order_number: str, with_reservations: bool = True
    ) -> StoredOrder | None:
        document_id = order_id(merchant_id, order_number)
        if with_reservations:
            # Together: one round trip of waiting instead of two. `reserve` checks the version
            # read here against the latest, so reading it beside the order is as safe as after.
            document, (version, reservations) = await asyncio.gather(
                self._order_reads.find_one(document_id),
                self.order_reservations.latest(document_id),
            )
        else:
            document = await self._order_reads.find_one(document_id)
            version, reservations = 0, Reservations()
        if document is None:
            return None
        return StoredOrder(Order.model_validate(document["order"]), reservations, version)

    async def reserve(
        self,
        order: Order,
        return_id: str,
        quantities: Mapping[str, int],
        seen: StoredOrder | None = None,
    ) -> bool:
        return await self.order_reservations.reserve(order, return_id, quantities, seen)

    async def release(self, merchant_id: str, order_number: str, return_id: str) -> bool:
        return await self.order_reservations.release(merchant_id, order_number, return_id)

    async def note_reservation(self, pending: PendingReservation) -> None:
        await self.order_reservations.note(pending)

    async def settle_reservation(self, merchant_id: str, return_id: str) -> None:
        await self.order_reservations.settle(merchant_id, return_id)

    async def pending_reservations(
        self, noted_until: datetime, limit: int
    ) -> list[PendingReservation]:
        return await self.order_reservations.pending(noted_until, limit)

    # --- drafts ------------------------------------------------------------------------------

    async def save_draft(self, draft: Draft) -> Draft:
        saved = draft.model_copy(update={"revision": draft.revision + 1})
        body = {"merchant_id": draft.merchant_id, "draft": saved.model_dump(mode="json")}
        if draft.revision == 0:
            try:
                await self.drafts.insert_one({"_id": draft.id, **body})
            except DuplicateKeyError as error:
                raise RevisionConflict(draft.id) from error
            return saved
        result = await self.drafts.replace_one(
            {"_id": draft.id, "draft.revision": draft.revision}, body
        )
        if result.matched_count == 0:
            raise RevisionConflict(draft.id)
        return saved

    async def mark_draft_submitted(self, draft_id: str) -> None:
        await self._draft_updates.update_one(
            {"_id": draft_id},
            {"$set": {"draft.submitted_return_id": draft_id}, "$inc": {"draft.revision": 1}},
        )

    async def get_draft(self, merchant_id: str, draft_id: str) -> Draft | None:
        document = await self._draft_reads.find_one(draft_id)
        if document is None or document["merchant_id"] != merchant_id:
            return None
        return Draft.model_validate(document["draft"])

    # --- returns -----------------------------------------------------------------------------

    async def add_return(
        self,
        declared: Return,
        first: TimelineChange,
        before_insert: Awaitable[None] | None = None,
    ) -> tuple[ReturnRecord, bool]:
        record = first_record(declared, first)
        # Numbered (and queued for the merchant) before the write: a crash between the two
        # leaves an entry that readers skip, never a return missing from the lists. The outbox
        # marker goes out meanwhile: one whose return never comes, the relay drops after its grace
        # period, as after a crash between the marker and the insert. `before_insert` refused
        # leaves a number readers skip, as such a crash would; its marker and its place in the
        # merchant's queue are dropped at once, as nothing will be inserted under them.
        number, marker, done = await asyncio.gather(
            self._number(declared, record.label_status),
            mark_pending(self._marker_inserts, RETURNS, declared.id, first.events),
            before_insert if before_insert is not None else asyncio.sleep(0),
            return_exceptions=True,
        )
        if isinstance(number, BaseException):
            raise number
        if isinstance(marker, BaseException):
            raise marker
        if isinstance(done, BaseException):
            await asyncio.gather(
                forget_marker(self.outbox_markers, marker),
                self._leave_merchant_queue(declared, record.label_status, number),
            )
            raise done
        try:
            await self._return_inserts.insert_one(return_document(record, first, number))
            return record, True
        except DuplicateKeyError:
            await forget_marker(self.outbox_markers, marker)
            existing = await self.get_return(declared.merchant_id, declared.id)
            if existing is None:
                raise
            return existing, False

    async def load_returns(
        self, merchant_id: str, items: Sequence[tuple[Return, TimelineChange]]
    ) -> None:
        """Bulk load of new returns of one merchant (benchmarks, imports): what `add_return`
        writes, in a few writes per batch instead of four per return. Not for retries: an
        existing return id fails the load."""
        numbers = await self.listing.take_many(merchant_id, [item.id for item, _ in items])
        records = [first_record(declared, first) for declared, first in items]
        waiting = [
            {"_id": entry_id(merchant_id, number), "listed_id": record.declared.id}
            for record, number in zip(records, numbers, strict=True)
            if awaits_merchant(record.label_status, record.declared.defective)
        ]
        if waiting:
            await self.awaiting.insert_many(waiting)
        markers = [
            {
                "_id": marker_id(RETURNS, declared.id, first.events),
                "collection": RETURNS,
                "document_id": declared.id,
                "event_id": str(first.events[0].event_id),
                "at": time_now(),
            }
            for declared, first in items
            if first.events
        ]
        if markers:
            await self.outbox_markers.insert_many(markers)
        await self.returns.insert_many(
            [
                return_document(record, first, number)
                for record, (_, first), number in zip(records, items, numbers, strict=True)
            ]
        )

    async def get_return(self, merchant_id: str, return_id: str) -> ReturnRecord | None:
        document = await self._return_reads.find_one(return_id)
        if document is None or document["merchant_id"] != merchant_id:
            return None
        return record_of(document)

    async def list_returns(
        self, merchant_id: str, where: ReturnFilter, limit: int, cursor: str | None
    ) -> ReturnPage:
        """Newest first (by listing number, the order returns were stored in), read through
        the merchant's listing: never a scan of the returns."""
        query = list_query(where)
        found: list[tuple[int, Document]] = []
        if where.label_status == "awaiting_merchant":
            # Fetched whatever their status, so that the queue forgets the decided ones.
            del query["label_status"]
            found = await self._awaiting(merchant_id, query, limit, cursor)
        else:
            below = (
                await self.listing.head(merchant_id) + 1
                if cursor is None
                else _decode_cursor(cursor)
            )
            while below > 1 and len(found) <= limit:
                count = limit + 1 - len(found)
                if query:
                    count = max(count, _FILTERED_READ)
                listed = await self.listing.listed(merchant_id, below, count)
                below -= count
                found.extend(await self._listed_returns(merchant_id, listed, query))
        records = [record_of(document) for _, document in found[:limit]]
        next_cursor = _encode_cursor(found[limit - 1][0]) if len(found) > limit else None
        return ReturnPage(records, next_cursor)

    async def _listed_returns(
        self, merchant_id: str, listed: Sequence[tuple[int, str]], query: Document
    ) -> list[tuple[int, Document]]:
        """The returns of `listed` (number, id) that match `query`, in the same order."""
        if not listed:
            return []
        documents = await self.returns.find(
            {"_id": {"$in": [return_id for _, return_id in listed]}, **query}, {"outbox": 0}
        ).to_list(None)
        by_id = {document["_id"]: document for document in documents}
        return [
            (number, document)
            for number, return_id in listed
            if (document := by_id.get(return_id)) is not None
            and document["merchant_id"] == merchant_id
            # Another number of the same return (a retried or interrupted write): listed once.
            and document.get("listing_number") == number
        ]

    async def _awaiting(
        self, merchant_id: str, query: Document, limit: int, cursor: str | None
    ) -> list[tuple[int, Document]]:
        """Up to limit + 1 returns waiting for the merchant, newest first, below the cursor.

        Walks the merchant's listing numbers down by `_id $in` on the queue, in growing steps
        (the waiting ones may be dense or few and old), and drops the entries of returns the
        merchant decided since.
        """
        below = (
            await self.listing.head(merchant_id) + 1 if cursor is None else _decode_cursor(cursor)
        )
        step = max(limit + 1, _AWAITING_FIRST_STEP)
        found: list[tuple[int, Document]] = []
        while below > 1 and len(found) <= limit:
            queued = await self.awaiting_listing.listed(merchant_id, below, step)
            below -= step
            step = min(step * 4, _AWAITING_MAX_STEP)
            while queued and len(found) <= limit:
                wanted = limit + 1 - len(found)
                part, queued = queued[:wanted], queued[wanted:]
                fetched = await self._listed_returns(merchant_id, part, query)
                decided = [n for n, doc in fetched if not still_awaiting(doc)]
                if decided:
                    await self.awaiting.delete_many(
                        {"_id": {"$in": [entry_id(merchant_id, n) for n in decided]}}
                    )
                found.extend((n, doc) for n, doc in fetched if still_awaiting(doc))
        return found

    async def change_timeline(
        self, merchant_id: str, return_id: str, change: TimelineChange
    ) -> bool:
        update: dict[str, Any] = outbox_append(change.events) if change.events else {"$set": {}}
        update.setdefault("$push", {})["timeline"] = change.entry.model_dump(mode="json")
        update["$set"][f"applied_events.{change.entry.event_id}"] = True
        if change.label_status is not None:
            update["$set"]["label_status"] = change.label_status
        if change.label is not None:
            update["$set"]["label"] = dict(change.label)
        guard: Document = {
            "_id": return_id,
            "merchant_id": merchant_id,
            # FerretDB v1 cannot match inside an array of documents; a map by
            # event id makes "not applied yet" a plain field test.
            f"applied_events.{change.entry.event_id}": {"$exists": False},
        }
        if change.resolution is not None:
            update["$set"].update(resolution_fields(change.resolution))
            guard.update(newer_resolution_guard(change.resolution))
        marker = await mark_pending(self._marker_inserts, RETURNS, return_id, change.events)
        # The consumers handle a batch's returns side by side: their timeline changes go as one
        # command. The guard (not applied yet) makes sending one again alone harmless when the
        # group cannot say whether it matched.
        matched = await self._timeline_updates.update_one(guard, update)
        if matched is None:
            matched = (await self.returns.update_one(guard, update)).matched_count == 1
        if matched:
            return True
        # Nothing changed: either the entry is there already (a redelivery) or no such return.
        if await self.get_return(merchant_id, return_id) is None:
            await forget_marker(self.outbox_markers, marker)
            return False
        # The entry was written by this very change before, maybe by another process whose
        # write is not relayed yet; its marker has the same id (the first event's), so it is
        # left for the relay, which deletes it once it sees its event in the document. Forgetting
        # it here deleted that write's only marker, and its events stayed pending for good.
        return True

    async def claim_idempotency_key(self, merchant_id: str, key: str, return_id: str) -> str:
        document_id = f"{merchant_id}:{key}"
        try:
            await self._key_inserts.insert_one({"_id": document_id, "return_id": return_id})
            return return_id
        except DuplicateKeyError:
            document = await self.idempotency_keys.find_one({"_id": document_id})
            assert document is not None  # keys are never deleted
            return str(document["return_id"])
