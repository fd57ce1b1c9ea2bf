"""`--stored N`: load N returns straight into declaration's store, fast, before the load.

They go through `DeclarationRepository.load_returns`, the repository's bulk path, so they are
listed per merchant like submitted ones; they carry no pending event (as if published long
ago), so the relay has nothing to send for them. They belong to the bench's merchant, like the
returns of the load. `stored_return` is the same return as one document, the size the raw store
probes write.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pymongo import AsyncMongoClient

from returns_bench.stats import is_defective
from returns_declaration.adapters.outbox import outbox_fields
from returns_declaration.adapters.repository import DeclarationRepository
from returns_declaration.domain.model import Customer, Return, ReturnLine, TimelineEntry
from returns_declaration.service.events import return_submitted
from returns_declaration.service.ports import TimelineChange

PRODUCER = "returns-bench"


def stored_declared(merchant_id: str, index: int, defective: bool, now: datetime) -> Return:
    """One submitted return of the bench's merchant, `index` seconds before `now`."""
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
            # A photo id of no photo: nothing reads it, no event of it is ever sent.
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
    return Return(
        id=return_id,
        merchant_id=merchant_id,
        order_number=f"S-{index:08d}",
        ordered_on=date(2026, 1, 1),
        customer=Customer(name="Stored Customer", email="stored.customer@example.com"),
        locale="fr",
        lines=tuple(lines),
        submitted_at=submitted_at,
    )


def stored_return(merchant_id: str, index: int, defective: bool, now: datetime) -> dict[str, Any]:
    """The document of one submitted return whose ReturnSubmitted was already published."""
    declared = stored_declared(merchant_id, index, defective, now)
    submitted_at = declared.submitted_at
    return_id = declared.id
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
    """Load `count` returns in batches through the repository's bulk path; the ids loaded."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    ids: list[str] = []
    now = datetime.now(UTC)
    try:
        repository = DeclarationRepository(client[database])
        for first in range(0, count, batch):
            items = []
            for index in range(first, min(first + batch, count)):
                declared = stored_declared(
                    merchant_id, index, is_defective(index, defective_share), now
                )
                entry = TimelineEntry(
                    event_id=f"bench-stored-{declared.id}",
                    kind="submitted",
                    at=declared.submitted_at,
                )
                items.append((declared, TimelineChange(entry=entry)))
            await repository.load_returns(merchant_id, items)
            ids.extend(declared.id for declared, _ in items)
            on_batch(len(items))
    finally:
        await client.close()
    return ids
