"""The labels service's own view of a return, and where its label stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

LabelStatus = Literal["label_pending", "awaiting_merchant"]
"""`label_pending`: a label is to be generated (a classic return, R10).
`awaiting_merchant`: a defective return; no label until the merchant asks for one (R9, R11)."""


def initial_status(defective: bool) -> LabelStatus:
    return "awaiting_merchant" if defective else "label_pending"


@dataclass(frozen=True, slots=True)
class TrackedReturn:
    return_id: str
    merchant_id: str
    order_number: str
    defective: bool
    status: LabelStatus
    source_event_id: UUID
    """`event_id` of the ReturnSubmitted this record was made from."""
    recorded_at: datetime

    def visible_to(self, merchant_id: str) -> bool:
        """Every merchant sees its own returns only (R12)."""
        return self.merchant_id == merchant_id
