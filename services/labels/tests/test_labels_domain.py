"""Where a submitted return's label stands, and who may see it."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from returns_labels.domain.model import TrackedReturn, initial_status


def test_a_classic_return_waits_for_its_label() -> None:
    assert initial_status(defective=False) == "label_pending"


def test_a_defective_return_waits_for_the_merchant() -> None:
    assert initial_status(defective=True) == "awaiting_merchant"


def test_a_return_is_visible_to_its_merchant_only() -> None:
    tracked = TrackedReturn(
        return_id="r-1",
        merchant_id="m-atelier",
        order_number="CMD-1",
        defective=False,
        status="label_pending",
        source_event_id=uuid4(),
        recorded_at=datetime(2026, 3, 2, tzinfo=UTC),
    )

    assert tracked.visible_to("m-atelier")
    assert not tracked.visible_to("m-other")
