"""MongoDB storage of the notifier: its merchant copies and the record of every e-mail.

Every collection is read by `_id` only (FerretDB turns only `_id` filters into SQL):
`merchants` by merchant_id, `returns` by return_id, `sent_emails` by `<event_id>:<template>`.
The consumers handle a batch's returns side by side, so the writes and reads every return
makes go through the kit's grouped helpers: the same step of the returns in flight is one
command, not one per return.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from returns_contracts import MerchantUpdated, MerchantUpdatedPayload
from returns_contracts.service_kit.cache import RecentReads
from returns_contracts.service_kit.mongo import (
    GroupedInserts,
    GroupedReads,
    GroupedUpdates,
    save_if_newer_revision,
)
from returns_notifier.domain.emails import SentEmail
from returns_notifier.domain.model import Merchant, ReturnRecord

Document = dict[str, Any]

MERCHANTS = "merchants"
RETURNS = "returns"
SENT_EMAILS = "sent_emails"


class MongoMerchantStore:
    def __init__(self, database: AsyncDatabase[Document], cache_seconds: float = 0.0) -> None:
        self.merchants = database[MERCHANTS]
        self._reads = GroupedReads(self.merchants)
        # Every e-mail reads its merchant (sender name, customer service's address).
        self._read: RecentReads[str, Merchant] = RecentReads(cache_seconds)

    async def save_if_newer(self, update: MerchantUpdated) -> bool:
        saved = await save_if_newer_revision(
            self.merchants,
            update.merchant_id,
            update.payload.revision,
            {
                "snapshot": update.payload.model_dump(mode="json"),
                "source_event_id": str(update.event_id),
                "updated_at": update.occurred_at,
            },
        )
        # After the write: an e-mail that read the merchant while it was on its way must not
        # keep the older snapshot.
        self._read.forget(update.merchant_id)
        return saved

    async def get(self, merchant_id: str) -> Merchant | None:
        kept = self._read.get(merchant_id)
        if kept is not None:
            return kept
        document = await self._reads.find_one(merchant_id)
        if document is None:
            return None
        snapshot = MerchantUpdatedPayload.model_validate(document["snapshot"])
        merchant = Merchant.from_snapshot(merchant_id, snapshot)
        self._read.keep(merchant_id, merchant)
        return merchant


class MongoReturnStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.returns = database[RETURNS]
        self._inserts = GroupedInserts(self.returns)
        self._reads = GroupedReads(self.returns)

    async def save(self, record: ReturnRecord) -> None:
        fields = {
            "merchant_id": record.merchant_id,
            "order_number": record.order_number,
            "locale": record.locale,
            "customer_name": record.customer_name,
            "customer_email": record.customer_email,
            "status_url": record.status_url,
        }
        try:
            await self._inserts.insert_one({"_id": record.return_id, **fields})
        except DuplicateKeyError:
            # A redelivery: a return's submission never changes, so this rewrites the same
            # values (or fills in a field an older version of this service did not keep).
            await self.returns.replace_one({"_id": record.return_id}, fields)

    async def get(self, return_id: str) -> ReturnRecord | None:
        document = await self._reads.find_one(return_id)
        if document is None:
            return None
        locale = document["locale"]
        if locale not in ("fr", "en"):
            raise ValueError(f"returns {return_id!r} has unknown locale {locale!r}")
        return ReturnRecord(
            return_id=return_id,
            merchant_id=document["merchant_id"],
            order_number=document["order_number"],
            locale=locale,
            customer_name=document["customer_name"],
            customer_email=document["customer_email"],
            status_url=document.get("status_url"),
        )


class MongoSentEmailStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.sent_emails = database[SENT_EMAILS]
        self._inserts = GroupedInserts(self.sent_emails)
        self._reads = GroupedReads(self.sent_emails)
        self._updates = GroupedUpdates(self.sent_emails)

    async def create_indexes(self) -> None:
        # Support tooling looks up what was sent about one return; production MongoDB needs it.
        await self.sent_emails.create_index("return_id")

    async def begin(
        self, planned: SentEmail, lease: tuple[str, datetime] | None = None
    ) -> tuple[SentEmail, bool]:
        document = _to_document(planned)
        if lease is not None:
            document["lease_owner"], document["lease_until"] = lease
        try:
            # One insert: it fails on a key already recorded, so only its creator holds the
            # lease it carries; any other member goes through `claim` (issue 11: one write
            # fewer per e-mail than an insert followed by a claim).
            await self._inserts.insert_one(document)
        except DuplicateKeyError:
            existing = await self._reads.find_one(planned.key)
            if existing is None:
                raise
            return _from_document(existing), False
        return planned, True

    async def claim(self, key: str, owner: str, now: datetime, until: datetime) -> bool:
        # One conditional update of one document: atomic on MongoDB (and on the embedded
        # store, whose patch makes a guarded update a compare-and-swap).
        result = await self.sent_emails.update_one(
            {
                "_id": key,
                "status": "sending",
                "$or": [
                    {"lease_owner": owner},
                    {"lease_until": None},
                    {"lease_until": {"$lte": now}},
                ],
            },
            {"$set": {"lease_owner": owner, "lease_until": until}},
        )
        return result.matched_count == 1

    async def mark_sent(self, key: str, recipient: str, sent_at: datetime) -> None:
        await self._updates.update_one(
            {"_id": key}, {"$set": {"status": "sent", "recipient": recipient, "sent_at": sent_at}}
        )

    async def mark_published(self, key: str, published_at: datetime) -> None:
        await self._updates.update_one({"_id": key}, {"$set": {"published_at": published_at}})


def _to_document(record: SentEmail) -> Document:
    return {
        "_id": record.key,
        "event_id": str(record.event_id),
        "template": record.template,
        "merchant_id": record.merchant_id,
        "return_id": record.return_id,
        "recipient": record.recipient,
        "message_id": record.message_id,
        "status": record.status,
        "created_at": record.created_at,
        "sent_at": record.sent_at,
        "published_at": record.published_at,
    }


def _from_document(document: Document) -> SentEmail:
    status = document["status"]
    if status not in ("sending", "sent"):
        raise ValueError(f"sent_emails {document['_id']!r} has unknown status {status!r}")
    return SentEmail(
        key=document["_id"],
        event_id=UUID(document["event_id"]),
        template=document["template"],
        merchant_id=document["merchant_id"],
        return_id=document["return_id"],
        recipient=document["recipient"],
        message_id=document["message_id"],
        status=status,
        created_at=document["created_at"],
        sent_at=document.get("sent_at"),
        published_at=document.get("published_at"),
    )
