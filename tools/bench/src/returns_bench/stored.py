"""`--stored N`: load N returns straight into declaration's store, fast, before the load.

The documents have the shape `DeclarationRepository.add_return` writes (services/declaration
adapters/repository.py), built from the same domain models and event factory, with the outbox
already acknowledged (`outbox_sent` = its length, `outbox_pending` false) so the relay does not
publish them again. They belong to the bench's merchant, like the returns of the load.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient

from returns_bench.stats import is_defective
from returns_declaration.adapters.outbox import outbox_fields
from returns_declaration.adapters.repository import RETURNS
from returns_declaration.domain.model import Customer, Return, ReturnLine, TimelineEntry
from returns_declaration.service.events import return_submitted

PRODUCER = "returns-bench"


def stored_return(merchant_id: str, index: int, defective: bool, now: datetime) -> dict[str, Any]:
    """The document of one submitted return whose ReturnSubmitted was already published."""
    return_id = str(uuid.uuid4())
    submitted_at = (now - timedelta(seconds=index)).replace(microsecond=0)
    lines = [
        ReturnLine(
            line_id="1",
            sku="MUG",
            name="Mug",
            quantity=1,
            reason_code="damaged" if defective else "wrong_size",
            reason_label="Article abîmé" if defective else "Mauvaise taille",
            defective=defective,
            return_type=None if defective else "refund",
            comment="Arrivé fêlé." if defective else None,
            # A photo id of no photo: nothing reads it, the relay never sends this event.
            media_ids=(str(uuid.uuid4()),) if defective else (),
        ),
        ReturnLine(
            line_id="2",
            sku="TEE",
            name="T-shirt",
            quantity=1,
            reason_code="wrong_size",
            reason_label="Mauvaise taille",
            defective=False,
            return_type="refund",
            comment=None,
            media_ids=(),
        ),
    ]
    declared = Return(
        id=return_id,
        merchant_id=merchant_id,
        order_number=f"S-{index:08d}",
        ordered_on=date(2026, 1, 1),
        customer=Customer(name="Stored Customer", email="stored.customer@example.com"),
        locale="fr",
        lines=tuple(lines),
        submitted_at=submitted_at,
    )
    event = return_submitted(declared, "", f"bench-stored-{index}", PRODUCER)
    entry = TimelineEntry(event_id=str(event.event_id), kind="submitted", at=submitted_at)
    outbox = outbox_fields([event])
    return {
        "_id": return_id,
        "merchant_id": merchant_id,
        "order_number": declared.order_number,
        "submitted_at": submitted_at,
        "defective": defective,
        "label_status": declared.first_label_status(),
        "return": declared.model_dump(mode="json"),
        "timeline": [entry.model_dump(mode="json")],
        "applied_events": {entry.event_id: True},
        **outbox,
        # Already published: the relay must not send these again.
        "outbox_sent": len(outbox["outbox"]),
        "outbox_pending": False,
    }


async def load_stored(
    mongodb_url: str,
    database: str,
    merchant_id: str,
    count: int,
    defective_share: float,
    batch: int = 1000,
    on_batch: Callable[[int], None] = lambda _: None,
) -> list[str]:
    """Insert `count` returns in batches; the ids inserted."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url)
    ids: list[str] = []
    now = datetime.now(UTC)
    try:
        collection = client[database][RETURNS]
        for first in range(0, count, batch):
            documents = [
                stored_return(merchant_id, index, is_defective(index, defective_share), now)
                for index in range(first, min(first + batch, count))
            ]
            await collection.insert_many(documents, ordered=False)
            ids.extend(str(document["_id"]) for document in documents)
            on_batch(len(documents))
    finally:
        await client.close()
    return ids
