"""MongoDB storage of the labels service, every document read by `_id`.

- `returns`: one document per return, `_id` = return_id. The natural key makes a redelivered
  ReturnSubmitted a duplicate-key no-op; the live label, the voided ones and the commands that
  made labels sit in the same document, so making a label live is one atomic write.
- `label_files`: `_id` = label_id -> its return, for the download link.
- `merchants`: `_id` = merchant_id, the newest snapshot (name, return address).
- `waiting`: `_id` = return_id, label requests that wait for their return (or merchant), each
  for a bounded time. It stays small, which is why the periodic sweep may list it.
- `waiting_for_merchant`: `_id` = return_id, classic returns whose label waits for their
  merchant's return address; read by merchant_id when that merchant's settings change.

The consumer handles a batch's returns side by side: the inserts every label makes (its return,
its file) go through the kit's grouped helper, one command for the returns in flight.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from returns_contracts import Actor, Address, LabelRequested, MerchantUpdated, parse_message
from returns_contracts.service_kit.cache import RecentReads
from returns_contracts.service_kit.mongo import GroupedInserts, save_if_newer_revision
from returns_labels.domain.model import (
    LABEL_STATUSES,
    Contact,
    HandledCommand,
    Label,
    Merchant,
    TrackedReturn,
)
from returns_labels.service.ports import Waiting

Document = dict[str, Any]

RETURNS = "returns"
LABEL_FILES = "label_files"
MERCHANTS = "merchants"
WAITING = "waiting"
WAITING_FOR_MERCHANT = "waiting_for_merchant"

# Statuses as labels stored them before the services shared one vocabulary; read as today's.
_LEGACY_STATUSES = {"label_pending": "pending", "label_generated": "generated"}


def _label_document(label: Label) -> Document:
    return {
        "label_id": label.label_id,
        "generation": label.generation,
        "tracking_number": label.tracking_number,
        "carrier": label.carrier,
        "object_key": label.object_key,
        "created_at": label.created_at,
        "requested_by": None
        if label.requested_by is None
        else label.requested_by.model_dump(mode="json"),
    }


def _label_from(document: Document) -> Label:
    requested_by = document.get("requested_by")
    return Label(
        label_id=document["label_id"],
        generation=document["generation"],
        tracking_number=document["tracking_number"],
        carrier=document["carrier"],
        object_key=document["object_key"],
        created_at=document["created_at"],
        requested_by=None if requested_by is None else Actor.model_validate(requested_by),
    )


class MongoReturnStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.returns = database[RETURNS]
        self.label_files = database[LABEL_FILES]
        self._return_inserts = GroupedInserts(self.returns)
        self._label_file_inserts = GroupedInserts(self.label_files)

    async def create_indexes(self) -> None:
        # Production MongoDB needs it for per-merchant lists and label work queues.
        await self.returns.create_index([("merchant_id", ASCENDING), ("status", ASCENDING)])

    async def add(self, tracked: TrackedReturn) -> bool:
        customer = tracked.customer
        try:
            await self._return_inserts.insert_one(
                {
                    "_id": tracked.return_id,
                    "merchant_id": tracked.merchant_id,
                    "order_number": tracked.order_number,
                    "defective": tracked.defective,
                    "split_mixed": tracked.split_mixed,
                    "status": tracked.status,
                    "event_id": str(tracked.source_event_id),
                    "correlation_id": tracked.correlation_id,
                    "recorded_at": tracked.recorded_at,
                    "customer": None
                    if customer is None
                    else {
                        "name": customer.name,
                        "email": customer.email,
                        "address": None
                        if customer.address is None
                        else customer.address.model_dump(mode="json"),
                    },
                    "label": None,
                    "label_generation": 0,
                    "voided_labels": [],
                    "handled_commands": [],
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def get(self, return_id: str) -> TrackedReturn | None:
        document = await self.returns.find_one({"_id": return_id})
        if document is None:
            return None
        status = _LEGACY_STATUSES.get(document["status"], document["status"])
        if status not in LABEL_STATUSES:
            raise ValueError(f"return {return_id!r} has unknown label status {status!r}")
        customer = document.get("customer")
        label = document.get("label")
        return TrackedReturn(
            return_id=document["_id"],
            merchant_id=document["merchant_id"],
            order_number=document["order_number"],
            defective=document["defective"],
            split_mixed=document.get("split_mixed", False),
            status=status,
            source_event_id=UUID(document["event_id"]),
            recorded_at=document["recorded_at"],
            correlation_id=document.get("correlation_id"),
            customer=None
            if customer is None
            else Contact(
                name=customer["name"],
                email=customer["email"],
                address=None
                if customer.get("address") is None
                else Address.model_validate(customer["address"]),
            ),
            label=None if label is None else _label_from(label),
            label_generation=document.get("label_generation", 0),
            voided_labels=tuple(_label_from(old) for old in document.get("voided_labels", [])),
            handled_commands=tuple(
                HandledCommand(UUID(handled["event_id"]), handled["label_id"])
                for handled in document.get("handled_commands", [])
            ),
        )

    async def commit_label(
        self,
        return_id: str,
        *,
        expected_generation: int,
        label: Label,
        voided: Label | None,
        voided_at: datetime,
        command_event_id: UUID | None,
    ) -> bool:
        push: Document = {}
        if voided is not None:
            push["voided_labels"] = {**_label_document(voided), "voided_at": voided_at}
        if command_event_id is not None:
            push["handled_commands"] = {
                "event_id": str(command_event_id),
                "label_id": label.label_id,
            }
        update: Document = {
            "$set": {
                "label": _label_document(label),
                "label_generation": label.generation,
                "status": "generated",
            }
        }
        if push:
            update["$push"] = push
        result = await self.returns.update_one(
            {"_id": return_id, "label_generation": expected_generation}, update
        )
        return result.modified_count == 1

    async def remember_label_file(self, label: Label, return_id: str, merchant_id: str) -> None:
        fields = {
            "return_id": return_id,
            "merchant_id": merchant_id,
            "object_key": label.object_key,
        }
        try:
            await self._label_file_inserts.insert_one({"_id": label.label_id, **fields})
        except DuplicateKeyError:
            # The same label again (its message redelivered): the same values.
            await self.label_files.update_one({"_id": label.label_id}, {"$set": fields})

    async def return_of_label(self, label_id: str) -> str | None:
        document = await self.label_files.find_one({"_id": label_id})
        return None if document is None else str(document["return_id"])


class MongoMerchantStore:
    def __init__(self, database: AsyncDatabase[Document], cache_seconds: float = 0.0) -> None:
        self.merchants = database[MERCHANTS]
        # Every label reads its merchant. One without a return address is never kept: a
        # classic return parked for it looks again after parking, and must see the address
        # that came meanwhile.
        self._read: RecentReads[str, Merchant] = RecentReads(cache_seconds)

    async def save_if_newer(self, update: MerchantUpdated) -> bool:
        payload = update.payload
        saved = await save_if_newer_revision(
            self.merchants,
            update.merchant_id,
            payload.revision,
            {
                "name": payload.name,
                "return_address": None
                if payload.return_address is None
                else payload.return_address.model_dump(mode="json"),
                "source_event_id": str(update.event_id),
            },
        )
        # After the write: a label that read the merchant while it was on its way must not
        # keep the older snapshot.
        self._read.forget(update.merchant_id)
        return saved

    async def get(self, merchant_id: str) -> Merchant | None:
        kept = self._read.get(merchant_id)
        if kept is not None:
            return kept
        document = await self.merchants.find_one({"_id": merchant_id})
        if document is None:
            return None
        address = document.get("return_address")
        merchant = Merchant(
            merchant_id=merchant_id,
            revision=document["revision"],
            name=document["name"],
            return_address=None if address is None else Address.model_validate(address),
        )
        if merchant.can_receive_parcels:
            self._read.keep(merchant_id, merchant)
        return merchant


class MongoWaitingStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.waiting = database[WAITING]
        self.for_merchant = database[WAITING_FOR_MERCHANT]

    async def create_indexes(self) -> None:
        # Production MongoDB needs it to find a merchant's waiting labels.
        await self.for_merchant.create_index("merchant_id")

    async def park_command(self, command: LabelRequested, deadline: datetime) -> None:
        await self.waiting.update_one(
            {"_id": command.payload.return_id},
            {
                # The same command redelivered is the same JSON: $addToSet keeps it once.
                "$addToSet": {"commands": command.model_dump(mode="json")},
                "$min": {"commands_deadline": deadline},
            },
            upsert=True,
        )

    async def get(self, return_id: str) -> Waiting | None:
        document = await self.waiting.find_one({"_id": return_id})
        if document is None:
            return None
        commands: list[LabelRequested] = []
        for raw in document.get("commands", []):
            message = parse_message(raw)
            if isinstance(message, LabelRequested):
                commands.append(message)
        return Waiting(
            return_id=return_id,
            commands=tuple(commands),
            commands_deadline=document.get("commands_deadline"),
        )

    async def done_with_command(self, return_id: str, command: LabelRequested) -> None:
        # The exact value parked: FerretDB v1's $pull matches whole values, not conditions.
        await self.waiting.update_one(
            {"_id": return_id}, {"$pull": {"commands": command.model_dump(mode="json")}}
        )
        # Conditional, so a command parked meanwhile is not deleted with the document.
        await self.waiting.delete_one(
            {
                "_id": return_id,
                "$or": [{"commands": {"$size": 0}}, {"commands": {"$exists": False}}],
            }
        )

    async def return_ids(self, *, after: str | None, limit: int) -> list[str]:
        query: Document = {} if after is None else {"_id": {"$gt": after}}
        cursor = self.waiting.find(query, {"_id": 1}).sort("_id", ASCENDING).limit(limit)
        return [str(document["_id"]) async for document in cursor]

    async def park_automatic_label(self, return_id: str, merchant_id: str) -> None:
        await self.for_merchant.update_one(
            {"_id": return_id}, {"$set": {"merchant_id": merchant_id}}, upsert=True
        )

    async def done_with_automatic_label(self, return_id: str) -> None:
        await self.for_merchant.delete_one({"_id": return_id})

    async def automatic_labels_of(
        self, merchant_id: str, *, after: str | None, limit: int
    ) -> list[str]:
        query: Document = {"merchant_id": merchant_id}
        if after is not None:
            query["_id"] = {"$gt": after}
        cursor = self.for_merchant.find(query, {"_id": 1}).sort("_id", ASCENDING).limit(limit)
        return [str(document["_id"]) async for document in cursor]
