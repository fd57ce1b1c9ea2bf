"""The reservation reconciler on the real store: a crashed submit's quantities come back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from returns_declaration.adapters.repository import PENDING_RESERVATIONS
from returns_declaration.domain.model import Return
from returns_declaration.domain.reservations import PendingReservation
from returns_declaration.service.ports import ReturnRecord, TimelineChange
from returns_declaration.service.reservations import Reconciled, ReservationReconciler

from .test_outbox_integration import Flow

pytestmark = pytest.mark.integration

GRACE = timedelta(minutes=10)
Database = AsyncDatabase[dict[str, Any]]


@pytest.fixture
async def database(mongodb_url: str) -> AsyncIterator[Database]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    name = f"reservations_test_{uuid.uuid4().hex[:8]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


def _crash_once(flow: Flow) -> None:
    """The next add_return dies as the process would between the reservation and the insert."""
    real = flow.repository.add_return

    async def dies(
        declared: Return, first: TimelineChange, before_insert: Awaitable[None] | None = None
    ) -> tuple[ReturnRecord, bool]:
        flow.repository.add_return = real  # type: ignore[method-assign]
        if before_insert is not None:
            await before_insert  # the reservation, made beside the insert's first writes
        raise ConnectionError("the process died between the reservation and the insert")

    flow.repository.add_return = dies  # type: ignore[method-assign]


def _reconciler(flow: Flow, now: datetime) -> ReservationReconciler:
    return ReservationReconciler(flow.repository, GRACE, batch_size=10, clock=lambda: now)


async def _reserved(flow: Flow) -> dict[str, dict[str, int]]:
    stored = await flow.repository.get_order("shop", "A-1")
    assert stored is not None
    return stored.reservations


async def test_the_notes_are_read_oldest_first_through_a_declared_index(
    database: Database,
) -> None:
    flow = Flow(database)
    await flow.repository.create_indexes()
    indexes = await database[PENDING_RESERVATIONS].index_information()
    assert [("noted_at", 1)] in [index["key"] for index in indexes.values()]
    start = datetime.now(UTC).replace(microsecond=0)
    for index in (3, 1, 2):
        await flow.repository.note_reservation(
            PendingReservation("shop", "A-1", f"r-{index}", start + timedelta(seconds=index))
        )
    # Noting again renews the time instead of adding a second note.
    await flow.repository.note_reservation(
        PendingReservation("shop", "A-1", "r-1", start + timedelta(seconds=9))
    )
    found = await flow.repository.pending_reservations(start + timedelta(seconds=9), 2)
    assert [one.return_id for one in found] == ["r-2", "r-3"]
    assert found[0].noted_at == start + timedelta(seconds=2)
    await flow.repository.settle_reservation("shop", "r-2")
    found = await flow.repository.pending_reservations(start + timedelta(seconds=9), 10)
    assert [one.return_id for one in found] == ["r-3", "r-1"]


async def test_a_crashed_submit_never_retried_is_released_after_the_grace_period(
    database: Database,
) -> None:
    flow = Flow(database)
    session = await flow.shop()
    draft_id = await flow.classic_draft(session)
    _crash_once(flow)
    with pytest.raises(ConnectionError):
        await flow.service.portal.submit(session, draft_id, None, "c")
    assert await _reserved(flow) == {draft_id: {"2": 1}}
    # Nothing else could be returned while the crashed one holds the only item.
    now = datetime.now(UTC)

    assert await _reconciler(flow, now).run_once() == Reconciled()
    assert await _reserved(flow) == {draft_id: {"2": 1}}

    assert await _reconciler(flow, now + GRACE).run_once() == Reconciled(released=1)
    assert await _reserved(flow) == {}
    assert await database[PENDING_RESERVATIONS].count_documents({}) == 0
    # The customer can return the item now, with a new draft.
    again = await flow.classic_draft(session)
    assert (await flow.service.portal.submit(session, again, None, "c")).created


async def test_a_submit_that_crashed_after_its_insert_keeps_its_reservation(
    database: Database,
) -> None:
    flow = Flow(database)
    session = await flow.shop()
    draft_id = await flow.classic_draft(session)
    await flow.service.portal.submit(session, draft_id, None, "c")
    assert await database[PENDING_RESERVATIONS].count_documents({}) == 0
    # The process died between the insert and dropping its note.
    noted = datetime.now(UTC)
    await flow.repository.note_reservation(PendingReservation("shop", "A-1", draft_id, noted))

    assert await _reconciler(flow, noted + GRACE).run_once() == Reconciled(completed=1)
    assert await _reserved(flow) == {draft_id: {"2": 1}}
    assert await database[PENDING_RESERVATIONS].count_documents({}) == 0


async def test_release_removes_only_that_return_and_says_when_it_held_nothing(
    database: Database,
) -> None:
    flow = Flow(database)
    session = await flow.shop(quantity_of_line_2=3)
    stored = await flow.repository.get_order("shop", "A-1")
    assert stored is not None
    assert await flow.repository.reserve(stored.order, "r-a", {"2": 1})
    assert await flow.repository.reserve(stored.order, "r-b", {"2": 2})
    assert await flow.repository.release("shop", "A-1", "r-a")
    assert await _reserved(flow) == {"r-b": {"2": 2}}
    assert not await flow.repository.release("shop", "A-1", "r-a")
    assert await _reserved(flow) == {"r-b": {"2": 2}}
    assert session.merchant_id == "shop"


async def test_submits_of_one_draft_noting_at_once_all_succeed(
    database: Database, mongodb_url: str
) -> None:
    """Concurrent upserts of one new note: all but one insert collide, and are not errors."""
    clients: list[AsyncMongoClient[dict[str, Any]]] = [
        AsyncMongoClient(mongodb_url, tz_aware=True) for _ in range(4)
    ]
    try:
        repositories = [Flow(client[database.name]).repository for client in clients]
        noted = datetime.now(UTC).replace(microsecond=0)
        for round_number in range(10):
            pending = PendingReservation("shop", "A-1", f"r-{round_number}", noted)
            await asyncio.gather(*(one.note_reservation(pending) for one in repositories * 2))
        assert await database[PENDING_RESERVATIONS].count_documents({}) == 10
    finally:
        for client in clients:
            await client.close()
