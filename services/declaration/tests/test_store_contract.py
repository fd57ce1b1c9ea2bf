"""One suite for declaration's store, run against the in-memory fake of the unit tests and the
MongoDB adapter on the real server: the use-case tests trust the fake only as far as it behaves
like the adapter, so every promise of the store port is checked on both here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime

import pytest

from returns_contracts.service_kit.testing import scratch_database
from returns_declaration.adapters.repository import DeclarationRepository
from returns_declaration.domain.model import Return, TimelineEntry
from returns_declaration.service.errors import RevisionConflict
from returns_declaration.service.ports import ApiKey, DeclarationStore, ReturnFilter, TimelineChange

from .builders import NOW, draft, merchant, order, returned
from .fakes import InMemoryStore


@pytest.fixture(
    params=[
        pytest.param("in_memory"),
        pytest.param("mongodb", marks=pytest.mark.integration),
    ]
)
async def store(request: pytest.FixtureRequest) -> AsyncIterator[DeclarationStore]:
    if request.param == "in_memory":
        yield InMemoryStore()
        return
    mongodb_url: str = request.getfixturevalue("mongodb_url")
    async with scratch_database(mongodb_url, "declaration_store") as database:
        repository = DeclarationRepository(database)
        await repository.create_indexes()
        yield repository


def _return(
    n: int,
    *,
    merchant_id: str = "shop",
    defective: bool = False,
    order_number: str | None = None,
    submitted_on: date | None = None,
) -> Return:
    at = None if submitted_on is None else datetime.combine(submitted_on, NOW.timetz())
    return returned(merchant_id, n, defective, order_number=order_number, submitted_at=at)


def _submitted(declared: Return) -> TimelineChange:
    return TimelineChange(
        entry=TimelineEntry(event_id=f"s-{declared.id}", kind="submitted", at=NOW)
    )


async def _add(store: DeclarationStore, declared: Return) -> Return:
    _, created = await store.add_return(declared, _submitted(declared))
    assert created
    return declared


async def _listed(store: DeclarationStore, where: ReturnFilter, limit: int = 2) -> list[str]:
    """Every return of "shop" the filter lets through, page after page."""
    seen: list[str] = []
    cursor: str | None = None
    while True:
        page = await store.list_returns("shop", where, limit, cursor)
        assert len(page.records) <= limit
        seen.extend(record.declared.id for record in page.records)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


# --- listing the returns of a merchant (back-office) -------------------------------------------


async def test_a_list_is_newest_first_paged_and_of_one_merchant(store: DeclarationStore) -> None:
    mine = [await _add(store, _return(n)) for n in range(5)]
    await _add(store, _return(9, merchant_id="other-shop"))

    assert await _listed(store, ReturnFilter()) == [r.id for r in reversed(mine)]


async def test_a_list_keeps_only_what_every_filter_lets_through(store: DeclarationStore) -> None:
    classic_old = await _add(store, _return(1, submitted_on=date(2026, 11, 1)))
    defective = await _add(store, _return(2, defective=True, order_number="WEB-77"))
    classic_new = await _add(store, _return(3, order_number="web-780"))

    assert await _listed(store, ReturnFilter(defective=True)) == [defective.id]
    assert await _listed(store, ReturnFilter(defective=False)) == [classic_new.id, classic_old.id]
    assert await _listed(store, ReturnFilter(label_status="awaiting_merchant")) == [defective.id]
    assert await _listed(store, ReturnFilter(label_status="pending")) == [
        classic_new.id,
        classic_old.id,
    ]
    # Order number search: contains the text, whatever the case.
    assert await _listed(store, ReturnFilter(order_number="Web-7")) == [
        classic_new.id,
        defective.id,
    ]
    # Submission dates: whole days, both ends included.
    assert await _listed(store, ReturnFilter(submitted_to=date(2026, 11, 1))) == [classic_old.id]
    assert await _listed(store, ReturnFilter(submitted_from=NOW.date())) == [
        classic_new.id,
        defective.id,
    ]
    assert await _listed(
        store, ReturnFilter(defective=False, submitted_from=date(2026, 11, 2))
    ) == [classic_new.id]


async def test_a_decided_return_leaves_the_merchants_queue(store: DeclarationStore) -> None:
    waiting = await _add(store, _return(1, defective=True))
    decided = await _add(store, _return(2, defective=True))
    change = TimelineChange(
        entry=TimelineEntry(event_id="req", kind="label_requested", at=NOW),
        label_status="requested",
    )
    assert await store.change_timeline("shop", decided.id, change)

    assert await _listed(store, ReturnFilter(label_status="awaiting_merchant")) == [waiting.id]
    assert await _listed(store, ReturnFilter(label_status="requested")) == [decided.id]


async def test_a_cursor_that_is_not_one_is_refused(store: DeclarationStore) -> None:
    await _add(store, _return(1))

    with pytest.raises(ValueError):
        await store.list_returns("shop", ReturnFilter(), 10, "not-a-cursor!")


# --- returns and their timeline --------------------------------------------------------------


async def test_a_return_is_stored_once_and_read_only_by_its_merchant(
    store: DeclarationStore,
) -> None:
    declared = await _add(store, _return(1, defective=True))

    again, created = await store.add_return(declared, _submitted(declared))
    assert not created and again.declared == declared
    record = await store.get_return("shop", declared.id)
    assert record is not None and record.label_status == "awaiting_merchant"
    assert await store.get_return("other-shop", declared.id) is None


async def test_a_timeline_change_is_applied_once_per_event(store: DeclarationStore) -> None:
    declared = await _add(store, _return(1))
    change = TimelineChange(
        entry=TimelineEntry(event_id="gen-1", kind="label_generated", at=NOW),
        label_status="generated",
        label={"label_id": "L-1"},
    )

    assert await store.change_timeline("shop", declared.id, change)
    assert await store.change_timeline("shop", declared.id, change)
    assert not await store.change_timeline("other-shop", declared.id, change)

    record = await store.get_return("shop", declared.id)
    assert record is not None
    assert [entry.event_id for entry in record.timeline] == [f"s-{declared.id}", "gen-1"]
    assert record.label_status == "generated"
    assert record.label is not None and record.label["label_id"] == "L-1"


# --- R3: what an order still has to return ------------------------------------------------------


async def test_r3_an_order_line_is_never_reserved_past_its_quantity(
    store: DeclarationStore,
) -> None:
    the_order = order()  # line 1: 3 mugs, line 2: 1 tee
    await store.save_order(the_order)

    assert await store.reserve(the_order, "r-1", {"1": 2})
    assert not await store.reserve(the_order, "r-2", {"1": 2})
    assert not await store.reserve(the_order, "r-2", {"1": 1, "2": 2})
    assert not await store.reserve(the_order, "r-2", {"9": 1})  # no such line
    assert await store.reserve(the_order, "r-2", {"1": 1, "2": 1})
    # A retry of a reservation that is held succeeds, and takes nothing more.
    assert await store.reserve(the_order, "r-1", {"1": 2})
    stored = await store.get_order("shop", the_order.number)
    assert stored is not None
    assert stored.reservations == {"r-1": {"1": 2}, "r-2": {"1": 1, "2": 1}}


# --- merchants, drafts and idempotency keys ----------------------------------------------------


async def test_draft_writes_are_guarded_by_revision(store: DeclarationStore) -> None:
    saved = await store.save_draft(draft())
    assert saved.revision == 1
    with pytest.raises(RevisionConflict):
        await store.save_draft(draft())
    again = await store.save_draft(saved)
    assert again.revision == 2
    assert await store.get_draft("shop", "d1") == again
    assert await store.get_draft("other-shop", "d1") is None


async def test_marking_a_draft_submitted_wins_over_an_edit_from_an_earlier_read(
    store: DeclarationStore,
) -> None:
    read = await store.save_draft(draft())
    edited = await store.save_draft(read)  # an edit that landed after the submit read the draft

    await store.mark_draft_submitted("d1")

    marked = await store.get_draft("shop", "d1")
    assert marked is not None
    assert (marked.submitted_return_id, marked.revision) == ("d1", edited.revision + 1)
    assert marked.model_copy(update={"submitted_return_id": None, "revision": 0}) == (
        edited.model_copy(update={"revision": 0})
    )
    with pytest.raises(RevisionConflict):  # an edit from a read before the mark
        await store.save_draft(edited)


async def test_an_idempotency_key_names_the_first_return_only(store: DeclarationStore) -> None:
    assert await store.claim_idempotency_key("shop", "key-1", "r-1") == "r-1"
    assert await store.claim_idempotency_key("shop", "key-1", "r-2") == "r-1"
    assert await store.claim_idempotency_key("other-shop", "key-1", "r-3") == "r-3"


# --- moved from test_outbox_integration.py, where they ran on MongoDB only --------------------


async def test_merchant_writes_are_guarded_by_revision(store: DeclarationStore) -> None:
    await store.save_merchant(merchant(), [], None)
    with pytest.raises(RevisionConflict):
        await store.save_merchant(merchant(), [], None)
    second = merchant().model_copy(update={"revision": 2})
    await store.save_merchant(second, [], 1)
    with pytest.raises(RevisionConflict):
        await store.save_merchant(second, [], 1)
    assert await store.get_merchant("shop") == second


async def test_api_keys_are_found_by_hash_and_revoked_per_merchant(store: DeclarationStore) -> None:
    key = ApiKey("k1", "shop", NOW)
    await store.add_api_key(key, "hash-1")
    assert await store.find_api_key("hash-1") == key
    assert not await store.revoke_api_key("other", "k1")
    assert await store.revoke_api_key("shop", "k1")
    found = await store.find_api_key("hash-1")
    assert found is not None and found.revoked


async def test_replacing_an_order_keeps_its_reservations(store: DeclarationStore) -> None:
    await store.save_order(order())
    assert await store.reserve(order(), "r1", {"1": 2})
    renamed = order().model_copy(
        update={
            "lines": (order().lines[0].model_copy(update={"name": "Big mug"}), order().lines[1])
        }
    )
    await store.save_order(renamed)
    stored = await store.get_order("shop", "A-1")
    assert stored is not None
    assert stored.order == renamed and stored.reservations == {"r1": {"1": 2}}


async def test_a_reservation_is_idempotent_and_never_exceeds_the_order(
    store: DeclarationStore,
) -> None:
    await store.save_order(order())
    assert await store.reserve(order(), "r1", {"1": 2})
    assert await store.reserve(order(), "r1", {"1": 2})  # the retry finds it
    assert not await store.reserve(order(), "r2", {"1": 2})
    assert await store.reserve(order(), "r3", {"1": 1, "2": 1})
    stored = await store.get_order("shop", "A-1")
    assert stored is not None
    assert stored.reservations == {"r1": {"1": 2}, "r3": {"1": 1, "2": 1}}
