"""The reservation reconciler on fakes: a submit that died is released or completed."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest

from returns_contracts.service_kit.testing import FakeClock
from returns_declaration.domain.reservations import Fate, PendingReservation, fate_of
from returns_declaration.domain.rules import DeclarationRejected, RequestedQuantity
from returns_declaration.service.reservations import Reconciled, ReservationReconciler

from .builders import NOW
from .test_use_cases import Harness

GRACE = timedelta(minutes=10)


def _pending(noted_at: datetime, return_id: str = "r-1") -> PendingReservation:
    return PendingReservation("shop", "A-1", return_id, noted_at)


@pytest.mark.parametrize(
    ("exists", "age", "fate"),
    [
        (True, timedelta(0), Fate.COMPLETE),
        (True, GRACE * 3, Fate.COMPLETE),
        (False, GRACE - timedelta(seconds=1), Fate.WAIT),
        (False, GRACE, Fate.RELEASE),
        (False, GRACE * 3, Fate.RELEASE),
    ],
)
def test_the_fate_of_a_note_follows_the_return_and_its_age(
    exists: bool, age: timedelta, fate: Fate
) -> None:
    assert fate_of(_pending(NOW - age), exists, NOW, GRACE) is fate


@pytest.fixture
async def harness() -> Harness:
    harness = Harness()
    await harness.with_shop()
    return harness


def _reconciler(harness: Harness, clock: FakeClock, batch_size: int = 100) -> ReservationReconciler:
    return ReservationReconciler(harness.store, GRACE, batch_size, clock)


async def test_a_finished_submit_leaves_no_note(harness: Harness) -> None:
    session = await harness.session()
    draft_id = await harness.mixed_draft(session)
    await harness.service.portal.submit(session, draft_id, None, "c")
    assert harness.store.pending == {}


async def test_a_submit_that_died_before_its_insert_is_released_after_the_grace_period(
    harness: Harness,
) -> None:
    session = await harness.session()
    draft_id = await harness.submit_that_dies_before_its_insert(session)
    assert harness.store.reservations[("shop", "A-1")] == {draft_id: {"1": 1, "2": 1}}
    clock = FakeClock(NOW)
    reconciler = _reconciler(harness, clock)

    # Within the grace period the client may still retry: nothing moves.
    clock.now = NOW + GRACE - timedelta(seconds=1)
    assert await reconciler.run_once() == Reconciled()
    assert draft_id in harness.store.reservations[("shop", "A-1")]

    clock.now = NOW + GRACE
    assert await reconciler.run_once() == Reconciled(released=1)
    assert harness.store.reservations[("shop", "A-1")] == {}
    assert harness.store.pending == {}
    # The quantities are the customer's again: the same items can be returned.
    assert await reconciler.run_once() == Reconciled()
    again = await harness.mixed_draft(session)
    submitted = await harness.service.portal.submit(session, again, None, "c")
    assert submitted.created


async def test_a_submit_that_died_after_its_insert_is_completed_and_keeps_its_quantities(
    harness: Harness,
) -> None:
    session = await harness.session()
    draft_id = await harness.mixed_draft(session)
    await harness.service.portal.submit(session, draft_id, None, "c")
    # As if the process died between the insert and the settle.
    await harness.store.note_reservation(_pending(NOW, draft_id))
    clock = FakeClock(NOW)
    clock.now = NOW + GRACE * 2
    assert await _reconciler(harness, clock).run_once() == Reconciled(completed=1)
    assert harness.store.reservations[("shop", "A-1")] == {draft_id: {"1": 1, "2": 1}}
    assert harness.store.pending == {}


async def test_a_retry_renews_the_note_so_a_live_submit_is_not_released(
    harness: Harness,
) -> None:
    session = await harness.session()
    draft_id = await harness.submit_that_dies_before_its_insert(session)
    clock = FakeClock(NOW)
    clock.now = NOW + GRACE
    later = harness.service.portal.clock
    harness.service.portal.clock = lambda: NOW + GRACE
    harness.store.crash_before_insert = True
    with pytest.raises(ConnectionError):
        await harness.service.portal.submit(session, draft_id, None, "c")
    harness.service.portal.clock = later
    assert await _reconciler(harness, clock).run_once() == Reconciled()
    assert draft_id in harness.store.reservations[("shop", "A-1")]


async def test_a_return_inserted_while_it_was_released_gets_its_quantities_back(
    harness: Harness,
) -> None:
    session = await harness.session()
    draft_id = await harness.mixed_draft(session)
    await harness.service.portal.submit(session, draft_id, None, "c")
    await harness.store.note_reservation(_pending(NOW, draft_id))
    store = harness.store
    reads = 0
    get_return = store.get_return

    async def absent_at_first(merchant_id: str, return_id: str):  # type: ignore[no-untyped-def]
        nonlocal reads
        reads += 1
        return None if reads == 1 else await get_return(merchant_id, return_id)

    store.get_return = absent_at_first  # type: ignore[method-assign]
    clock = FakeClock(NOW)
    clock.now = NOW + GRACE
    assert await _reconciler(harness, clock).run_once() == Reconciled(released=1)
    assert store.reservations[("shop", "A-1")] == {draft_id: {"1": 1, "2": 1}}


async def test_notes_are_reconciled_in_bounded_batches_oldest_first(harness: Harness) -> None:
    for index in range(5):
        await harness.store.note_reservation(_pending(NOW + timedelta(seconds=index), f"r-{index}"))
    clock = FakeClock(NOW)
    clock.now = NOW + GRACE * 2
    reconciler = _reconciler(harness, clock, batch_size=2)
    # None of them reserved anything: dropped, and counted as handled for the next batch.
    assert await reconciler.run_once() == Reconciled(dropped=2)
    assert sorted(key[1] for key in harness.store.pending) == ["r-2", "r-3", "r-4"]
    assert await reconciler.run_once() == Reconciled(dropped=2)
    assert await reconciler.run_once() == Reconciled(dropped=1)
    assert harness.store.pending == {}


async def test_a_submit_refused_by_the_rules_leaves_a_note_dropped_without_a_warning(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    session = await harness.session()
    incomplete = await harness.service.portal.create_draft(session, [RequestedQuantity("2", 1)])
    kept = await harness.service.portal.submit(
        session, await harness.mixed_draft(session), None, "c"
    )
    # Noted beside the key's claim, before the rules refuse the draft (no reason given).
    with pytest.raises(DeclarationRejected):
        await harness.service.portal.submit(session, incomplete.draft.id, "key", "c")
    assert list(harness.store.pending) == [("shop", incomplete.draft.id)]
    clock = FakeClock(NOW + GRACE * 2)
    with caplog.at_level(logging.WARNING):
        assert await _reconciler(harness, clock).run_once() == Reconciled(dropped=1)
    assert harness.store.pending == {}
    assert "released" not in caplog.text
    assert list(harness.store.reservations[("shop", "A-1")]) == [kept.record.declared.id]
