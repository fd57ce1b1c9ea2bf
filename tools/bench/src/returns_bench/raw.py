"""The raw limits of the servers the system runs on, measured in the same run.

Each probe is bounded in time and in count: the store (insert, find by `_id`, update by `_id`
of return-sized documents in a scratch collection, and find by `_id` in declaration's own
returns collection at its current size), Kafka (produce with the relay's settings and consume,
messages of a ReturnSubmitted's size, on a scratch topic) and the HTTP stack (`/healthz` of
declaration). Scratch collections and topics are removed afterwards.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from returns_bench.cpu import CpuMeter
from returns_bench.http import Http
from returns_bench.stats import rate, summary
from returns_contracts.service_kit.kafka_topics import new_topics
from returns_contracts.topics import TopicSpec
from returns_declaration.adapters.repository import RETURNS

SCRATCH_DATABASE = "returns_bench_raw"
STORE_OPERATION_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class Limits:
    seconds: float = 5.0
    max_operations: int = 20_000
    concurrency: int = 8


async def repeat(
    operation: Callable[[int], Awaitable[object]],
    limits: Limits,
    cpu_of: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """Run `operation(i)` from `concurrency` workers until `seconds` pass or `max_operations`
    were started: the rate per second, the latency of each call (ms) and, for the processes
    in `cpu_of` (name: pid), the CPU each spent per call (ms)."""
    latencies: list[float] = []
    errors = 0
    counter = iter(range(limits.max_operations))
    meter = CpuMeter(cpu_of or {})
    meter.start()
    deadline = time.monotonic() + limits.seconds
    began = time.monotonic()

    async def worker() -> None:
        nonlocal errors
        for index in counter:
            if time.monotonic() >= deadline:
                return
            start = time.perf_counter()
            try:
                await operation(index)
            except Exception:
                errors += 1
                continue
            latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(worker() for _ in range(limits.concurrency)))
    elapsed = time.monotonic() - began
    report: dict[str, Any] = {
        "per_second": rate(len(latencies), elapsed),
        "operations": len(latencies),
        "errors": errors,
        "seconds": round(elapsed, 3),
        "concurrency": limits.concurrency,
        "latency_ms": summary(latencies, 1000.0),
    }
    if cpu_of and latencies:
        report["cpu_ms_per_operation"] = {
            name: round(seconds * 1000.0 / len(latencies), 4)
            for name, seconds in meter.seconds().items()
        }
    return report


async def store_limits(
    mongodb_url: str,
    declaration_database: str,
    document: Callable[[int], dict[str, Any]],
    stored_ids: Sequence[str],
    limits: Limits,
    cpu_of: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The store's rates, and with `cpu_of` (the store's process and this one) what each
    operation costs them in CPU: the store's work and its client's, as in a service."""
    # A bound on every operation: at 100,000 stored, one scan of the returns takes tens of s.
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongodb_url, timeoutMS=STORE_OPERATION_TIMEOUT_MS
    )
    name = f"raw_{uuid.uuid4().hex[:8]}"
    scratch = client[SCRATCH_DATABASE][name]
    picker = random.Random(11)
    inserted: list[str] = []
    try:

        async def insert(index: int) -> None:
            body = document(index)
            await scratch.insert_one(body)
            inserted.append(str(body["_id"]))

        async def find(_: int) -> None:
            if await scratch.find_one({"_id": picker.choice(inserted)}) is None:
                raise LookupError("a document inserted is not found")

        async def update(index: int) -> None:
            result = await scratch.update_one(
                {"_id": picker.choice(inserted)}, {"$set": {"label_status": f"bench-{index}"}}
            )
            if result.matched_count != 1:
                raise LookupError("a document inserted is not matched")

        returns = client[declaration_database][RETURNS]

        async def find_stored(_: int) -> None:
            if await returns.find_one({"_id": picker.choice(stored_ids)}) is None:
                raise LookupError("a stored return is not found")

        report: dict[str, Any] = {"insert": await repeat(insert, limits, cpu_of)}
        report["scratch_documents"] = len(inserted)
        if inserted:
            report["find_by_id"] = await repeat(find, limits, cpu_of)
            report["update_by_id"] = await repeat(update, limits, cpu_of)
        try:
            report["returns_collection_documents"] = await returns.estimated_document_count()
        except PyMongoError as error:
            report["returns_collection_documents"] = f"not counted: {type(error).__name__}"
        if stored_ids:
            report["find_by_id_in_returns"] = await repeat(find_stored, limits)
        return report
    finally:
        try:
            await client[SCRATCH_DATABASE].drop_collection(name)
        finally:
            await client.close()


async def kafka_limits(
    bootstrap_servers: str, message_size: int, limits: Limits, replication_factor: int = 1
) -> dict[str, Any]:
    """Produce (idempotent, acks=all, as the relay does) then consume `message_size` bytes, on
    a topic replicated as the services' are (`replication_factor`, min ISR from the service kit)."""
    topic = f"bench.raw-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        await admin.create_topics(new_topics([TopicSpec(topic, partitions=3)], replication_factor))
        payload = random.Random(5).randbytes(message_size)
        report: dict[str, Any] = {"message_bytes": message_size}
        producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers, acks="all", enable_idempotence=True
        )
        await producer.start()
        try:
            # One at a time, each awaited: the latency of one acknowledged publish.
            report["produce_one_by_one"] = await repeat(
                lambda i: producer.send_and_wait(topic, payload, key=str(i).encode()),
                Limits(limits.seconds / 2, limits.max_operations, 1),
            )
            # Batches of 100 sent together, then awaited: the throughput the relay can reach.
            sent = 0
            began = time.monotonic()
            deadline = began + limits.seconds / 2
            while time.monotonic() < deadline and sent < limits.max_operations * 5:
                futures = [
                    await producer.send(topic, payload, key=str(sent + i).encode())
                    for i in range(100)
                ]
                await asyncio.gather(*futures)
                sent += len(futures)
            elapsed = time.monotonic() - began
            report["produce_batched"] = {
                "per_second": rate(sent, elapsed),
                "messages": sent,
                "seconds": round(elapsed, 3),
            }
        finally:
            await producer.stop()
        total = report["produce_one_by_one"]["operations"] + sent
        report["consume"] = await _consume_all(bootstrap_servers, topic, total, limits.seconds * 4)
        return report
    finally:
        try:
            await admin.delete_topics([topic])
        finally:
            await admin.close()


async def _consume_all(
    bootstrap_servers: str, topic: str, expected: int, within: float
) -> dict[str, Any]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        received = 0
        began = time.monotonic()
        first: float | None = None
        while received < expected and time.monotonic() - began < within:
            batches = await consumer.getmany(timeout_ms=200, max_records=5000)
            count = sum(len(records) for records in batches.values())
            if count and first is None:
                first = time.monotonic()
            received += count
        elapsed = time.monotonic() - (first or began)
        return {
            "per_second": rate(received, elapsed),
            "messages": received,
            "expected": expected,
            "seconds": round(elapsed, 3),
        }
    finally:
        await consumer.stop()


async def http_limits(http: Http, url: str, limits: Limits) -> dict[str, Any]:
    async def healthz(_: int) -> None:
        answer = await http.request("GET", f"{url}/healthz")
        if answer.is_error:
            raise RuntimeError(f"GET /healthz answered {answer.status}")

    return await repeat(healthz, limits)
