"""What the command line does on Kafka: label requests, dead-letter topics, consumer lag."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker

from returns_admin.errors import Refused, TimedOut, Unreachable
from returns_contracts import (
    Actor,
    LabelGenerated,
    LabelRejected,
    LabelRequested,
    LabelRequestedPayload,
    Message,
    parse_message,
)
from returns_contracts.service_kit.kafka import HEADER_SOURCE_TOPIC, publish, server_list
from returns_contracts.topics import DLQ_SUFFIX, Topics

PRODUCER = "returns-admin"
DLQ_HEADER_PREFIX = "x-dlq-"
HEADER_REPLAYED_FROM = "x-replayed-from"
_CONNECT_SECONDS = 15.0

_Client: TypeAlias = AIOKafkaConsumer | AIOKafkaProducer | AIOKafkaAdminClient | KafkaBroker


@dataclass(frozen=True)
class Kafka:
    bootstrap_servers: str
    topics: Topics

    @asynccontextmanager
    async def _started(self, client: _Client) -> AsyncIterator[None]:
        try:
            async with asyncio.timeout(_CONNECT_SECONDS):
                await client.start()
        except (KafkaError, OSError, TimeoutError) as error:
            raise Unreachable(
                f"cannot reach Kafka at {self.bootstrap_servers} ({type(error).__name__}: "
                f"{error or 'no answer'}); check KAFKA_BOOTSTRAP_SERVERS or --bootstrap-servers"
            ) from error
        try:
            yield
        finally:
            if isinstance(client, AIOKafkaAdminClient):
                await client.close()
            else:
                await client.stop()

    async def _partitions(self, topics: Sequence[str]) -> list[TopicPartition]:
        """Every partition of those of `topics` that exist."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers, client_id=PRODUCER)
        async with self._started(admin):
            described = await admin.describe_topics(list(topics))
        return sorted(
            TopicPartition(topic["topic"], partition["partition"])
            for topic in described
            if topic["error_code"] == 0
            for partition in topic["partitions"]
        )

    def _consumer(self) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap_servers,
            client_id=PRODUCER,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )

    # --- labels ---------------------------------------------------------------------------

    async def request_label(
        self,
        *,
        merchant_id: str,
        return_id: str,
        operator: str,
        regenerate: bool,
        wait_seconds: float | None,
    ) -> tuple[LabelRequested, LabelGenerated | LabelRejected | None]:
        """Publish LabelRequested as the back-office does; with `wait_seconds`, also wait for
        the labels service's answer (same correlation id) and return it."""
        command = LabelRequested(
            merchant_id=merchant_id,
            producer=PRODUCER,
            payload=LabelRequestedPayload(
                return_id=return_id,
                requested_by=Actor(kind="cli", id=operator),
                regenerate=regenerate,
            ),
        )
        answers = self.topics.label_generated, self.topics.label_rejected
        consumer = self._consumer()
        broker = KafkaBroker(
            server_list(self.bootstrap_servers),
            client_id=PRODUCER,
            enable_idempotence=True,
            acks="all",
            logger=None,
        )
        async with self._started(consumer), self._started(broker):
            if wait_seconds is not None:
                partitions = await self._partitions(answers)
                consumer.assign(partitions)
                # Only answers published after our command matter: start at the end now.
                await consumer.seek_to_end(*partitions)
                for partition in partitions:
                    await consumer.position(partition)
            await publish(broker, self.topics, command)
            if wait_seconds is None:
                return command, None
            deadline = time.monotonic() + wait_seconds
            while time.monotonic() < deadline:
                batches = await consumer.getmany(timeout_ms=250)
                for records in batches.values():
                    for record in records:
                        answer = _answer_to(command, record)
                        if answer is not None:
                            return command, answer
        raise TimedOut(
            f"no answer from the labels service within {wait_seconds:g}s; the request "
            f"(event {command.event_id}) was published and may still be handled: "
            f"check with `returns-admin label status {merchant_id} {return_id}`"
        )

    # --- dead-letter topics ---------------------------------------------------------------

    def dlq_topics(self, topic: str | None = None) -> list[str]:
        every = [Topics.dlq(name) for name in self.topics.all()]
        if topic is None:
            return every
        wanted = topic if topic.endswith(DLQ_SUFFIX) else Topics.dlq(self.topics.name(topic))
        if wanted not in every:
            raise Refused(f"{topic!r} is not a dead-letter topic; choose one of {', '.join(every)}")
        return [wanted]

    async def read_dlq(self, topics: Sequence[str], limit: int | None = None) -> list[DeadLetter]:
        """Every message now in these dead-letter topics (oldest first per partition)."""
        consumer = self._consumer()
        found: list[DeadLetter] = []
        async with self._started(consumer):
            partitions = await self._partitions(topics)
            if not partitions:
                return []
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            remaining = {tp for tp in partitions if ends[tp] > await consumer.position(tp)}
            while remaining:
                batches = await consumer.getmany(*remaining, timeout_ms=1000)
                for partition, records in batches.items():
                    for record in records:
                        if record.offset < ends[partition]:
                            found.append(DeadLetter.from_record(record))
                    if await consumer.position(partition) >= ends[partition]:
                        remaining.discard(partition)
                if limit is not None and len(found) >= limit:
                    break
        found.sort(key=lambda letter: (letter.topic, letter.partition, letter.offset))
        return found[:limit] if limit is not None else found

    async def read_one(self, topic: str, partition: int, offset: int) -> DeadLetter:
        consumer = self._consumer()
        async with self._started(consumer):
            where = TopicPartition(topic, partition)
            if where not in await self._partitions([topic]):
                raise Refused(f"{topic} has no partition {partition}")
            consumer.assign([where])
            ends = await consumer.end_offsets([where])
            if offset >= ends[where]:
                raise Refused(f"{topic}:{partition} has no message at offset {offset}")
            consumer.seek(where, offset)
            try:
                async with asyncio.timeout(10):
                    record = await consumer.getone(where)
            except TimeoutError as error:
                raise TimedOut(f"could not read {topic}:{partition}:{offset}") from error
            if record.offset != offset:
                raise Refused(
                    f"{topic}:{partition}:{offset} is gone (retention); the oldest is "
                    f"{record.offset}"
                )
            return DeadLetter.from_record(record)

    async def replay(self, letters: Sequence[DeadLetter]) -> list[tuple[DeadLetter, str]]:
        """Send each message back to the topic it failed on, as it was, minus the dead-letter
        headers. Consumers are idempotent, so a message replayed twice is handled once."""
        for letter in letters:
            if not letter.source_topic:
                raise Refused(
                    f"{letter.coordinates} has no {HEADER_SOURCE_TOPIC} header: "
                    "nothing says where it came from"
                )
        producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap_servers,
            client_id=PRODUCER,
            enable_idempotence=True,
            acks="all",
        )
        done: list[tuple[DeadLetter, str]] = []
        async with self._started(producer):
            for letter in letters:
                headers = [
                    (name, value)
                    for name, value in letter.raw_headers
                    if not name.startswith(DLQ_HEADER_PREFIX) and name != HEADER_REPLAYED_FROM
                ]
                headers.append((HEADER_REPLAYED_FROM, letter.coordinates.encode()))
                await producer.send_and_wait(
                    letter.source_topic, letter.value, key=letter.key, headers=headers
                )
                done.append((letter, letter.source_topic))
        return done

    # --- consumer lag ---------------------------------------------------------------------

    async def lag(self, groups: Sequence[str] | None = None) -> list[Lag]:
        """Per group and topic, summed over the topic's partitions (see `partition_lag`)."""
        by_topic: dict[tuple[str, str], Lag] = {}
        for row in await self.partition_lag(groups):
            entry = by_topic.setdefault((row.group, row.topic), Lag(row.group, row.topic))
            entry.committed += row.committed
            entry.end += row.end
            entry.lag += row.lag
            entry.partitions += 1
        return list(by_topic.values())

    async def partition_lag(self, groups: Sequence[str] | None = None) -> list[PartitionLag]:
        """Per group, topic and partition: committed offset against end offset. A partition
        the group never committed on counts from its first offset, where a new consumer of the
        group would start (the services read from the earliest)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap_servers, client_id=PRODUCER)
        consumer = self._consumer()
        result: list[PartitionLag] = []
        async with self._started(admin), self._started(consumer):
            names = (
                list(groups)
                if groups
                else sorted(str(entry[0]) for entry in await admin.list_consumer_groups())
            )
            for group in names:
                committed = await admin.list_consumer_group_offsets(group)
                if not committed:
                    if groups:
                        raise Refused(f"consumer group {group!r} has committed no offsets")
                    continue
                partitions = await self._partitions(sorted({tp.topic for tp in committed}))
                ends = await consumer.end_offsets(partitions)
                starts = await consumer.beginning_offsets(partitions)
                for partition in partitions:
                    meta = committed.get(partition)
                    has_commit = meta is not None and meta.offset >= 0
                    position = meta.offset if meta is not None and has_commit else starts[partition]
                    result.append(
                        PartitionLag(
                            group,
                            partition.topic,
                            partition.partition,
                            position,
                            ends[partition],
                            max(ends[partition] - position, 0),
                        )
                    )
        return result

    async def dlq_depth(self) -> dict[str, int]:
        """Messages each dead-letter topic holds now (end offset - first offset, summed over
        its partitions); 0 for one not created yet. Replayed letters stay until retention."""
        topics = self.dlq_topics()
        depth = dict.fromkeys(topics, 0)
        consumer = self._consumer()
        async with self._started(consumer):
            partitions = await self._partitions(topics)
            if not partitions:
                return depth
            ends = await consumer.end_offsets(partitions)
            starts = await consumer.beginning_offsets(partitions)
        for partition in partitions:
            depth[partition.topic] += max(ends[partition] - starts[partition], 0)
        return depth


@dataclass(frozen=True)
class PartitionLag:
    group: str
    topic: str
    partition: int
    committed: int
    end: int
    lag: int


@dataclass
class Lag:
    group: str
    topic: str
    committed: int = 0
    end: int = 0
    lag: int = 0
    partitions: int = 0


@dataclass(frozen=True)
class DeadLetter:
    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes
    raw_headers: tuple[tuple[str, bytes], ...] = field(repr=False)

    @classmethod
    def from_record(cls, record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            timestamp_ms=record.timestamp,
            key=record.key,
            value=record.value or b"",
            raw_headers=tuple((name, value or b"") for name, value in record.headers),
        )

    @property
    def coordinates(self) -> str:
        """How to name this message on the command line: `topic:partition:offset`."""
        return f"{self.topic}:{self.partition}:{self.offset}"

    @property
    def headers(self) -> dict[str, str]:
        return {name: value.decode(errors="replace") for name, value in self.raw_headers}

    @property
    def source_topic(self) -> str:
        return self.headers.get(HEADER_SOURCE_TOPIC, "")


def parse_coordinates(text: str) -> tuple[str, int, int]:
    """`topic:partition:offset` -> its parts; ValueError with the reason otherwise."""
    topic, separator, rest = text.rpartition(":")
    if not separator:
        raise ValueError(f"{text!r} is not topic:partition:offset")
    topic, separator, partition = topic.rpartition(":")
    if not separator or not topic:
        raise ValueError(f"{text!r} is not topic:partition:offset")
    if not (partition.isdigit() and rest.isdigit()):
        raise ValueError(f"{text!r}: partition and offset are whole numbers")
    return topic, int(partition), int(rest)


def _answer_to(
    command: LabelRequested, record: ConsumerRecord[bytes, bytes]
) -> LabelGenerated | LabelRejected | None:
    try:
        message: Message = parse_message(record.value or b"")
    except ValueError:
        return None
    if not isinstance(message, LabelGenerated | LabelRejected):
        return None
    if message.correlation_id != command.correlation_id:
        return None
    if message.payload.return_id != command.payload.return_id:
        return None
    return message
