"""Reading the real broker in tests: what topics hold up to now, and where a key lands.

A test that asserts an absence or a count ("published once", "nothing dead-lettered") must read
up to a point after which nothing more can come, never for a fixed while: the end offsets taken
once the work is known to be done, or a later message of the same key on the same partition.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import DefaultPartitioner

WAIT = 60.0


async def _partitions(bootstrap_servers: str, topics: Sequence[str]) -> list[TopicPartition]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        return [
            TopicPartition(topic, number)
            for topic in topics
            for number in sorted(await producer.partitions_for(topic))
        ]
    finally:
        await producer.stop()


async def end_offsets(bootstrap_servers: str, topics: Sequence[str]) -> dict[TopicPartition, int]:
    """The offset the next record of each partition of `topics` will get."""
    partitions = await _partitions(bootstrap_servers, topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        return ends
    finally:
        await consumer.stop()


async def records_between(
    bootstrap_servers: str,
    start: Mapping[TopicPartition, int],
    end: Mapping[TopicPartition, int],
) -> list[Any]:
    """Every record from `start` (included) to `end` (excluded), partition by partition."""
    wanted = {partition: offset for partition, offset in end.items() if offset > start[partition]}
    if not wanted:
        return []
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    found: list[Any] = []
    try:
        consumer.assign(list(wanted))
        for partition in wanted:
            consumer.seek(partition, start[partition])
        deadline = time.monotonic() + WAIT
        while await _behind(consumer, wanted):
            if time.monotonic() > deadline:
                raise AssertionError(f"could not read up to {wanted} within {WAIT}s")
            batches = await consumer.getmany(timeout_ms=250)
            for partition, records in batches.items():
                found.extend(record for record in records if record.offset < wanted[partition])
    finally:
        await consumer.stop()
    return found


async def _behind(consumer: AIOKafkaConsumer, wanted: Mapping[TopicPartition, int]) -> bool:
    for partition, offset in wanted.items():
        if await consumer.position(partition) < offset:
            return True
    return False


async def records_up_to_now(bootstrap_servers: str, topics: Sequence[str]) -> list[Any]:
    """Every record `topics` hold now, from their beginning to their end offsets."""
    ends = await end_offsets(bootstrap_servers, topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    try:
        starts: dict[TopicPartition, int] = await consumer.beginning_offsets(list(ends))
    finally:
        await consumer.stop()
    return await records_between(bootstrap_servers, starts, ends)


async def key_beside(bootstrap_servers: str, key: str, topics: Sequence[str]) -> str:
    """A new return id whose messages land on the same partition as `key`'s on each of `topics`
    (the producers' default partitioner: murmur2 of the key), to serve as a sentinel."""
    partitions: dict[str, list[int]] = {topic: [] for topic in topics}
    for found in await _partitions(bootstrap_servers, topics):
        partitions[found.topic].append(found.partition)
    partitioner = DefaultPartitioner()

    def placed(candidate: str) -> list[int]:
        return [
            partitioner(candidate.encode(), partitions[topic], partitions[topic])
            for topic in topics
        ]

    wanted = placed(key)
    while True:
        candidate = f"r-{uuid.uuid4().hex[:12]}"
        if placed(candidate) == wanted:
            return candidate
