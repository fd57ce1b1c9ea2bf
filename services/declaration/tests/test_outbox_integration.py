"""The repository and the outbox relay against the real MongoDB-protocol server and Kafka."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from returns_contracts import Message, ReturnSubmitted, Topics, examples, parse_message
from returns_contracts.service_kit.kafka import server_list
from returns_contracts.service_kit.kafka_topics import ensure_topics
from returns_contracts.service_kit.testing import scratch_database
from returns_declaration.adapters import repository as repository_module
from returns_declaration.adapters.outbox import MARKERS, OutboxRelay, mark_pending
from returns_declaration.adapters.rate_limits import MongoRateLimiter
from returns_declaration.adapters.repository import OUTBOX_COLLECTIONS, DeclarationRepository
from returns_declaration.domain.model import (
    Actor,
    MerchantSettings,
    OrderLine,
    TimelineEntry,
)
from returns_declaration.domain.rules import DeclarationRejected, RequestedQuantity
from returns_declaration.service.ports import (
    ReturnFilter,
    TimelineChange,
)
from returns_declaration.service.sessions import PortalSession
from returns_declaration.service.use_cases import build_use_cases
from returns_infra.kafka_probe import records_up_to_now

from .builders import NOW, merchant, order
from .fakes import FakePhotoCatalog, InMemoryRateLimiter

pytestmark = pytest.mark.integration

Database = AsyncDatabase[dict[str, Any]]


@pytest.fixture
async def database(mongodb_url: str) -> AsyncIterator[Database]:
    async with scratch_database(mongodb_url, "declaration_test") as database:
        yield database


@pytest.fixture
async def topics(kafka_bootstrap_servers: str) -> Topics:
    # A prefix of its own, so this test reads only what it published.
    topics = Topics(prefix=f"it-{uuid.uuid4().hex[:8]}")
    await ensure_topics(kafka_bootstrap_servers, topics)
    return topics


class Flow:
    """The service over the real repository, with media faked (the photo port)."""

    def __init__(self, database: Database, merchant_cache_seconds: float = 0.0) -> None:
        self.repository = DeclarationRepository(database, merchant_cache_seconds)
        self.photos = FakePhotoCatalog()
        # Real clock: drafts and windows are checked against today's date.
        self.service = build_use_cases(
            self.repository,
            self.photos,
            InMemoryRateLimiter(),
            lambda: None,
            back_office_base_url="http://bo.example",
            portal_token_secret="secret",
        )

    async def shop(self, quantity_of_line_2: int = 1) -> PortalSession:
        shop = merchant()
        settings = MerchantSettings.model_validate(
            shop.model_dump(include=set(MerchantSettings.model_fields))
        )
        await self.service.merchants.configure_merchant("shop", settings, "c")
        for reason in shop.reasons:
            await self.service.merchants.put_reason("shop", reason, "c")
        the_order = order(ordered_on=date.today() - timedelta(days=2))
        line = the_order.lines[1].model_copy(update={"quantity": quantity_of_line_2})
        await self.service.merchants.save_order(
            the_order.model_copy(update={"lines": (the_order.lines[0], line)})
        )
        opened = await self.service.portal.open_session(
            "shop", "A-1", "ana@example.com", "127.0.0.1"
        )
        return opened.session

    async def classic_draft(self, session: PortalSession, quantity: int = 1) -> str:
        view = await self.service.portal.create_draft(session, [RequestedQuantity("2", quantity)])
        await self.service.portal.choose_reason(session, view.draft.id, "2", "too_big")
        await self.service.portal.choose_return_type(session, view.draft.id, "2", "refund")
        return view.draft.id


async def _consume(bootstrap: str, topic: str) -> list[Message]:
    """Everything on `topic` (of this test's own prefix) up to now: called once the relay is
    done, so whatever it published, duplicates included, is there."""
    records = await records_up_to_now(bootstrap, [topic])
    return [parse_message(record.value or b"") for record in records]


# --- repository round trips -------------------------------------------------------------------


async def test_a_reservation_from_an_outdated_read_is_decided_on_the_latest_version(
    database: Database,
) -> None:
    repository = DeclarationRepository(database)
    await repository.save_order(order())
    seen = await repository.get_order("shop", "A-1")
    assert seen is not None and seen.reservations_version == 0
    assert await repository.reserve(order(), "r1", {"1": 2})  # after `seen` was read
    assert not await repository.reserve(order(), "r2", {"1": 2}, seen=seen)
    assert await repository.reserve(order(), "r3", {"1": 1}, seen=seen)
    # 17 more versions: past the first window of versions read at once.
    many = order().model_copy(
        update={
            "lines": (OrderLine(line_id="1", sku="S", name="N", quantity=20, unit_price_cents=1),)
        }
    )
    await repository.save_order(many)
    for index in range(20):
        assert await repository.reserve(many, f"m{index}", {"1": 1}) == (index < 17)
    stored = await repository.get_order("shop", "A-1")
    assert stored is not None and stored.reservations_version == 19
    assert sum(q for r in stored.reservations.values() for q in r.values()) == 20


async def test_concurrent_reservations_of_the_last_items_let_exactly_one_through(
    mongodb_url: str, database: Database
) -> None:
    """Over-reservation race on the real server, from separate clients (separate connections)."""
    the_order = order().model_copy(
        update={
            "lines": (OrderLine(line_id="1", sku="S", name="N", quantity=3, unit_price_cents=1),)
        }
    )
    await DeclarationRepository(database).save_order(the_order)
    clients: list[AsyncMongoClient[dict[str, Any]]] = [
        AsyncMongoClient(mongodb_url, tz_aware=True) for _ in range(4)
    ]
    try:
        repositories = [DeclarationRepository(client[database.name]) for client in clients]
        outcomes = await asyncio.gather(
            *(
                repositories[index % 4].reserve(the_order, f"r{index}", {"1": 2})
                for index in range(16)
            )
        )
    finally:
        for client in clients:
            await client.close()
    assert outcomes.count(True) == 1
    stored = await DeclarationRepository(database).get_order("shop", "A-1")
    assert (
        stored is not None and sum(q for r in stored.reservations.values() for q in r.values()) == 2
    )


async def test_concurrent_submits_of_two_drafts_for_the_last_item_make_one_return(
    database: Database,
) -> None:
    flow = Flow(database)
    session = await flow.shop()
    drafts = [await flow.classic_draft(session) for _ in range(2)]
    outcomes = await asyncio.gather(
        *(flow.service.portal.submit(session, draft_id, None, "c") for draft_id in drafts),
        return_exceptions=True,
    )
    submitted = [outcome for outcome in outcomes if not isinstance(outcome, BaseException)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, DeclarationRejected)]
    assert len(submitted) == 1 and len(refused) == 1
    page = await flow.repository.list_returns("shop", ReturnFilter(), 10, None)
    assert len(page.records) == 1
    # The reservation is made beside the insert's listing number and outbox marker: the
    # refused submit's marker is dropped at once, so the relay has only the return to look at.
    markers = await database[MARKERS].find({"collection": "returns"}).to_list(None)
    assert [marker["document_id"] for marker in markers] == [submitted[0].record.declared.id]


async def test_a_double_click_submitting_one_draft_twice_at_once_makes_one_return(
    database: Database,
) -> None:
    flow = Flow(database)
    session = await flow.shop()
    draft_id = await flow.classic_draft(session)
    outcomes = await asyncio.gather(
        *(flow.service.portal.submit(session, draft_id, None, "c") for _ in range(3))
    )
    assert sorted(outcome.created for outcome in outcomes) == [False, False, True]
    assert {outcome.record.declared.id for outcome in outcomes} == {draft_id}
    document = await database["returns"].find_one({"_id": draft_id})
    assert document is not None and len(document["outbox"]) == 1
    stored = await flow.repository.get_order("shop", "A-1")
    assert stored is not None and stored.reservations == {draft_id: {"2": 1}}
    # Every submit settled its reservation note: nothing is left for the reconciler.
    assert await database["pending_reservations"].count_documents({}) == 0


async def test_two_steps_sent_at_once_on_one_draft_both_stay(database: Database) -> None:
    flow = Flow(database)
    session = await flow.shop()
    view = await flow.service.portal.create_draft(
        session, [RequestedQuantity("1", 1), RequestedQuantity("2", 1)]
    )
    await asyncio.gather(
        flow.service.portal.choose_reason(session, view.draft.id, "1", "damaged"),
        flow.service.portal.choose_reason(session, view.draft.id, "2", "too_big"),
    )
    draft = await flow.repository.get_draft("shop", view.draft.id)
    assert draft is not None
    assert [line.reason_code for line in draft.lines] == ["damaged", "too_big"]
    assert draft.revision == 3


async def test_the_return_record_round_trips_and_stays_with_its_merchant(
    database: Database,
) -> None:
    flow = Flow(database)
    session = await flow.shop()
    outcome = await flow.service.portal.submit(session, await flow.classic_draft(session), "k", "c")
    return_id = outcome.record.declared.id
    stored = await flow.repository.get_return("shop", return_id)
    assert stored == outcome.record
    assert await flow.repository.get_return("other", return_id) is None
    again = await flow.service.portal.submit(session, return_id, "k", "c")
    assert again.record == outcome.record and not again.created


async def test_timeline_changes_apply_once_per_event(database: Database) -> None:
    flow = Flow(database)
    session = await flow.shop()
    outcome = await flow.service.portal.submit(
        session, await flow.classic_draft(session), None, "c"
    )
    return_id = outcome.record.declared.id
    # After the submission (on the real clock): the timeline reads in time order (R14).
    generated_at = outcome.record.timeline[0].at + timedelta(seconds=1)
    change = TimelineChange(
        entry=TimelineEntry(
            event_id="e1",
            kind="label_generated",
            at=generated_at,
            actor=Actor(kind="cli", id="ops"),
        ),
        label_status="generated",
        label={"label_id": "L1"},
    )
    assert await flow.repository.change_timeline("shop", return_id, change)
    assert await flow.repository.change_timeline("shop", return_id, change)
    assert not await flow.repository.change_timeline("other", return_id, change)
    record = await flow.repository.get_return("shop", return_id)
    assert record is not None
    assert [entry.kind for entry in record.timeline] == ["submitted", "label_generated"]
    assert record.label_status == "generated" and record.label == {"label_id": "L1"}


async def test_the_list_filters_and_pages(database: Database) -> None:
    flow = Flow(database)
    session = await flow.shop(quantity_of_line_2=5)
    ids = [
        (
            await flow.service.portal.submit(session, await flow.classic_draft(session), None, "c")
        ).record.declared.id
        for _ in range(5)
    ]
    repository = flow.repository
    seen: list[str] = []
    cursor = None
    while True:
        page = await repository.list_returns("shop", ReturnFilter(), 2, cursor)
        seen.extend(record.declared.id for record in page.records)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    today = date.today()
    assert (
        len((await repository.list_returns("shop", ReturnFilter(defective=True), 10, None)).records)
        == 0
    )
    assert (
        len(
            (
                await repository.list_returns(
                    "shop", ReturnFilter(label_status="pending"), 10, None
                )
            ).records
        )
        == 5
    )
    assert (
        len(
            (
                await repository.list_returns("shop", ReturnFilter(order_number="a-"), 10, None)
            ).records
        )
        == 5
    )
    assert (
        len(
            (
                await repository.list_returns("shop", ReturnFilter(order_number="B-"), 10, None)
            ).records
        )
        == 0
    )
    window = ReturnFilter(
        submitted_from=today - timedelta(days=1), submitted_to=today + timedelta(days=1)
    )
    assert len((await repository.list_returns("shop", window, 10, None)).records) == 5
    future = ReturnFilter(submitted_from=today + timedelta(days=2))
    assert (await repository.list_returns("shop", future, 10, None)).records == []
    assert (await repository.list_returns("other", ReturnFilter(), 10, None)).records == []


async def test_the_rate_limiter_counts_per_key_and_window(database: Database) -> None:
    limiter = MongoRateLimiter(database)
    outcomes = [await limiter.allow("order:shop:A-1", 3, 60, NOW) for _ in range(4)]
    assert outcomes == [True, True, True, False]
    assert await limiter.exceeded("order:shop:A-1", 3, 60, NOW)
    assert not await limiter.exceeded("order:shop:A-2", 3, 60, NOW)
    assert await limiter.allow("order:shop:A-2", 3, 60, NOW)
    assert await limiter.allow("order:shop:A-1", 3, 60, NOW + timedelta(seconds=60))


async def test_concurrent_attempts_never_slip_under_the_limit(
    mongodb_url: str, database: Database
) -> None:
    clients: list[AsyncMongoClient[dict[str, Any]]] = [
        AsyncMongoClient(mongodb_url, tz_aware=True) for _ in range(4)
    ]
    try:
        limiters = [MongoRateLimiter(client[database.name]) for client in clients]
        outcomes = await asyncio.gather(
            *(limiters[index % 4].allow("client:1.2.3.4", 5, 600, NOW) for index in range(20))
        )
    finally:
        for client in clients:
            await client.close()
    assert outcomes.count(True) == 5


async def test_the_idempotency_key_binds_one_return(database: Database) -> None:
    repository = DeclarationRepository(database)
    assert await repository.claim_idempotency_key("shop", "k", "r1") == "r1"
    assert await repository.claim_idempotency_key("shop", "k", "r2") == "r1"
    assert await repository.claim_idempotency_key("other", "k", "r3") == "r3"


# --- the outbox ---------------------------------------------------------------------------------


async def test_a_submit_whose_publish_never_happened_is_published_once_by_the_next_relay(
    database: Database, topics: Topics, kafka_bootstrap_servers: str
) -> None:
    """The process 'dies' after the database write: no relay runs. A later relay sends it once."""
    flow = Flow(database)
    session = await flow.shop()
    draft_id = await flow.classic_draft(session)
    outcome = await flow.service.portal.submit(session, draft_id, "crash-test", "c")
    # The client retries after the crash: same draft and key, same return, no second event.
    retried = await flow.service.portal.submit(session, draft_id, "crash-test", "c")
    assert retried.record.declared.id == outcome.record.declared.id and not retried.created

    broker = KafkaBroker(server_list(kafka_bootstrap_servers), enable_idempotence=True, acks="all")
    await broker.start()
    try:
        registry = CollectorRegistry()
        relay = OutboxRelay(database, OUTBOX_COLLECTIONS, lambda: broker, topics, registry)
        assert await relay.relay_once() > 0
        # What the operators' dashboards and alerts read: the backlog it found, one return.
        assert (registry.get_sample_value("outbox_pending_documents") or 0) > 0
        assert (registry.get_sample_value("outbox_oldest_pending_seconds") or 0) > 0
        submitted = {"defective": "false"}
        assert registry.get_sample_value("returns_submitted_total", submitted) == 1
        assert await relay.relay_once() == 0  # everything is marked sent
        assert registry.get_sample_value("outbox_pending_documents") == 0
        assert registry.get_sample_value("outbox_oldest_pending_seconds") == 0
    finally:
        await broker.stop()

    received = await _consume(kafka_bootstrap_servers, topics.return_submitted)
    assert [type(message) for message in received] == [ReturnSubmitted]
    assert received[0].payload.return_id == outcome.record.declared.id  # type: ignore[attr-defined]


async def test_the_relay_sends_stored_events_as_stored_with_fields_it_does_not_know(
    database: Database, topics: Topics, kafka_bootstrap_servers: str
) -> None:
    """Rolling deploy of declaration: a newer instance stored an event with a field this version
    does not know; this version's relay must send it on, not drop it by re-serialising."""
    flow = Flow(database)
    session = await flow.shop()
    draft_id = await flow.classic_draft(session)
    outcome = await flow.service.portal.submit(session, draft_id, "newer-field", "c")
    return_id = outcome.record.declared.id
    returns = database["returns"]
    document = await returns.find_one({"_id": return_id})
    assert document is not None and len(document["outbox"]) == 1
    newer = dict(document["outbox"][0])
    newer["added_by_a_newer_version"] = "top"
    newer["payload"] = {**newer["payload"], "gift_note": {"text": "Für dich", "n": 1.5}}
    await returns.update_one({"_id": return_id}, {"$set": {"outbox": [newer]}})

    broker = KafkaBroker(server_list(kafka_bootstrap_servers))
    await broker.start()
    try:
        relay = OutboxRelay(
            database, OUTBOX_COLLECTIONS, lambda: broker, topics, CollectorRegistry()
        )
        assert await relay.relay_once() > 0
        assert await relay.relay_once() == 0
    finally:
        await broker.stop()

    records = await records_up_to_now(
        kafka_bootstrap_servers, [topics.return_submitted, topics.merchant_updated]
    )
    relayed, *others = [r for r in records if r.topic == topics.return_submitted]
    assert not others
    assert json.loads(relayed.value) == newer  # the unknown fields, top level and nested, stay
    assert relayed.key == return_id.encode()
    headers = dict(relayed.headers)
    assert headers["x-message-type"] == b"ReturnSubmitted"
    assert headers["x-message-version"] == str(newer["version"]).encode()
    assert headers["x-event-id"] == str(newer["event_id"]).encode()
    # Events without unknown fields leave byte for byte as the kit serialises them.
    plain = [r for r in records if r.topic == topics.merchant_updated]
    assert plain and all(r.key == b"shop" for r in plain)
    assert all(r.value == parse_message(r.value).model_dump_json().encode() for r in plain)


async def test_events_left_pending_before_markers_existed_are_still_published(
    database: Database, topics: Topics, kafka_bootstrap_servers: str
) -> None:
    """A store upgraded from the version that flagged pending documents without markers."""
    flow = Flow(database)
    await flow.service.merchants.configure_merchant(
        "shop", MerchantSettings(name="Shop", customer_service_email="cs@shop.example"), "c"
    )
    await database[MARKERS].delete_many({})  # as an older version left it: the flag alone
    broker = KafkaBroker(server_list(kafka_bootstrap_servers))
    await broker.start()
    try:
        relay = OutboxRelay(
            database, OUTBOX_COLLECTIONS, lambda: broker, topics, CollectorRegistry()
        )
        assert await relay.relay_once() == 0  # the relay looks at markers only
        assert await relay.mark_unmarked_pending() == 1
        assert await relay.mark_unmarked_pending() == 0  # once per database
        assert await relay.relay_once() == 1
    finally:
        await broker.stop()
    received = await _consume(kafka_bootstrap_servers, topics.merchant_updated)
    assert len(received) == 1


async def test_events_appended_while_relaying_stay_pending(
    database: Database,
    topics: Topics,
    kafka_bootstrap_servers: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The relay reads a document, publishes, then marks it: an event appended through the
    service in between (while the relay awaits the broker) must stay pending and be sent next.

    The lock the repository shares with the relay covers only the document writes (the append,
    the mark), not the publish: the append really lands between the relay's read and its mark.
    """
    flow = Flow(database)
    settings = MerchantSettings(name="Shop", customer_service_email="cs@shop.example")
    await flow.service.merchants.configure_merchant("shop", settings, "c")
    broker = KafkaBroker(server_list(kafka_bootstrap_servers))
    await broker.start()
    publish = broker.publish
    appended: list[int] = []

    async def publish_while_appending(*args: Any, **kwargs: Any) -> Any:
        sent = await publish(*args, **kwargs)
        if not appended:  # the relay has read the document and awaits the broker
            await flow.service.merchants.configure_merchant("shop", settings, "c")
            appended.append(1)
        return sent

    try:
        relay = OutboxRelay(
            database,
            OUTBOX_COLLECTIONS,
            lambda: broker,
            topics,
            CollectorRegistry(),
        )
        monkeypatch.setattr(broker, "publish", publish_while_appending)
        assert await relay.relay_once() == 1  # the first event's marker, not the second's
        monkeypatch.undo()
        assert appended == [1]
        document = await database["merchants"].find_one({"_id": "shop"})
        assert document is not None
        assert (document["outbox_sent"], len(document["outbox"]), document["outbox_pending"]) == (
            1,
            2,
            True,
        )
        assert await relay.relay_once() == 1
        document = await database["merchants"].find_one({"_id": "shop"})
        assert document is not None
        assert (document["outbox_sent"], document["outbox_pending"]) == (2, False)
        assert await relay.relay_once() == 0
    finally:
        await broker.stop()
    received = await _consume(kafka_bootstrap_servers, topics.merchant_updated)
    assert [message.payload.revision for message in received] == [1, 2]  # type: ignore[attr-defined]


class _FindsOnDocuments(monitoring.CommandListener):
    """Every `find` the relay sends to a collection of outbox documents, with its filter."""

    def __init__(self) -> None:
        self.filters: list[dict[str, Any]] = []
        self.updates = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find" and event.command["find"] in OUTBOX_COLLECTIONS:
            self.filters.append(dict(event.command.get("filter", {})))
        if event.command_name == "update" and event.command["update"] in OUTBOX_COLLECTIONS:
            self.updates += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def _relay_everything_watched(
    database: Database, topics: Topics, kafka_bootstrap_servers: str, mongodb_url: str
) -> _FindsOnDocuments:
    """Relay every pending event through a client whose commands are recorded."""
    listener = _FindsOnDocuments()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongodb_url, tz_aware=True, event_listeners=[listener]
    )
    broker = KafkaBroker(server_list(kafka_bootstrap_servers))
    await broker.start()
    try:
        relay = OutboxRelay(
            client[database.name], OUTBOX_COLLECTIONS, lambda: broker, topics, CollectorRegistry()
        )
        assert await relay.relay_once() > 0
        assert await relay.relay_once() == 0
    finally:
        await broker.stop()
        await client.close()
    return listener


async def test_the_relay_reads_returns_and_merchants_by_id_only(
    database: Database, topics: Topics, kafka_bootstrap_servers: str, mongodb_url: str
) -> None:
    """On FerretDB any other filter is a scan of every return ever stored."""
    flow = Flow(database)
    session = await flow.shop()
    outcome = await flow.service.portal.submit(session, await flow.classic_draft(session), "k", "c")
    listener = await _relay_everything_watched(
        database, topics, kafka_bootstrap_servers, mongodb_url
    )
    assert listener.filters, "the relay read no document at all"
    assert all(list(filter_) == ["_id"] for filter_ in listener.filters), listener.filters
    received = await _consume(kafka_bootstrap_servers, topics.return_submitted)
    assert [message.payload.return_id for message in received] == [  # type: ignore[attr-defined]
        outcome.record.declared.id
    ]


async def test_a_batch_with_nothing_appended_is_marked_sent_in_one_write(
    database: Database, topics: Topics, kafka_bootstrap_servers: str, mongodb_url: str
) -> None:
    """The second form of the mark (for documents that grew since the read) costs a read of
    every document of the batch on FerretDB: it is sent only when the first missed some."""
    flow = Flow(database)
    session = await flow.shop(quantity_of_line_2=2)
    for key in ("a", "b"):
        await flow.service.portal.submit(session, await flow.classic_draft(session), key, "c")
    listener = await _relay_everything_watched(
        database, topics, kafka_bootstrap_servers, mongodb_url
    )
    assert listener.updates == 2  # one per collection: merchants, returns
    pending = await database["returns"].count_documents({"outbox_pending": True})
    assert pending == 0


async def test_a_marker_whose_write_never_came_is_dropped_after_the_grace_period(
    database: Database, topics: Topics, kafka_bootstrap_servers: str
) -> None:
    """A crash between the marker and the document write: nothing to send, nothing lost."""
    flow = Flow(database)
    await flow.service.merchants.configure_merchant(
        "shop", MerchantSettings(name="Shop", customer_service_email="cs@shop.example"), "c"
    )
    broker = KafkaBroker(server_list(kafka_bootstrap_servers))
    await broker.start()
    try:
        relay = OutboxRelay(
            database, OUTBOX_COLLECTIONS, lambda: broker, topics, CollectorRegistry()
        )
        assert await relay.relay_once() == 1
        # The next write's marker, whose document write has not landed (or never will).
        event = examples.merchant_updated(merchant_id="shop", revision=2)
        await mark_pending(database[MARKERS], "merchants", "shop", [event])
        assert await relay.relay_once() == 0  # may still be under way: kept
        assert await database[MARKERS].count_documents({}) == 1
        impatient = OutboxRelay(
            database,
            OUTBOX_COLLECTIONS,
            lambda: broker,
            topics,
            CollectorRegistry(),
            orphan_seconds=0,
        )
        assert await impatient.relay_once() == 1
        assert await database[MARKERS].count_documents({}) == 0
    finally:
        await broker.stop()
    received = await _consume(kafka_bootstrap_servers, topics.merchant_updated)
    assert len(received) == 1  # the orphan published nothing


async def test_an_event_written_after_its_marker_was_read_is_still_published(
    database: Database,
    topics: Topics,
    kafka_bootstrap_servers: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Marker first, then the document: a relay pass between the two must keep the marker."""
    flow = Flow(database)
    settings = MerchantSettings(name="Shop", customer_service_email="cs@shop.example")
    await flow.service.merchants.configure_merchant("shop", settings, "c")
    broker = KafkaBroker(server_list(kafka_bootstrap_servers))
    await broker.start()
    try:
        relay = OutboxRelay(
            database, OUTBOX_COLLECTIONS, lambda: broker, topics, CollectorRegistry()
        )
        assert await relay.relay_once() == 1

        async def mark_then_relay(*args: Any) -> str | None:
            marker = await mark_pending(*args)
            await relay.relay_once()  # runs between this write's marker and its document
            return marker

        monkeypatch.setattr(repository_module, "mark_pending", mark_then_relay)
        await flow.service.merchants.configure_merchant("shop", settings, "c")
        monkeypatch.undo()
        assert await relay.relay_once() == 1
        assert await relay.relay_once() == 0
    finally:
        await broker.stop()
    received = await _consume(kafka_bootstrap_servers, topics.merchant_updated)
    assert len(received) == 2
