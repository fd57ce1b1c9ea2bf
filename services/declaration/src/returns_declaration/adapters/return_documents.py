"""How a return is stored: the document of a new return, and a return record read back.

Nested models are stored in their JSON form (dates as ISO text); fields that lists filter and
sort on are copied to the top level with their BSON types.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

from returns_declaration.adapters.outbox import Document, outbox_fields
from returns_declaration.adapters.resolutions import stored_resolution
from returns_declaration.domain.model import Return, TimelineEntry
from returns_declaration.service.ports import ReturnFilter, ReturnRecord, TimelineChange


def first_record(declared: Return, first: TimelineChange) -> ReturnRecord:
    return ReturnRecord(
        declared=declared,
        label_status=first.label_status or declared.first_label_status(),
        timeline=(first.entry,),
    )


def return_document(record: ReturnRecord, first: TimelineChange, number: int) -> Document:
    declared = record.declared
    return {
        "_id": declared.id,
        "listing_number": number,
        "merchant_id": declared.merchant_id,
        "order_number": declared.order_number,
        "submitted_at": declared.submitted_at,
        "defective": declared.defective,
        "label_status": record.label_status,
        "return": declared.model_dump(mode="json"),
        "timeline": [first.entry.model_dump(mode="json")],
        "applied_events": {first.entry.event_id: True},
        **outbox_fields(first.events),
    }


def list_query(where: ReturnFilter) -> Document:
    """The conditions of a back-office filter on a return document."""
    query: Document = {}
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
    return query


def record_of(document: Document) -> ReturnRecord:
    declared = Return.model_validate(document["return"])
    # Returns stored before the timeline existed read as just submitted.
    return ReturnRecord(
        declared=declared,
        label_status=document.get("label_status") or declared.first_label_status(),
        timeline=tuple(
            TimelineEntry.model_validate(entry) for entry in document.get("timeline", [])
        ),
        label=document.get("label"),
        resolution=stored_resolution(document),
    )
