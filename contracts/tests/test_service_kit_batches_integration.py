"""The kit's subscriber on the real broker: the returns of a batch are handled side by side, one
return's messages in order, and the batch's offsets are committed only after all of them."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from faststream.kafka import KafkaBroker

from returns_contracts import ReturnSubmitted, Topics
from returns_contracts.examples import return_submitted
from returns_contracts.service_kit.kafka import (
    Retry,
    Routes,
    consumer_group,
    publish_all,
    server_list,
    subscribe,
)
from returns_contracts.service_kit.kafka_topics import ensure_topics

pytestmark = pytest.mark.integration

RETURNS = 6
MESSAGES_PER_RETURN = 2
DEADLINE_SECONDS = 30.0


async def _committed(bootstrap_servers: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(max(position.offset, 0) for position in offsets.values())


async def test_a_batchs_returns_are_handled_side_by_side_and_committed_after_all_of_them(
    kafka_bootstrap_servers: str, broker: KafkaBroker
) -> None:
    topics = Topics(prefix=f"it-{uuid.uuid4().hex[:8]}.")
    await ensure_topics(kafka_bootstrap_servers, topics)
    sent = [
        return_submitted(return_id=f"r-{number}")
        for _ in range(MESSAGES_PER_RETURN)
        for number in range(RETURNS)
    ]
    # All on the topic before the consumer starts, so its first poll takes them in one batch.
    await publish_all(broker, topics, sent)

    in_flight = 0
    most_in_flight = 0
    all_in = asyncio.Event()
    release = asyncio.Event()
    handled: list[ReturnSubmitted] = []

    async def hold(message: ReturnSubmitted) -> None:
        nonlocal in_flight, most_in_flight
        in_flight += 1
        most_in_flight = max(most_in_flight, in_flight)
        if in_flight == RETURNS:
            all_in.set()
        try:
            await asyncio.wait_for(release.wait(), DEADLINE_SECONDS)
        finally:
            in_flight -= 1
        handled.append(message)

    consumer = KafkaBroker(server_list(kafka_bootstrap_servers), logger=None)
    subscribe(
        consumer,
        consumer="kit-batches",
        topics=topics,
        retry=Retry(3, 0.01),
        routes=Routes().on(ReturnSubmitted, hold),
        description="Holds every return until the test lets it go.",
    )
    group = consumer_group("kit-batches", topics.return_submitted)
    await consumer.start()
    try:
        # One at a time, the first return would hold the batch and the others never start.
        await asyncio.wait_for(all_in.wait(), DEADLINE_SECONDS)
        assert most_in_flight == RETURNS
        assert await _committed(kafka_bootstrap_servers, group) == 0

        release.set()
        deadline = time.monotonic() + DEADLINE_SECONDS
        committed = 0
        while time.monotonic() < deadline:
            committed = await _committed(kafka_bootstrap_servers, group)
            if len(handled) == len(sent) and committed == len(sent):
                break
            await asyncio.sleep(0.1)
    finally:
        await consumer.stop()

    assert committed == len(sent)
    for number in range(RETURNS):
        return_id = f"r-{number}"
        assert [m.event_id for m in handled if m.payload.return_id == return_id] == [
            m.event_id for m in sent if m.payload.return_id == return_id
        ]
