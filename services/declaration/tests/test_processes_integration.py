"""Declaration run as several processes: no lock between them, only the store's guards.

Each `Process` below is what one declaration process holds: its own MongoDB client (its own
connections), repository, service and outbox relay. They race on one order and one return
record through the real server. What keeps them right is the compare-and-swap of each write:
the insert of the next reservation version, and the single-document updates guarded by a
filter (revision, event not applied yet, outbox size), atomic on MongoDB and on the embedded
store's patched FerretDB (tests/store/test_store_atomic_updates.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from returns_contracts import Topics, examples
from returns_contracts.service_kit.kafka import server_list
from returns_contracts.service_kit.kafka_topics import ensure_topics
from returns_declaration.adapters.outbox import MARKERS, OutboxRelay
from returns_declaration.adapters.repository import OUTBOX_COLLECTIONS, DeclarationRepository
from returns_declaration.domain.model import MerchantSettings, TimelineEntry
from returns_declaration.domain.rules import DeclarationRejected, RequestedQuantity
from returns_declaration.service.ports import TimelineChange
from returns_declaration.service.sessions import PortalSession
from returns_declaration.service.use_cases import build_use_cases

from .builders import merchant, order
from .fakes import FakePhotoCatalog, InMemoryRateLimiter

pytestmark = pytest.mark.integration

Database = AsyncDatabase[dict[str, Any]]
# Line 2 of the order holds this many items; the processes submit more drafts than that.
STOCK = 3
DRAFTS = 12


class Process:
    """One declaration process's storage side: client, repository, service."""

    def __init__(self, mongodb_url: str, name: str, merchant_cache_seconds: float = 600.0) -> None:
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
        self.database: Database = self.client[name]
        # Each process keeps the merchant it read (longer than the test): a stale copy must
        # cost a retry, never a lost change.
        self.repository = DeclarationRepository(self.database, merchant_cache_seconds)
        self.service = build_use_cases(
            self.repository,
            FakePhotoCatalog(),
            InMemoryRateLimiter(),
            lambda: None,
            back_office_base_url="http://bo.example",
            portal_token_secret="secret",
        )

    async def draft(self, session: PortalSession) -> str:
        view = await self.service.portal.create_draft(session, [RequestedQuantity("2", 1)])
        await self.service.portal.choose_reason(session, view.draft.id, "2", "too_big")
        await self.service.portal.choose_return_type(session, view.draft.id, "2", "refund")
        return view.draft.id


@pytest.fixture
async def processes(mongodb_url: str) -> AsyncIterator[tuple[Process, Process]]:
    name = f"declaration_processes_{uuid.uuid4().hex[:8]}"
    pair = (Process(mongodb_url, name), Process(mongodb_url, name))
    try:
        yield pair
    finally:
        await pair[0].client.drop_database(name)
        for process in pair:
            await process.client.close()


async def _shop(process: Process) -> PortalSession:
    shop = merchant()
    settings = MerchantSettings.model_validate(
        shop.model_dump(include=set(MerchantSettings.model_fields))
    )
    await process.service.merchants.configure_merchant("shop", settings, "c")
    for reason in shop.reasons:
        await process.service.merchants.put_reason("shop", reason, "c")
    the_order = order(ordered_on=date.today() - timedelta(days=2))
    lines = (the_order.lines[0], the_order.lines[1].model_copy(update={"quantity": STOCK}))
    await process.service.merchants.save_order(the_order.model_copy(update={"lines": lines}))
    opened = await process.service.portal.open_session(
        "shop", "A-1", "ana@example.com", "127.0.0.1"
    )
    return opened.session


async def test_two_processes_submitting_on_one_order_never_over_reserve(
    processes: tuple[Process, Process],
) -> None:
    first, second = processes
    session = await _shop(first)
    drafts = [await first.draft(session) for _ in range(DRAFTS)]
    # Every draft submitted by both processes at once: a double click landing on two of them,
    # and more drafts than items left.
    outcomes = await asyncio.gather(
        *(
            process.service.portal.submit(session, draft_id, None, "c")
            for draft_id in drafts
            for process in (first, second)
        ),
        return_exceptions=True,
    )
    unexpected = [
        outcome
        for outcome in outcomes
        if isinstance(outcome, BaseException) and not isinstance(outcome, DeclarationRejected)
    ]
    assert unexpected == []
    created = {
        outcome.record.declared.id
        for outcome in outcomes
        if not isinstance(outcome, BaseException) and outcome.created
    }
    stored = await second.repository.get_order("shop", "A-1")
    assert stored is not None
    reserved = sum(lines.get("2", 0) for lines in stored.reservations.values())
    assert reserved <= STOCK, stored.reservations
    assert len(created) == STOCK and set(stored.reservations) == created
    assert await first.database["returns"].count_documents({}) == STOCK


async def test_two_processes_recording_the_same_events_apply_each_once_and_relay_them_all(
    processes: tuple[Process, Process], kafka_bootstrap_servers: str
) -> None:
    """Timeline changes of one return from both processes (each event delivered to both, as a
    rebalance does), each appending a label request to the outbox, while both relays mark
    batches sent: every entry once, every event sent, none left pending."""
    first, second = processes
    session = await _shop(first)
    outcome = await first.service.portal.submit(session, await first.draft(session), None, "c")
    return_id = outcome.record.declared.id
    at = outcome.record.timeline[0].at

    def change(index: int) -> TimelineChange:
        event = examples.label_requested(merchant_id="shop", return_id=return_id)
        return TimelineChange(
            entry=TimelineEntry(
                event_id=f"e{index}",
                kind="label_requested",
                at=at + timedelta(seconds=index + 1),
            ),
            events=[event],
        )

    changes = [change(index) for index in range(10)]
    topics = Topics(prefix=f"it-{uuid.uuid4().hex[:8]}")
    await ensure_topics(kafka_bootstrap_servers, topics)
    broker = KafkaBroker(server_list(kafka_bootstrap_servers))
    await broker.start()
    relays = [
        OutboxRelay(
            process.database,
            OUTBOX_COLLECTIONS,
            lambda: broker,
            topics,
            CollectorRegistry(),
            batch_size=4,
        )
        for process in processes
    ]
    try:
        writes = asyncio.gather(
            *(
                process.repository.change_timeline("shop", return_id, one)
                for one in changes
                for process in processes
            )
        )
        relayed = asyncio.gather(*(relay.relay_once() for relay in relays for _ in range(3)))
        assert all(await writes)
        await relayed
        for _ in range(20):
            if await first.database[MARKERS].count_documents({}) == 0:
                break
            await asyncio.gather(*(relay.relay_once() for relay in relays))
    finally:
        await broker.stop()
    document = await second.database["returns"].find_one({"_id": return_id})
    assert document is not None
    entries = [entry["event_id"] for entry in document["timeline"][1:]]
    assert sorted(entries) == sorted(one.entry.event_id for one in changes)
    assert len(document["outbox"]) == 1 + len(changes)
    assert (document["outbox_sent"], document["outbox_pending"]) == (len(document["outbox"]), False)
    assert await first.database[MARKERS].count_documents({}) == 0


async def test_a_change_recorded_again_by_the_other_process_before_the_relay_is_still_relayed(
    processes: tuple[Process, Process], kafka_bootstrap_servers: str
) -> None:
    """The same timeline change (with its outbox event) reaches both processes, the second
    after the first wrote it and before any relay pass: the second finds it applied and must
    not delete the marker the first one's write left (both markers have one id)."""
    first, second = processes
    session = await _shop(first)
    outcome = await first.service.portal.submit(session, await first.draft(session), None, "c")
    return_id = outcome.record.declared.id
    change = TimelineChange(
        entry=TimelineEntry(
            event_id="redelivered",
            kind="label_requested",
            at=outcome.record.timeline[0].at + timedelta(seconds=1),
        ),
        events=[examples.label_requested(merchant_id="shop", return_id=return_id)],
    )
    topics = Topics(prefix=f"it-{uuid.uuid4().hex[:8]}")
    await ensure_topics(kafka_bootstrap_servers, topics)
    broker = KafkaBroker(server_list(kafka_bootstrap_servers))
    await broker.start()
    try:
        relay = OutboxRelay(
            first.database, OUTBOX_COLLECTIONS, lambda: broker, topics, CollectorRegistry()
        )
        # The submit's event relayed first: no other marker of the return is left to carry
        # the change's event along.
        while await relay.relay_once():
            pass
        assert await first.database[MARKERS].count_documents({}) == 0
        assert await first.repository.change_timeline("shop", return_id, change)
        assert await second.repository.change_timeline("shop", return_id, change)
        while await relay.relay_once():
            pass
    finally:
        await broker.stop()
    document = await second.database["returns"].find_one({"_id": return_id})
    assert document is not None
    assert len(document["outbox"]) == 2
    assert (document["outbox_sent"], document["outbox_pending"]) == (2, False)
    assert await first.database[MARKERS].count_documents({}) == 0


async def test_two_processes_changing_one_merchant_lose_no_revision(
    processes: tuple[Process, Process],
) -> None:
    """Each change reads a revision and writes the next only if it is still the stored one."""
    first, second = processes
    await _shop(first)
    settings = MerchantSettings(name="Renamed", customer_service_email="cs@shop.example")
    outcomes = await asyncio.gather(
        *(
            process.service.merchants.configure_merchant("shop", settings, "c")
            for process in processes * 2
        )
    )
    document = await second.database["merchants"].find_one({"_id": "shop"})
    assert document is not None
    revisions = [event["payload"]["revision"] for event in document["outbox"]]
    # The creation, one per reason, then one per configuration: consecutive, none overwritten.
    expected = 1 + len(merchant().reasons) + len(outcomes)
    assert revisions == list(range(1, expected + 1)), revisions
    assert document["merchant"]["revision"] == expected


async def test_another_process_change_of_a_merchant_shows_once_the_cache_time_passed(
    mongodb_url: str, processes: tuple[Process, Process]
) -> None:
    first, _ = processes
    await _shop(first)
    reader = Process(mongodb_url, first.database.name, merchant_cache_seconds=0.5)
    try:
        read = await reader.service.merchants.merchant("shop")
        changed = await first.service.merchants.retire_reason("shop", "too_big", "c")
        assert changed.revision == read.revision + 1
        deadline = asyncio.get_running_loop().time() + 10.0
        while (await reader.service.merchants.merchant("shop")).revision != changed.revision:
            assert asyncio.get_running_loop().time() < deadline, "the change never showed"
            await asyncio.sleep(0.05)
    finally:
        await reader.client.close()
