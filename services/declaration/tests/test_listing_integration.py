"""The back-office lists on the real MongoDB-protocol server: paged through the merchants'
listings, never by scanning the returns (on FerretDB any filter but `_id` reads them all)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from returns_contracts.service_kit.testing import scratch_database
from returns_declaration.adapters.listing import MerchantListing, entry_id
from returns_declaration.adapters.repository import (
    RETURNS,
    RETURNS_BY_MERCHANT,
    DeclarationRepository,
)
from returns_declaration.domain.model import (
    Return,
    TimelineEntry,
)
from returns_declaration.service.errors import InvalidCursor
from returns_declaration.service.ports import ReturnFilter, TimelineChange

from .builders import NOW, returned

pytestmark = pytest.mark.integration

Database = AsyncDatabase[dict[str, Any]]


class _ReturnsFinds(monitoring.CommandListener):
    def __init__(self) -> None:
        self.filters: list[dict[str, Any]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if (
            event.command_name in ("find", "count", "aggregate")
            and event.command.get(event.command_name) == RETURNS
        ):
            self.filters.append(dict(event.command.get("filter", {})))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
async def watched(mongodb_url: str) -> AsyncIterator[tuple[Database, _ReturnsFinds]]:
    listener = _ReturnsFinds()
    async with scratch_database(mongodb_url, "listing_test", [listener]) as database:
        yield database, listener


def _submitted(n: int) -> TimelineChange:
    return TimelineChange(entry=TimelineEntry(event_id=f"s{n}", kind="submitted", at=NOW))


async def _all_pages(
    repository: DeclarationRepository, merchant_id: str, where: ReturnFilter, limit: int
) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page = await repository.list_returns(merchant_id, where, limit, cursor)
        assert len(page.records) <= limit
        seen.extend(record.declared.id for record in page.records)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


async def test_each_merchant_pages_through_its_own_returns_newest_first_by_id_only(
    watched: tuple[Database, _ReturnsFinds],
) -> None:
    database, listener = watched
    repository = DeclarationRepository(database)
    added: dict[str, list[Return]] = {"shop": [], "other": []}
    for n in range(23):
        merchant_id = "shop" if n % 3 else "other"
        declared = returned(merchant_id, n, defective=n % 4 == 0)
        await repository.add_return(declared, _submitted(n))
        added[merchant_id].append(declared)
    # A retried write of the same return takes a number of its own: still listed once.
    _, created = await repository.add_return(added["shop"][3], _submitted(3))
    assert not created
    # A write interrupted between its number and its document: nothing to list.
    await repository.listing.take("shop", "never-written")

    fresh = DeclarationRepository(database)  # another process: finds the newest by probing
    for merchant_id, returns in added.items():
        newest_first = [item.id for item in reversed(returns)]
        for limit in (1, 4, 50):
            assert await _all_pages(fresh, merchant_id, ReturnFilter(), limit) == newest_first
        defective = [item.id for item in reversed(returns) if item.defective]
        assert await _all_pages(fresh, merchant_id, ReturnFilter(defective=True), 2) == defective
    assert await _all_pages(fresh, "nobody", ReturnFilter(), 10) == []
    with pytest.raises(InvalidCursor):
        await fresh.list_returns("shop", ReturnFilter(), 10, "not-a-cursor")

    assert listener.filters
    assert all("_id" in filter_ for filter_ in listener.filters), [
        filter_ for filter_ in listener.filters if "_id" not in filter_
    ]


async def test_the_to_handle_box_lists_the_defective_returns_until_decided(
    watched: tuple[Database, _ReturnsFinds],
) -> None:
    database, listener = watched
    repository = DeclarationRepository(database)
    waiting = [returned("shop", n, defective=True) for n in range(3)]
    for n, declared in enumerate(waiting):
        await repository.add_return(declared, _submitted(n))
    await repository.add_return(returned("shop", 9), _submitted(9))
    await repository.add_return(returned("other", 8, defective=True), _submitted(8))
    box = ReturnFilter(label_status="awaiting_merchant")

    assert await _all_pages(repository, "shop", box, 2) == [item.id for item in waiting[::-1]]
    decided = TimelineChange(
        entry=TimelineEntry(event_id="req", kind="label_requested", at=NOW),
        label_status="requested",
    )
    assert await repository.change_timeline("shop", waiting[1].id, decided)
    assert await _all_pages(repository, "shop", box, 10) == [waiting[2].id, waiting[0].id]
    queue = database["returns_awaiting_merchant"]
    assert await queue.find_one({"listed_id": waiting[1].id}) is None  # dropped as read
    assert await queue.count_documents({"listed_id": waiting[2].id}) == 1
    assert all("_id" in filter_ for filter_ in listener.filters), listener.filters


async def test_a_return_whose_reservation_is_refused_leaves_no_queue_entry_and_no_marker(
    watched: tuple[Database, _ReturnsFinds],
) -> None:
    database, _ = watched
    repository = DeclarationRepository(database)
    kept = returned("shop", 1, defective=True)
    await repository.add_return(kept, _submitted(1))

    async def refused() -> None:
        raise LookupError("another return took the last items")

    lost = returned("shop", 2, defective=True)
    with pytest.raises(LookupError):
        await repository.add_return(lost, _submitted(2), before_insert=refused())
    assert await repository.get_return("shop", lost.id) is None
    queue = database["returns_awaiting_merchant"]
    assert [entry["listed_id"] async for entry in queue.find({})] == [kept.id]
    markers = database["outbox_markers"]
    assert await markers.count_documents({"document_id": lost.id}) == 0
    box = ReturnFilter(label_status="awaiting_merchant")
    assert await _all_pages(repository, "shop", box, 10) == [kept.id]


async def test_the_to_handle_box_finds_a_few_old_ones_under_many_newer_returns(
    watched: tuple[Database, _ReturnsFinds],
) -> None:
    database, listener = watched
    repository = DeclarationRepository(database)
    old = [returned("shop", n, defective=True) for n in range(2)]
    newer = [returned("shop", n) for n in range(10, 400)]
    await repository.load_returns("shop", [(item, _submitted(n)) for n, item in enumerate(old)])
    await repository.load_returns("shop", [(item, _submitted(n)) for n, item in enumerate(newer)])
    box = ReturnFilter(label_status="awaiting_merchant")
    assert await _all_pages(repository, "shop", box, 1) == [old[1].id, old[0].id]
    assert await _all_pages(repository, "other", box, 1) == []
    assert all("_id" in filter_ for filter_ in listener.filters), listener.filters


async def test_returns_stored_before_listings_are_numbered_once_at_start_up(
    watched: tuple[Database, _ReturnsFinds],
) -> None:
    database, _ = watched
    repository = DeclarationRepository(database)
    older = [returned("shop", n, defective=n == 1) for n in range(3)]
    for n, declared in enumerate(older):
        await repository.add_return(declared, _submitted(n))
    # As stored before this change: no number, no listing, no queue.
    await database[RETURNS].update_many({}, {"$unset": {"listing_number": ""}})
    await database[RETURNS_BY_MERCHANT].delete_many({})
    await database["returns_awaiting_merchant"].delete_many({})

    restarted = DeclarationRepository(database)
    await restarted.create_indexes()
    await restarted.create_indexes()  # a second start numbers nothing again
    assert await _all_pages(restarted, "shop", ReturnFilter(), 2) == [r.id for r in older[::-1]]
    box = ReturnFilter(label_status="awaiting_merchant")
    assert await _all_pages(restarted, "shop", box, 10) == [older[1].id]
    assert await database[RETURNS_BY_MERCHANT].find_one({"_id": entry_id("shop", 4)}) is None


async def test_a_bulk_load_is_listed_after_what_was_there(
    watched: tuple[Database, _ReturnsFinds],
) -> None:
    database, _ = watched
    repository = DeclarationRepository(database)
    before = [returned("shop", n) for n in range(2)]
    for n, declared in enumerate(before):
        await repository.add_return(declared, _submitted(n))
    loaded = [returned("shop", n, defective=n % 2 == 0) for n in range(10, 60)]
    other = DeclarationRepository(database)  # another process: probes where to go on
    await other.load_returns("shop", [(item, _submitted(n)) for n, item in enumerate(loaded)])
    await repository.add_return(after := returned("shop", 99), _submitted(99))
    expected = [after.id] + [item.id for item in reversed(before + loaded)]
    assert await _all_pages(repository, "shop", ReturnFilter(), 7) == expected
    box = ReturnFilter(label_status="awaiting_merchant")
    assert await _all_pages(repository, "shop", box, 7) == [
        item.id for item in reversed(loaded) if item.defective
    ]


class _Counted(monitoring.CommandListener):
    """How many commands named `command` the client sent."""

    def __init__(self, command: str = "insert") -> None:
        self.command = command
        self.count = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == self.command:
            self.count += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_numbers_taken_at_once_are_contiguous_and_collide_only_across_processes(
    mongodb_url: str, watched: tuple[Database, _ReturnsFinds]
) -> None:
    """A burst of submits in one process, beside another process taking numbers too."""
    database, _ = watched
    inserts = _Counted()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongodb_url, event_listeners=[inserts]
    )
    try:
        this = MerchantListing(client[database.name][RETURNS_BY_MERCHANT])
        other = MerchantListing(database[RETURNS_BY_MERCHANT])
        assert await this.take("shop", "first") == 1
        inserts.count = 0
        numbers = await asyncio.gather(
            *(this.take("shop", f"a{n}") for n in range(30)),
            *(other.take("shop", f"b{n}") for n in range(10)),
        )
    finally:
        await client.close()
    assert sorted(numbers) == list(range(2, 42))
    # Each of the other process's numbers can refuse one insert of this one; this process's
    # own takes never try the same number twice.
    assert inserts.count <= 30 + 10, inserts.count
    fresh = MerchantListing(database[RETURNS_BY_MERCHANT])
    assert await fresh.head("shop") == 41


async def test_a_burst_of_first_takes_in_a_new_process_probes_for_the_newest_number_once(
    mongodb_url: str, watched: tuple[Database, _ReturnsFinds]
) -> None:
    """A process that just started meets a burst of submits before it knows the newest number:
    one probe serves them all (each running its own probe cost a burst 2 log2(n / WINDOW) + 2
    queries per submit)."""
    database, _ = watched
    await database[RETURNS_BY_MERCHANT].insert_many(
        [{"_id": entry_id("shop", number), "listed_id": f"r{number}"} for number in range(1, 2001)]
    )
    finds = _Counted("find")
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongodb_url, event_listeners=[finds]
    )
    try:
        alone = MerchantListing(client[database.name][RETURNS_BY_MERCHANT])
        assert await alone.head("shop") == 2000
        one_probe = finds.count
        finds.count = 0
        started = MerchantListing(client[database.name][RETURNS_BY_MERCHANT])
        numbers = await asyncio.gather(*(started.take("shop", f"n{n}") for n in range(20)))
    finally:
        await client.close()
    assert sorted(numbers) == list(range(2001, 2021))
    assert finds.count == one_probe, (finds.count, one_probe)


@pytest.mark.parametrize(
    "never_inserted",
    [{8}, {1}, {5}, {8, 9, 10, 11, 12}, set(range(100, 300))],
    ids=["on-the-probe's-path", "the-first", "one", "five", "two-hundred"],
)
async def test_numbers_a_killed_process_claimed_but_never_inserted_hide_nothing_after_them(
    watched: tuple[Database, _ReturnsFinds], never_inserted: set[int]
) -> None:
    """A process killed with inserts in flight leaves holes: the numbers it claimed and never
    inserted, below numbers taken after them. A process started afterwards must still find
    the newest number (the back-office lists from it) and take the next one after it."""
    database, _ = watched
    entries = database[RETURNS_BY_MERCHANT]
    newest = 400
    await entries.insert_many(
        [
            {"_id": entry_id("shop", number), "listed_id": f"r{number}"}
            for number in range(1, newest + 1)
            if number not in never_inserted
        ]
    )
    started_after = MerchantListing(entries)
    assert await started_after.head("shop") == newest
    assert await MerchantListing(entries).take("shop", "next") == newest + 1
    # A process that knew an older newest number walks up past the holes too.
    assert await started_after.head("shop") == newest + 1
