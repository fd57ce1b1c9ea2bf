"""How a return document keeps its resolution (issue 15), for the repository.

The resolution is stored whole under `resolution` (its JSON form) and its time, with its BSON
type, under `resolved_at`: the write's filter compares it, so a resolution replaces only none or
an older one, in the same single-document write as the timeline entry and the outbox events.
"""

from __future__ import annotations

from typing import Any

from returns_declaration.adapters.outbox import Document
from returns_declaration.domain.model import LabelStatus
from returns_declaration.domain.resolution import Resolution


def resolution_fields(resolution: Resolution) -> dict[str, Any]:
    """The `$set` of a new resolution."""
    return {"resolution": resolution.model_dump(mode="json"), "resolved_at": resolution.at}


def newer_resolution_guard(resolution: Resolution) -> Document:
    """The filter that lets the write through only over no resolution or an older one."""
    return {
        "$or": [
            {"resolved_at": {"$exists": False}},
            {"resolved_at": {"$lt": resolution.at}},
        ]
    }


def stored_resolution(document: Document) -> Resolution | None:
    stored = document.get("resolution")
    return None if stored is None else Resolution.model_validate(stored)


def awaits_merchant(label_status: LabelStatus, defective: bool) -> bool:
    """Whether a new return goes to the merchant's "to handle" box: a defective one waits for a
    decision even when its classic lines got their label at once (split mixed returns)."""
    return label_status == "awaiting_merchant" or defective


def still_awaiting(document: Document) -> bool:
    """Whether a return in the "to handle" box still waits: no resolution yet, and, unless its
    classic lines were labelled at once, no label asked for either."""
    if document.get("resolution") is not None:
        return False
    split = bool(document.get("return", {}).get("split_mixed", False))
    return split or document["label_status"] == "awaiting_merchant"
