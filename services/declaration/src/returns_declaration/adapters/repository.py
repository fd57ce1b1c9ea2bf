"""MongoDB storage of merchants, API keys, orders, drafts and returns.

Documents get natural `_id`s (`<merchant_id>:<order_number>` for orders, the SHA-256 of the
secret for API keys) because FerretDB turns only `_id` filters into SQL; everything else is a
scan. Events are written in the same document as the change that caused them (see outbox.py).
Nested models are stored in their JSON form (dates as ISO text); fields that lists filter and
sort on are copied to the top level with their BSON types.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from returns_contracts import Message
from returns_declaration.adapters.outbox import Document, outbox_append, outbox_fields
from returns_declaration.domain.model import (
    Draft,
    Merchant,
    Order,
    Reservations,
    Return,
    TimelineEntry,
)
from returns_declaration.service.ports import (
    ApiKey,
    ReturnFilter,
    ReturnPage,
    ReturnRecord,
    RevisionConflict,
    StoredOrder,
    TimelineChange,
)

MERCHANTS = "merchants"
API_KEYS = "api_keys"
ORDERS = "orders"
DRAFTS = "drafts"
RETURNS = "returns"
IDEMPOTENCY_KEYS = "idempotency_keys"
OUTBOX_COLLECTIONS = (MERCHANTS, RETURNS)


def order_id(merchant_id: str, order_number: str) -> str:
    return f"{merchant_id}:{order_number}"


def _reserved_field(line_id: str) -> str:
    # Line ids are checked against LINE_ID_PATTERN, so they are safe inside a field path.
    return f"reserved.{line_id}"


def _encode_cursor(submitted_at: datetime, return_id: str) -> str:
    text = f"{submitted_at.astimezone(UTC).isoformat()}|{return_id}"
    return base64.urlsafe_b64encode(text.encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        at, return_id = base64.urlsafe_b64decode(cursor.encode()).decode().split("|", 1)
        return datetime.fromisoformat(at), return_id
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidCursor(cursor) from error


class InvalidCursor(ValueError):
    pass


class DeclarationRepository:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.database = database
        self.merchants = database[MERCHANTS]
        self.api_keys = database[API_KEYS]
        self.orders = database[ORDERS]
        self.drafts = database[DRAFTS]
        self.returns = database[RETURNS]
        self.idempotency_keys = database[IDEMPOTENCY_KEYS]

    async def create_indexes(self) -> None:
        # FerretDB on SQLite does not use these; production MongoDB needs them for the relay
        # scan, the back-office lists and key revocation.
        for collection in (self.merchants, self.returns):
            await collection.create_index("outbox_pending", sparse=True)
        await self.returns.create_index([("merchant_id", 1), ("submitted_at", -1), ("_id", -1)])
        await self.api_keys.create_index([("merchant_id", 1), ("key_id", 1)])

    # --- merchants and keys ------------------------------------------------------------------

    async def get_merchant(self, merchant_id: str) -> Merchant | None:
        document = await self.merchants.find_one({"_id": merchant_id}, {"merchant": 1})
        return None if document is None else Merchant.model_validate(document["merchant"])

    async def save_merchant(
        self, merchant: Merchant, events: Sequence[Message], expected_revision: int | None
    ) -> None:
        body = merchant.model_dump(mode="json")
        if expected_revision is None:
            try:
                await self.merchants.insert_one(
                    {"_id": merchant.id, "merchant": body, **outbox_fields(events)}
                )
            except DuplicateKeyError as error:
                raise RevisionConflict(merchant.id) from error
            return
        update = outbox_append(events)
        update["$set"]["merchant"] = body
        result = await self.merchants.update_one(
            {"_id": merchant.id, "merchant.revision": expected_revision}, update
        )
        if result.matched_count == 0:
            raise RevisionConflict(merchant.id)

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
        # $set of the order alone: what earlier returns reserved stays.
        await self.orders.update_one(
            {"_id": order_id(order.merchant_id, order.number)},
            {"$set": {"order": order.model_dump(mode="json")}},
            upsert=True,
        )

    async def get_order(self, merchant_id: str, order_number: str) -> StoredOrder | None:
        document = await self.orders.find_one({"_id": order_id(merchant_id, order_number)})
        if document is None:
            return None
        reservations: Reservations = {
            return_id: {line_id: int(quantity) for line_id, quantity in lines.items()}
            for return_id, lines in document.get("reservations", {}).items()
        }
        return StoredOrder(Order.model_validate(document["order"]), reservations)

    async def reserve(self, order: Order, return_id: str, quantities: Mapping[str, int]) -> bool:
        """One conditional update of the order document, so it is atomic without transactions:
        it applies only if this return holds no reservation yet and, for every line, what is
        reserved so far leaves room for the quantity asked. Two concurrent submits cannot both
        pass the filter for the same items."""
        document_id = order_id(order.merchant_id, order.number)
        room: dict[str, Any] = {}
        for line_id, quantity in quantities.items():
            line = order.line(line_id)
            ordered = 0 if line is None else line.quantity
            # $not/$gt also matches a line nothing was reserved on yet (the field is missing).
            room[_reserved_field(line_id)] = {"$not": {"$gt": ordered - quantity}}
        result = await self.orders.update_one(
            {"_id": document_id, f"reservations.{return_id}": {"$exists": False}, **room},
            {
                "$set": {f"reservations.{return_id}": dict(quantities)},
                "$inc": {_reserved_field(line_id): q for line_id, q in quantities.items()},
            },
        )
        if result.modified_count == 1:
            return True
        current = await self.orders.find_one({"_id": document_id}, {"reservations": 1})
        return current is not None and return_id in current.get("reservations", {})

    # --- drafts ------------------------------------------------------------------------------

    async def save_draft(self, draft: Draft) -> None:
        await self.drafts.replace_one(
            {"_id": draft.id},
            {"merchant_id": draft.merchant_id, "draft": draft.model_dump(mode="json")},
            upsert=True,
        )

    async def get_draft(self, merchant_id: str, draft_id: str) -> Draft | None:
        document = await self.drafts.find_one({"_id": draft_id})
        if document is None or document["merchant_id"] != merchant_id:
            return None
        return Draft.model_validate(document["draft"])

    # --- returns -----------------------------------------------------------------------------

    async def add_return(
        self, declared: Return, first: TimelineChange
    ) -> tuple[ReturnRecord, bool]:
        record = ReturnRecord(
            declared=declared,
            label_status=first.label_status or declared.first_label_status(),
            timeline=(first.entry,),
        )
        document: Document = {
            "_id": declared.id,
            "merchant_id": declared.merchant_id,
            "order_number": declared.order_number,
            "submitted_at": declared.submitted_at,
            "defective": declared.defective,
            "label_status": record.label_status,
            "return": declared.model_dump(mode="json"),
            "timeline": [first.entry.model_dump(mode="json")],
            **outbox_fields(first.events),
        }
        try:
            await self.returns.insert_one(document)
            return record, True
        except DuplicateKeyError:
            existing = await self.get_return(declared.merchant_id, declared.id)
            if existing is None:
                raise
            return existing, False

    async def get_return(self, merchant_id: str, return_id: str) -> ReturnRecord | None:
        document = await self.returns.find_one({"_id": return_id})
        if document is None or document["merchant_id"] != merchant_id:
            return None
        return _record(document)

    async def list_returns(
        self, merchant_id: str, where: ReturnFilter, limit: int, cursor: str | None
    ) -> ReturnPage:
        query: dict[str, Any] = {"merchant_id": merchant_id}
        if where.defective is not None:
            query["defective"] = where.defective
        if where.label_status is not None:
            query["label_status"] = where.label_status
        submitted: dict[str, datetime] = {}
        if where.submitted_from is not None:
            submitted["$gte"] = datetime.combine(where.submitted_from, time.min, UTC)
        if where.submitted_to is not None:
            submitted["$lte"] = datetime.combine(where.submitted_to, time.max, UTC)
        if submitted:
            query["submitted_at"] = submitted
        if where.order_number:
            query["order_number"] = {"$regex": re.escape(where.order_number), "$options": "i"}
        if cursor is not None:
            at, last_id = _decode_cursor(cursor)
            query["$or"] = [
                {"submitted_at": {"$lt": at}},
                {"submitted_at": at, "_id": {"$lt": last_id}},
            ]
        found = (
            await self.returns.find(query, {"outbox": 0})
            .sort([("submitted_at", -1), ("_id", -1)])
            .limit(limit + 1)
            .to_list(limit + 1)
        )
        records = [_record(document) for document in found[:limit]]
        next_cursor = None
        if len(found) > limit:
            last = found[limit - 1]
            next_cursor = _encode_cursor(last["submitted_at"], last["_id"])
        return ReturnPage(records, next_cursor)

    async def change_timeline(
        self, merchant_id: str, return_id: str, change: TimelineChange
    ) -> bool:
        update: dict[str, Any] = outbox_append(change.events) if change.events else {"$set": {}}
        update.setdefault("$push", {})["timeline"] = change.entry.model_dump(mode="json")
        if change.label_status is not None:
            update["$set"]["label_status"] = change.label_status
        if change.label is not None:
            update["$set"]["label"] = dict(change.label)
        if not update["$set"]:
            del update["$set"]
        result = await self.returns.update_one(
            {
                "_id": return_id,
                "merchant_id": merchant_id,
                "timeline.event_id": {"$ne": change.entry.event_id},
            },
            update,
        )
        if result.matched_count:
            return True
        # Nothing changed: either the entry is there already (a redelivery) or no such return.
        return await self.get_return(merchant_id, return_id) is not None

    async def claim_idempotency_key(self, merchant_id: str, key: str, return_id: str) -> str:
        document_id = f"{merchant_id}:{key}"
        document = await self.idempotency_keys.find_one_and_update(
            {"_id": document_id},
            {"$setOnInsert": {"return_id": return_id}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert document is not None  # upserted
        return str(document["return_id"])


def _record(document: Document) -> ReturnRecord:
    return ReturnRecord(
        declared=Return.model_validate(document["return"]),
        label_status=document["label_status"],
        timeline=tuple(TimelineEntry.model_validate(entry) for entry in document["timeline"]),
        label=document.get("label"),
    )


class MongoRateLimiter:
    """Fixed windows counted in one document per key and window, by `_id` (fast on FerretDB).

    FerretDB has no TTL index, so finished windows are swept now and then by this process.
    """

    SWEEP_EVERY = 500

    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.collection = database["rate_limits"]
        self.calls = 0

    async def allow(self, key: str, limit: int, window_seconds: int, now: datetime) -> bool:
        window = int(now.timestamp()) // window_seconds
        expires_at = datetime.fromtimestamp((window + 1) * window_seconds, UTC)
        document = await self.collection.find_one_and_update(
            {"_id": f"{key}:{window}"},
            {"$inc": {"count": 1}, "$setOnInsert": {"expires_at": expires_at}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert document is not None  # upserted
        self.calls += 1
        if self.calls % self.SWEEP_EVERY == 0:
            await self.collection.delete_many({"expires_at": {"$lt": now}})
        return int(document["count"]) <= limit
