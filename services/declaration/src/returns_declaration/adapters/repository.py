"""MongoDB storage of merchants, orders and returns.

Documents get natural `_id`s (`<merchant_id>:<order_number>` for orders) because FerretDB turns
only `_id` filters into SQL; everything else is a scan. Events are written in the same document
as the change that caused them (see outbox.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from returns_contracts import Message
from returns_declaration.adapters.outbox import Document, outbox_append, outbox_fields
from returns_declaration.domain.model import Merchant, Order, Return

MERCHANTS = "merchants"
ORDERS = "orders"
RETURNS = "returns"
OUTBOX_COLLECTIONS = (MERCHANTS, RETURNS)


def order_id(merchant_id: str, order_number: str) -> str:
    return f"{merchant_id}:{order_number}"


def _dates_to_datetimes(value: Any) -> Any:
    # BSON has no date-only type; store midnight UTC and convert back on read.
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, dict):
        return {key: _dates_to_datetimes(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_dates_to_datetimes(item) for item in value]
    return value


class DeclarationRepository:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.database = database
        self.merchants = database[MERCHANTS]
        self.orders = database[ORDERS]
        self.returns = database[RETURNS]

    async def create_indexes(self) -> None:
        # FerretDB on SQLite does not use these; production MongoDB needs them for the relay
        # scan and the back-office lists.
        for collection in (self.merchants, self.returns):
            await collection.create_index("outbox_pending", sparse=True)
        await self.returns.create_index([("merchant_id", 1), ("submitted_at", -1)])

    async def get_merchant(self, merchant_id: str) -> Merchant | None:
        document = await self.merchants.find_one({"_id": merchant_id}, {"merchant": 1})
        return None if document is None else Merchant.model_validate(document["merchant"])

    async def save_merchant(self, merchant: Merchant, events: Sequence[Message]) -> Merchant:
        """Store the merchant with the events its change causes, in one write."""
        update = outbox_append(events)
        update["$set"]["merchant"] = merchant.model_dump(mode="json")
        update["$setOnInsert"] = {"outbox_sent": 0}
        await self.merchants.update_one({"_id": merchant.id}, update, upsert=True)
        return merchant

    async def save_order(self, order: Order) -> None:
        document = _dates_to_datetimes(order.model_dump())
        await self.orders.replace_one(
            {"_id": order_id(order.merchant_id, order.number)}, {"order": document}, upsert=True
        )

    async def get_order(self, merchant_id: str, order_number: str) -> Order | None:
        document = await self.orders.find_one({"_id": order_id(merchant_id, order_number)})
        if document is None:
            return None
        order = document["order"]
        order["ordered_on"] = order["ordered_on"].date()
        return Order.model_validate(order)

    async def add_return(self, declared: Return, events: Sequence[Message]) -> tuple[Return, bool]:
        """Insert the return with its events; if that id exists, give back the stored one.

        Returns (return, created).
        """
        document: Document = {
            "_id": declared.id,
            "merchant_id": declared.merchant_id,
            "submitted_at": declared.submitted_at,
            "return": _dates_to_datetimes(declared.model_dump()),
            **outbox_fields(events),
        }
        try:
            await self.returns.insert_one(document)
            return declared, True
        except DuplicateKeyError:
            existing = await self.get_return(declared.merchant_id, declared.id)
            if existing is None:
                raise
            return existing, False

    async def get_return(self, merchant_id: str, return_id: str) -> Return | None:
        document = await self.returns.find_one({"_id": return_id})
        if document is None or document["merchant_id"] != merchant_id:
            return None
        stored = document["return"]
        stored["ordered_on"] = stored["ordered_on"].date()
        return Return.model_validate(stored)
