"""Poison messages over the real Kafka, for every consuming service.

For each consumer, on one partition of one topic it reads: a payload that is not JSON, a
message of a version no contract knows, and a message its handler can never deal with (the
stored state it meets is broken), then a sentinel that it handles. The three reach the
topic's DLQ, after one try for what does not parse and after the bounded attempts for the
failing handler, each with its error in the headers, and the consumer goes on: its group
commits past the sentinel (consumers commit after the work), which is not dead-lettered.

Each service runs as a process of the test's own (own topic prefix and database, three
attempts, short backoff), so the poison reaches no other test.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker
from pymongo import MongoClient

from returns_contracts import Message, ReturnSubmitted, Topics
from returns_contracts.examples import merchant_updated, notification_sent, return_submitted
from returns_contracts.service_kit.kafka import (
    HEADER_ATTEMPTS,
    HEADER_CONSUMER,
    HEADER_ERROR,
    HEADER_ERROR_TYPE,
    HEADER_SOURCE_TOPIC,
    consumer_group,
    publish,
    server_list,
)
from returns_infra.fixtures import SmtpServer
from returns_infra.kafka_probe import key_beside
from returns_infra.testing import messages_to, wait_for_messages_to

pytestmark = pytest.mark.e2e

ATTEMPTS = 3
FAST_RETRIES = {"consumer_max_attempts": str(ATTEMPTS), "consumer_retry_base_seconds": "0.05"}
WAIT = 120.0


@dataclass(frozen=True)
class Poisoned:
    """What one consumer's case needs: the topic, a failing message and a sentinel."""

    topic: Callable[[Topics], str]
    # Breaks the stored state the handler will meet; gives the message that then always fails.
    failing: Callable[[MongoClient[dict[str, Any]], str, str, str], Message]
    sentinel: Callable[[str, str], Message]
    error_type: str
    prepare: (
        Callable[[KafkaBroker, Topics, MongoClient[dict[str, Any]], str, str], Awaitable[None]]
        | None
    ) = None


def _notifier_failing(
    mongo: MongoClient[dict[str, Any]], database: str, merchant_id: str, return_id: str
) -> Message:
    # A merchant snapshot no version of the notifier wrote. (A merchant that never arrives is
    # not a failure but a wait, with a horizon of its own: see the replay test below.)
    broken = f"{merchant_id}-broken"
    mongo[database]["merchants"].insert_one({"_id": broken, "snapshot": {"name": 42}})
    return return_submitted(merchant_id=broken, return_id=return_id)


async def _notifier_prepare(
    broker: KafkaBroker,
    topics: Topics,
    mongo: MongoClient[dict[str, Any]],
    database: str,
    merchant_id: str,
) -> None:
    await publish(broker, topics, merchant_updated(merchant_id=merchant_id))
    _eventually(
        lambda: mongo[database]["merchants"].find_one({"_id": merchant_id}),
        "the notifier recording the sentinel's merchant",
    )


def _labels_failing(
    mongo: MongoClient[dict[str, Any]], database: str, merchant_id: str, return_id: str
) -> Message:
    # A tracked return whose label status no version of labels wrote.
    mongo[database]["returns"].insert_one(
        {"_id": return_id, "merchant_id": merchant_id, "status": "melted"}
    )
    return return_submitted(merchant_id=merchant_id, return_id=return_id, defective=True)


def _media_failing(
    mongo: MongoClient[dict[str, Any]], database: str, merchant_id: str, return_id: str
) -> Message:
    # A photo of the return whose draft document lost its draft id.
    event = return_submitted(merchant_id=merchant_id, return_id=return_id, defective=True)
    photo_ids = [photo for item in event.payload.items for photo in item.media_ids]
    draft_key = f"{len(merchant_id)}:{merchant_id}:d-{return_id}"
    for photo_id in photo_ids:
        mongo[database]["photos"].insert_one(
            {"_id": photo_id, "merchant_id": merchant_id, "draft_id": f"d-{return_id}"}
        )
    mongo[database]["drafts"].insert_one({"_id": draft_key, "merchant_id": merchant_id})
    return event


def _declaration_failing(
    mongo: MongoClient[dict[str, Any]], database: str, merchant_id: str, return_id: str
) -> Message:
    # A return whose timeline is not a list: no entry can be pushed onto it.
    mongo[database]["returns"].insert_one(
        {"_id": return_id, "merchant_id": merchant_id, "timeline": "broken", "applied_events": {}}
    )
    return notification_sent(merchant_id=merchant_id, return_id=return_id)


CASES = {
    "notifier": Poisoned(
        topic=lambda topics: topics.return_submitted,
        failing=_notifier_failing,
        sentinel=lambda merchant_id, return_id: return_submitted(
            merchant_id=merchant_id, return_id=return_id
        ),
        error_type="ValidationError",
        prepare=_notifier_prepare,
    ),
    "labels": Poisoned(
        topic=lambda topics: topics.return_submitted,
        failing=_labels_failing,
        sentinel=lambda merchant_id, return_id: return_submitted(
            merchant_id=merchant_id, return_id=return_id, defective=True
        ),
        error_type="ValueError",
    ),
    "media": Poisoned(
        topic=lambda topics: topics.return_submitted,
        failing=_media_failing,
        sentinel=lambda merchant_id, return_id: return_submitted(
            merchant_id=merchant_id, return_id=return_id
        ),
        error_type="KeyError",
    ),
    "declaration": Poisoned(
        topic=lambda topics: topics.notification_sent,
        failing=_declaration_failing,
        sentinel=lambda merchant_id, return_id: notification_sent(
            merchant_id=merchant_id, return_id=return_id
        ),
        error_type="WriteError",
    ),
}


def _eventually(probe: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT
    while (found := probe()) is None:
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} within {WAIT}s")
        time.sleep(0.2)
    return found


@pytest.mark.parametrize("service", sorted(CASES))
async def test_poison_is_dead_lettered_after_bounded_tries_and_the_rest_goes_on(
    service: str,
    own_instance: Callable[..., Any],
    kafka_bootstrap_servers: str,
    mongodb_url: str,
) -> None:
    case = CASES[service]
    instance = own_instance(service, **FAST_RETRIES)
    topics: Topics = instance.topics
    topic = case.topic(topics)
    merchant_id = f"shop-{uuid.uuid4().hex[:8]}"
    return_id = f"r-{uuid.uuid4().hex[:10]}"
    mongo: MongoClient[dict[str, Any]] = MongoClient(mongodb_url, tz_aware=True)
    broker = KafkaBroker(
        server_list(kafka_bootstrap_servers), enable_idempotence=True, acks="all", logger=None
    )
    await broker.start()
    try:
        if case.prepare is not None:
            await case.prepare(broker, topics, mongo, instance.database, merchant_id)
        failing = case.failing(mongo, instance.database, merchant_id, return_id)
        unknown_version = json.loads(failing.model_dump_json())
        unknown_version.update(version=99, event_id=str(uuid.uuid4()))
        poison = [
            b'{"type": "ReturnSubmitted", "version": 1, "payload": ',
            json.dumps(unknown_version).encode(),
            failing.model_dump_json().encode(),
        ]
        # The sentinel on the same partition, behind the three.
        sentinel = case.sentinel(
            merchant_id, await key_beside(kafka_bootstrap_servers, return_id, [topic])
        )
        for body in poison:
            await broker.publish(body, topic=topic, key=return_id.encode())
        await publish(broker, topics, sentinel)
    finally:
        await broker.stop()

    letters = await _dead_letters(kafka_bootstrap_servers, topics.dlq(topic), 3)
    assert [letter.value for letter in letters] == poison
    headers = [{name: value.decode() for name, value in letter.headers} for letter in letters]
    assert [one[HEADER_ERROR_TYPE] for one in headers] == [
        "MalformedMessageError",
        "UnknownMessageVersionError",
        case.error_type,
    ]
    # Nothing that cannot parse is tried twice; the failing handler is tried the bounded times.
    assert [one[HEADER_ATTEMPTS] for one in headers] == ["1", "1", str(ATTEMPTS)]
    for one in headers:
        assert one[HEADER_ERROR], one
        assert one[HEADER_SOURCE_TOPIC] == topic
        assert one[HEADER_CONSUMER] == service
    assert "99" in headers[1][HEADER_ERROR]

    partition = letters[0].partition
    end = await _end(kafka_bootstrap_servers, TopicPartition(topic, partition))
    await _committed(kafka_bootstrap_servers, consumer_group(service, topic), topic, partition, end)
    # The sentinel went through: the DLQ holds the three and nothing more.
    assert len(await _dead_letters(kafka_bootstrap_servers, topics.dlq(topic), 3)) == 3
    mongo.close()


async def test_a_letter_replayed_once_its_cause_is_fixed_is_handled_exactly_once(
    own_instance: Callable[..., Any],
    kafka_bootstrap_servers: str,
    smtp_server: SmtpServer,
) -> None:
    """A return dead-lettered because its merchant was still unknown after the wait's horizon
    (half a second here, minutes by default), the merchant then arrives, and `returns-admin dlq
    replay` (run twice, as a hurried operator might) gives one e-mail."""
    instance = own_instance("notifier", **FAST_RETRIES, consumer_wait_budget_seconds="0.5")
    topics: Topics = instance.topics
    topic = topics.return_submitted
    merchant_id = f"shop-{uuid.uuid4().hex[:8]}"
    customer = f"customer-{merchant_id}@example.com"
    event = _to(
        return_submitted(merchant_id=merchant_id, return_id=f"r-{uuid.uuid4().hex[:10]}"), customer
    )
    broker = KafkaBroker(
        server_list(kafka_bootstrap_servers), enable_idempotence=True, acks="all", logger=None
    )
    await broker.start()
    try:
        await publish(broker, topics, event)
        [letter] = await _dead_letters(kafka_bootstrap_servers, topics.dlq(topic), 1)
        headers = {name: value.decode() for name, value in letter.headers}
        assert headers[HEADER_ERROR_TYPE] == "MerchantNotKnownYet"
        # Waiting for what a message refers to is not an attempt: one try failed, then waits.
        assert headers[HEADER_ATTEMPTS] == "1"
        assert messages_to(smtp_server.api_url, customer) == []

        # The cause goes away: the merchant's snapshot arrives.
        await publish(broker, topics, merchant_updated(merchant_id=merchant_id))
        coordinates = f"{topics.dlq(topic)}:{letter.partition}:{letter.offset}"
        for _ in range(2):
            code, output = await _admin(
                "--bootstrap-servers",
                kafka_bootstrap_servers,
                "--topic-prefix",
                topics.prefix,
                "dlq",
                "replay",
                coordinates,
            )
            assert code == 0, output
            assert f"Replayed {coordinates} -> {topic}" in output
        # A sentinel behind the two copies, on their partition, for the same customer.
        sentinel = _to(
            return_submitted(
                merchant_id=merchant_id,
                return_id=await key_beside(
                    kafka_bootstrap_servers, event.payload.return_id, [topic]
                ),
            ),
            customer,
        )
        await publish(broker, topics, sentinel)
    finally:
        await broker.stop()

    partition = TopicPartition(topic, letter.partition)
    await _committed(
        kafka_bootstrap_servers,
        consumer_group("notifier", topic),
        topic,
        letter.partition,
        await _end(kafka_bootstrap_servers, partition),
    )
    emails = wait_for_messages_to(smtp_server.api_url, customer, 2, WAIT)
    causes = sorted(_cause(email["MessageID"]) for email in emails)
    assert causes == sorted([str(event.event_id), str(sentinel.event_id)])
    # Nothing more went to the DLQ: the copies were handled, not dead-lettered again.
    assert len(await _dead_letters(kafka_bootstrap_servers, topics.dlq(topic), 1)) == 1


async def _admin(*args: str) -> tuple[int, str]:
    """Run the installed `returns-admin` as an operator would; its exit code and output."""
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "returns-admin"),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), WAIT)
    return await process.wait(), output.decode()


def _to(event: ReturnSubmitted, email: str) -> ReturnSubmitted:
    payload = event.payload
    customer = payload.customer.model_copy(update={"email": email})
    return event.model_copy(update={"payload": payload.model_copy(update={"customer": customer})})


def _cause(message_id: str) -> str:
    """The event id a notifier Message-ID was made from (`<event_id.template@domain>`)."""
    return message_id.strip("<>").split(".", 1)[0]


async def _dead_letters(bootstrap: str, dlq: str, count: int) -> list[Any]:
    """The first `count` records of `dlq` (a topic of the test's own), waiting for them."""
    consumer = AIOKafkaConsumer(
        dlq, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[Any] = []
    try:
        deadline = time.monotonic() + WAIT
        while len(found) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{dlq}: {len(found)} of {count} letters within {WAIT}s")
            batches = await consumer.getmany(timeout_ms=250)
            for records in batches.values():
                found.extend(records)
        # Anything more that is there already comes with them.
        batches = await consumer.getmany(timeout_ms=1000)
        for records in batches.values():
            found.extend(records)
    finally:
        await consumer.stop()
    return sorted(found, key=lambda record: (record.partition, record.offset))


async def _end(bootstrap: str, partition: TopicPartition) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets([partition])
        return int(ends[partition])
    finally:
        await consumer.stop()


async def _committed(bootstrap: str, group: str, topic: str, partition: int, offset: int) -> None:
    """Wait until `group` has committed `offset` on the partition: done with all before it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    wanted = TopicPartition(topic, partition)
    try:
        deadline = time.monotonic() + WAIT
        while True:
            committed = await admin.list_consumer_group_offsets(group, partitions=[wanted])
            if wanted in committed and committed[wanted].offset >= offset:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"group {group} did not reach {offset}: {committed}")
            await asyncio.sleep(0.25)
    finally:
        await admin.close()
