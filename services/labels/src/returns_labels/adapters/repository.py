"""MongoDB storage of the labels service's projection of returns, one document per return.

`_id` is the return_id: the natural key makes a redelivered ReturnSubmitted a duplicate-key
no-op, and reads by `_id` are the only ones FerretDB turns into SQL.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from returns_labels.domain.model import LabelStatus, TrackedReturn

Document = dict[str, Any]

RETURNS = "returns"
_STATUSES: frozenset[LabelStatus] = frozenset({"label_pending", "awaiting_merchant"})


class MongoReturnStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.returns = database[RETURNS]

    async def create_indexes(self) -> None:
        # Production MongoDB needs it for per-merchant lists and label work queues.
        await self.returns.create_index([("merchant_id", 1), ("status", 1)])

    async def add(self, tracked: TrackedReturn) -> bool:
        try:
            await self.returns.insert_one(
                {
                    "_id": tracked.return_id,
                    "merchant_id": tracked.merchant_id,
                    "order_number": tracked.order_number,
                    "defective": tracked.defective,
                    "status": tracked.status,
                    "event_id": str(tracked.source_event_id),
                    "recorded_at": tracked.recorded_at,
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def get(self, return_id: str) -> TrackedReturn | None:
        document = await self.returns.find_one({"_id": return_id})
        if document is None:
            return None
        status = document["status"]
        if status not in _STATUSES:
            raise ValueError(f"return {return_id!r} has unknown label status {status!r}")
        return TrackedReturn(
            return_id=document["_id"],
            merchant_id=document["merchant_id"],
            order_number=document["order_number"],
            defective=document["defective"],
            status=status,
            source_event_id=UUID(document["event_id"]),
            recorded_at=document["recorded_at"],
        )
