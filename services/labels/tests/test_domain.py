"""Where a submitted return's label stands, and who may see it."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from returns_labels.domain.model import (
    TrackedReturn,
    initial_status,
    label_id_for,
    s10_check_digit,
)


def test_a_classic_return_waits_for_its_label() -> None:
    assert initial_status(defective=False) == "pending"


def test_a_defective_return_waits_for_the_merchant() -> None:
    assert initial_status(defective=True) == "awaiting_merchant"


def test_a_return_is_visible_to_its_merchant_only() -> None:
    tracked = TrackedReturn(
        return_id="r-1",
        merchant_id="m-atelier",
        order_number="CMD-1",
        defective=False,
        status="pending",
        source_event_id=uuid4(),
        recorded_at=datetime(2026, 3, 2, tzinfo=UTC),
    )

    assert tracked.visible_to("m-atelier")
    assert not tracked.visible_to("m-other")


def test_the_s10_check_digit_matches_the_upu_example() -> None:
    # UPU S10 example: serial 47312482 -> check digit 9.
    assert s10_check_digit("47312482") == 9


def test_a_label_id_is_the_same_for_the_same_return_and_generation_only() -> None:
    assert label_id_for("r-1", 1) == label_id_for("r-1", 1)
    assert len({label_id_for("r-1", 1), label_id_for("r-1", 2), label_id_for("r-2", 1)}) == 3
