"""Rolling deploys: a newer producer adds optional fields; the older consumers read them.

During a rolling deploy the producers are upgraded before every consumer has been, so notifier
and labels meet `ReturnSubmitted` v1 messages with fields their contract does not know yet, at
the top level and inside the payload. Consumers read tolerantly (`parse_message` ignores unknown
fields): the e-mail goes out, the label is made, and nothing reaches the dead-letter topic.

The newer producer is simulated by raw JSON on the real topic: the models themselves refuse to
build a message with a field they do not declare.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker

from returns_contracts import LabelGenerated, MerchantUpdated, ReturnSubmitted, Topics
from returns_contracts.examples import merchant_updated, return_submitted
from returns_contracts.service_kit.kafka import consumer_group, publish
from returns_infra.fixtures import RunningServices, SmtpServer
from returns_infra.testing import messages_to

pytestmark = pytest.mark.e2e

TOPICS = Topics()
WAIT = 90.0


def newer_producer_wire(event: ReturnSubmitted) -> bytes:
    """`event` as a newer producer writes it: optional fields added at several depths."""
    data: dict[str, Any] = json.loads(event.model_dump_json())
    data["trace_parent"] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    data["payload"]["gift_wrap"] = True
    data["payload"]["customer"]["loyalty_tier"] = "gold"
    data["payload"]["items"][0]["colour"] = {"name": "blue", "hex": "#0000ff"}
    return json.dumps(data).encode()


async def _end_offsets(bootstrap_servers: str, topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap_servers)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic)
        assert partitions, f"topic {topic} has no partitions"
        wanted = [TopicPartition(topic, partition) for partition in sorted(partitions)]
        ends: dict[TopicPartition, int] = await consumer.end_offsets(wanted)
        return ends
    finally:
        await consumer.stop()


async def _consumed(bootstrap_servers: str, group: str, wanted: dict[TopicPartition, int]) -> None:
    """Wait until `group` has committed the wanted offsets: it is done with what lies before.

    Consumers commit after the work, dead-lettering included, so a committed offset past a
    message means its e-mail was sent, its label made, or its copy written to the DLQ.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        deadline = time.monotonic() + WAIT
        while True:
            committed = await admin.list_consumer_group_offsets(group, partitions=list(wanted))
            if all(
                partition in committed and committed[partition].offset >= offset
                for partition, offset in wanted.items()
            ):
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"group {group} did not reach {wanted}: {committed}")
            await asyncio.sleep(0.25)
    finally:
        await admin.close()


async def _labels_of(
    bootstrap_servers: str, merchant_id: str, return_id: str
) -> list[LabelGenerated]:
    """The labels of a return announced so far, once there is at least one."""
    consumer = AIOKafkaConsumer(
        TOPICS.label_generated,
        bootstrap_servers=bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: list[LabelGenerated] = []
    try:
        deadline = time.monotonic() + WAIT
        while not found:
            if time.monotonic() > deadline:
                raise AssertionError(f"no label of {return_id} within {WAIT}s")
            batches = await consumer.getmany(timeout_ms=250)
            for records in batches.values():
                for record in records:
                    label = LabelGenerated.model_validate_json(record.value or b"")
                    if (label.merchant_id, label.payload.return_id) == (merchant_id, return_id):
                        found.append(label)
    finally:
        await consumer.stop()
    return found


async def test_fields_added_by_a_newer_producer_are_read_not_dead_lettered(
    broker: KafkaBroker,
    services: RunningServices,
    smtp_server: SmtpServer,
    kafka_bootstrap_servers: str,
) -> None:
    shop = f"shop-{uuid.uuid4().hex[:10]}"
    customer_service = f"cs-{shop}@example.com"
    customer = f"customer-{shop}@example.com"
    template = merchant_updated(merchant_id=shop)
    opened = template.model_copy(
        update={
            "payload": template.payload.model_copy(
                update={"customer_service_email": customer_service}
            )
        }
    )
    assert isinstance(opened, MerchantUpdated)
    await publish(broker, TOPICS, opened)

    dlq = TOPICS.dlq(TOPICS.return_submitted)
    dlq_before = await _end_offsets(kafka_bootstrap_servers, dlq)

    events: list[ReturnSubmitted] = []
    for defective in (True, False):
        event = return_submitted(
            merchant_id=shop, return_id=f"r-{uuid.uuid4().hex[:12]}", defective=defective
        )
        payload = event.payload
        customer_details = payload.customer.model_copy(update={"email": customer})
        events.append(
            event.model_copy(
                update={"payload": payload.model_copy(update={"customer": customer_details})}
            )
        )
    defective_event, classic_event = events

    # Each newer message is followed, under the same key and so on the same partition, by a
    # sentinel: the same return as an older producer sends it, with its own event and
    # correlation ids. Once a consumer is past the sentinel it has dealt with the newer message.
    after_sentinels: dict[TopicPartition, int] = {}
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    await producer.start()
    try:
        for event in events:
            sentinel = event.model_copy(
                update={"event_id": uuid.uuid4(), "correlation_id": uuid.uuid4().hex}
            )
            await producer.send_and_wait(
                TOPICS.return_submitted, newer_producer_wire(event), key=event.key()
            )
            record = await producer.send_and_wait(
                TOPICS.return_submitted, sentinel.model_dump_json().encode(), key=sentinel.key()
            )
            partition = TopicPartition(record.topic, record.partition)
            after_sentinels[partition] = max(after_sentinels.get(partition, 0), record.offset + 1)
    finally:
        await producer.stop()

    for consumer in ("notifier", "labels"):
        group = consumer_group(consumer, TOPICS.return_submitted)
        await _consumed(kafka_bootstrap_servers, group, after_sentinels)

    # Nothing was dead-lettered: the DLQ of the topic did not grow.
    assert await _end_offsets(kafka_bootstrap_servers, dlq) == dlq_before

    # The notifier sent the e-mails of the newer messages themselves (Message-IDs carry the
    # event_id), not only those of the sentinels.
    to_customer_service = messages_to(smtp_server.api_url, customer_service)
    assert [
        email
        for email in to_customer_service
        if str(defective_event.event_id) in email["MessageID"]
    ], f"no customer-service e-mail for the newer defective event: {to_customer_service}"
    to_customer = messages_to(smtp_server.api_url, customer)
    assert [email for email in to_customer if str(classic_event.event_id) in email["MessageID"]], (
        f"no confirmation for the newer classic event: {to_customer}"
    )

    # Labels made the classic return's label from the newer message, which came first: the
    # label carries its correlation id (the sentinel, a redelivery of the return, only makes
    # labels announce the same label again).
    labels = await _labels_of(kafka_bootstrap_servers, shop, classic_event.payload.return_id)
    assert {label.correlation_id for label in labels} == {classic_event.correlation_id}
    assert len({label.payload.label_id for label in labels}) == 1
