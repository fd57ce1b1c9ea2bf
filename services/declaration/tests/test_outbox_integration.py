"""The repository and the outbox relay against the real MongoDB-protocol server and Kafka."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from returns_contracts import Message, ReturnSubmitted, Topics, parse_message
from returns_contracts.service_kit.kafka import ensure_topics
from returns_declaration.adapters.outbox import OutboxRelay
from returns_declaration.adapters.repository import OUTBOX_COLLECTIONS, DeclarationRepository
from returns_declaration.domain.model import RequestedLine, ReturnRequest
from returns_declaration.service.use_cases import DeclarationService

from .builders import merchant, order

pytestmark = pytest.mark.integration

REQUEST = ReturnRequest(
    order_number="A-1",
    email="ana@example.com",
    lines=(RequestedLine(line_id="2", quantity=1, reason_code="too_big", return_type="refund"),),
)


@pytest.fixture
async def database(mongodb_url: str) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    name = f"declaration_test_{uuid.uuid4().hex[:8]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


@pytest.fixture
async def topics(kafka_bootstrap_servers: str) -> Topics:
    # A prefix of its own, so this test reads only what it published.
    prefix = f"it-{uuid.uuid4().hex[:8]}"
    topics = Topics(prefix=prefix)
    await ensure_topics(kafka_bootstrap_servers, topics)
    return topics


async def _consume(bootstrap: str, topic: str, expected: int) -> list[Message]:
    """Read until `expected` messages came, then a little longer so a duplicate would show."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    received: list[Message] = []
    try:
        deadline = time.monotonic() + 30
        while len(received) < expected and time.monotonic() < deadline:
            received.extend(await _poll(consumer, 500))
        received.extend(await _poll(consumer, 1500))
    finally:
        await consumer.stop()
    return received


async def _poll(consumer: AIOKafkaConsumer, timeout_ms: int) -> list[Message]:
    batch = await consumer.getmany(timeout_ms=timeout_ms)
    return [parse_message(record.value or b"") for records in batch.values() for record in records]


async def test_return_and_order_round_trip(database: AsyncDatabase[dict[str, Any]]) -> None:
    repository = DeclarationRepository(database)
    await repository.create_indexes()
    service = DeclarationService(repository, lambda: None, "http://bo.example")
    await service.configure_merchant(merchant(), "c")
    await service.save_order(order())
    assert await repository.get_order("shop", "A-1") == order()
    outcome = await service.submit_return("shop", REQUEST, "k", "c")
    assert await repository.get_return("shop", outcome.declared.id) == outcome.declared
    assert await repository.get_return("other", outcome.declared.id) is None
    again = await service.submit_return("shop", REQUEST, "k", "c")
    assert again.declared == outcome.declared and not again.created


async def test_a_submit_whose_publish_never_happened_is_published_once_by_the_next_relay(
    database: AsyncDatabase[dict[str, Any]], topics: Topics, kafka_bootstrap_servers: str
) -> None:
    """The process 'dies' after the database write: no relay runs. A later relay sends it once."""
    repository = DeclarationRepository(database)
    service = DeclarationService(repository, lambda: None, "http://bo.example")
    await service.configure_merchant(merchant(), "c")
    await service.save_order(order())
    outcome = await service.submit_return("shop", REQUEST, "crash-test", "c")
    # The client retries after the crash: same key, same return, no second event.
    retried = await service.submit_return("shop", REQUEST, "crash-test", "c")
    assert retried.declared.id == outcome.declared.id

    broker = KafkaBroker(kafka_bootstrap_servers, enable_idempotence=True, acks="all")
    await broker.start()
    try:
        relay = OutboxRelay(
            database, OUTBOX_COLLECTIONS, lambda: broker, topics, CollectorRegistry()
        )
        assert await relay.relay_once() > 0
        assert await relay.relay_once() == 0  # everything is marked sent
    finally:
        await broker.stop()

    received = await _consume(kafka_bootstrap_servers, topics.return_submitted, 1)
    assert [type(message) for message in received] == [ReturnSubmitted]
    assert received[0].payload.return_id == outcome.declared.id  # type: ignore[attr-defined]


async def test_events_appended_while_relaying_stay_pending(
    database: AsyncDatabase[dict[str, Any]], topics: Topics, kafka_bootstrap_servers: str
) -> None:
    repository = DeclarationRepository(database)
    service = DeclarationService(repository, lambda: None, "http://bo.example")
    await service.configure_merchant(merchant(), "c")
    broker = KafkaBroker(kafka_bootstrap_servers)
    await broker.start()
    try:
        relay = OutboxRelay(
            database, OUTBOX_COLLECTIONS, lambda: broker, topics, CollectorRegistry()
        )
        await relay.relay_once()
        await service.configure_merchant(merchant(), "c")  # a second MerchantUpdated
        document = await database["merchants"].find_one({"_id": "shop"})
        assert document is not None
        assert (document["outbox_sent"], len(document["outbox"]), document["outbox_pending"]) == (
            1,
            2,
            True,
        )
        await relay.relay_once()
        document = await database["merchants"].find_one({"_id": "shop"})
        assert document is not None
        assert (document["outbox_sent"], document["outbox_pending"]) == (2, False)
    finally:
        await broker.stop()
