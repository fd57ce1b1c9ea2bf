"""The opt-in three-broker Kafka cluster (RETURNS_KAFKA_NODES=3) keeps every acknowledged
record while one of its brokers is killed with kill -9 and restarted.

The cluster comes from the `kafka_cluster` fixture: the test profile's three nodes, on ports of
their own beside the single broker the rest of `make test` uses. Topics are created the way the
services create theirs (`new_topics`/`ensure_topics` with the cluster's settings: three
replicas, two in sync), and records are produced the way the services produce them
(`acks=all`, idempotence on).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from returns_bench.cli import DEMO_ADMIN_TOKEN
from returns_bench.events import EventWatcher, Expected, drain
from returns_bench.http import http_client
from returns_bench.journey import JourneyResult, Portal, create_orders, create_shop, walk
from returns_bench.photo import jpeg_photo
from returns_contracts import Topics
from returns_contracts.service_kit.app import new_broker
from returns_contracts.service_kit.kafka_topics import ensure_topics, new_topics
from returns_contracts.service_kit.settings import ServiceSettings
from returns_contracts.topics import TopicSpec
from returns_infra.fixtures import KafkaCluster, RunningServices
from returns_infra.kafka_probe import records_up_to_now
from returns_infra.processes import read_pid

pytestmark = pytest.mark.integration
# The slow ones run in `make test-faults` (RETURNS_FAULTS=full), not in `make test`.
slow_fault = pytest.mark.skipif(
    os.environ.get("RETURNS_FAULTS") != "full", reason="fault suite only: make test-faults"
)

REPLICAS = 3
MIN_INSYNC = 2
PARTITIONS = 3
# Acknowledged records wanted in each phase: before the kill, while a broker is down, after
# its restart.
PER_PHASE = 150
WAIT = 120.0


@dataclass
class Load:
    """What a producer sent and what the cluster acknowledged, by value."""

    acked: set[int] = field(default_factory=set)
    failed_once: set[int] = field(default_factory=set)
    errors: Counter[str] = field(default_factory=Counter)
    next_value: int = 0
    ack_times: list[float] = field(default_factory=list)


async def _admin(bootstrap: str) -> AIOKafkaAdminClient:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000)
    await admin.start()
    return admin


@contextlib.asynccontextmanager
async def _admin_client(bootstrap: str) -> AsyncIterator[AIOKafkaAdminClient]:
    admin = await _admin(bootstrap)
    try:
        yield admin
    finally:
        await admin.close()


async def _admin_describe(bootstrap: str, topics: list[str]) -> list[Any]:
    async with _admin_client(bootstrap) as admin:
        described: list[Any] = await admin.describe_topics(topics)
        return described


async def _partitions(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    """The partitions of `topic`, once the broker asked knows them (a new topic reaches each
    broker's metadata a moment after its creation)."""
    found: list[dict[str, Any]] = []

    async def known() -> bool:
        [described] = await _admin_describe(bootstrap, [topic])
        found[:] = [] if described["error_code"] else described["partitions"]
        return bool(found)

    await _eventually(known, f"topic {topic} in the brokers' metadata")
    return found


async def _eventually(
    probe: Callable[[], Awaitable[bool]], what: str, within: float = WAIT
) -> None:
    deadline = time.monotonic() + within
    while True:
        if await probe():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {within:.0f}s")
        await asyncio.sleep(0.25)


def _node(cluster: KafkaCluster, node_id: int) -> Any:
    [component] = cluster.infra.components([f"kafka-{node_id}"])
    return component


def _kill_9(cluster: KafkaCluster, node_id: int) -> None:
    pid = read_pid(_node(cluster, node_id).pid_path)
    assert pid is not None, f"kafka-{node_id} is not running"
    os.kill(pid, signal.SIGKILL)
    # Gone for good (its threads too) before anyone restarts it: until then its pid file still
    # names a live process, and a start would take it for the running node.
    deadline = time.monotonic() + 30
    while read_pid(_node(cluster, node_id).pid_path) is not None:
        assert time.monotonic() < deadline, f"kafka-{node_id} outlived kill -9 for 30s"
        time.sleep(0.05)


async def _produce(producer: AIOKafkaProducer, topic: str, load: Load, stop: asyncio.Event) -> None:
    """Send batches of numbered records until `stop`; a value whose send failed is sent again."""
    retry: list[int] = []
    while not stop.is_set() or retry:
        values = retry[:20]
        retry = retry[20:]
        if not stop.is_set():
            values += list(range(load.next_value, load.next_value + 20 - len(values)))
            load.next_value = max([load.next_value, *[v + 1 for v in values]])
        sends = [
            await producer.send(topic, str(value).encode(), key=str(value).encode())
            for value in values
        ]
        results = await asyncio.gather(*sends, return_exceptions=True)
        for value, result in zip(values, results, strict=True):
            if isinstance(result, BaseException):
                load.errors[type(result).__name__] += 1
                load.failed_once.add(value)
                retry.append(value)
            else:
                load.acked.add(value)
                load.ack_times.append(time.monotonic())


async def _consume(consumer: AIOKafkaConsumer, seen: Counter[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        batches = await consumer.getmany(timeout_ms=250)
        for records in batches.values():
            for record in records:
                seen[int(record.value)] += 1
        if batches:
            # Offsets committed after the work, as the services do.
            await consumer.commit()


async def test_the_services_topics_get_three_replicas_and_two_in_sync_on_the_cluster(
    kafka_cluster: KafkaCluster,
) -> None:
    bootstrap = kafka_cluster.bootstrap_servers
    topics = Topics(f"cluster-{uuid.uuid4().hex[:8]}")

    await ensure_topics(
        bootstrap,
        topics,
        int(kafka_cluster.env["KAFKA_REPLICATION_FACTOR"]),
        None,
    )

    names = [spec.name for spec in topics.specs()]
    described: list[Any] = []

    async def known_everywhere() -> bool:
        # A broker learns of a new topic from the controller a moment after it is created.
        described[:] = [
            entry
            for entry in await _admin_describe(bootstrap, names)
            if not entry["error_code"] and entry["partitions"]
        ]
        return len(described) == len(names)

    await _eventually(known_everywhere, "the new topics in the brokers' metadata")
    async with _admin_client(bootstrap) as admin:
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name, None) for name in names]
        )
    assert sorted(entry["topic"] for entry in described) == sorted(names)
    for entry in described:
        assert {len(p["replicas"]) for p in entry["partitions"]} == {REPLICAS}, entry["topic"]
    min_isr = {
        resource["resource_name"]: entry["config_value"]
        for response in responses
        for resource in response.to_object()["resources"]
        for entry in resource["config_entries"]
        if entry["config_names"] == "min.insync.replicas"
    }
    assert min_isr == dict.fromkeys(names, str(MIN_INSYNC))


async def test_killing_one_broker_under_load_loses_no_acknowledged_record(
    kafka_cluster: KafkaCluster,
) -> None:
    bootstrap = kafka_cluster.bootstrap_servers
    topic = f"cluster-load-{uuid.uuid4().hex[:8]}"
    group = f"{topic}.reader"
    async with _admin_client(bootstrap) as admin:
        await admin.create_topics(new_topics([TopicSpec(topic, PARTITIONS)], REPLICAS, MIN_INSYNC))
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5
    )
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await producer.start()
    await consumer.start()
    load, seen = Load(), Counter[int]()
    stop_producing, stop_consuming = asyncio.Event(), asyncio.Event()
    producing = asyncio.create_task(_produce(producer, topic, load, stop_producing))
    consuming = asyncio.create_task(_consume(consumer, seen, stop_consuming))
    figures: dict[str, float] = {}
    try:

        async def acked_at_least(count: int) -> bool:
            if producing.done():
                producing.result()  # raises what ended it early
            return len(load.acked) >= count

        await _eventually(lambda: acked_at_least(PER_PHASE), "the first acknowledgements")
        await _eventually(lambda: _async(len(seen) > 0), "the first records read")

        # The node that coordinates the reading group: its death moves the coordinator too.
        async with _admin_client(bootstrap) as admin:
            victim = await admin.find_coordinator(group)
        before_kill = len(load.acked)
        first_after_kill = load.next_value
        killed_at = time.monotonic()
        _kill_9(kafka_cluster, victim)

        await _eventually(
            lambda: acked_at_least(before_kill + PER_PHASE), "acknowledgements with a broker down"
        )
        figures["longest_ack_gap_s"] = _longest_gap(load.ack_times, killed_at)
        await _eventually(
            lambda: _async(any(value >= first_after_kill for value in seen)),
            "reading records produced with a broker down",
        )
        figures["reading_resumed_s"] = time.monotonic() - killed_at

        restarted_at = time.monotonic()
        await asyncio.to_thread(kafka_cluster.start, [f"kafka-{victim}"])
        figures["restart_healthy_s"] = time.monotonic() - restarted_at
        after_restart = len(load.acked)
        await _eventually(
            lambda: acked_at_least(after_restart + PER_PHASE), "acknowledgements after restart"
        )
    finally:
        stop_producing.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(producing, WAIT)
        await producer.stop()

    try:
        # Nothing acknowledged is lost: the whole topic, read from its start, holds it all.
        stored = Counter(
            int(record.value) for record in await records_up_to_now(bootstrap, [topic])
        )
        lost = load.acked - set(stored)
        assert not lost, f"{len(lost)} acknowledged record(s) lost: {sorted(lost)[:20]}"
        # The idempotent producer wrote each record once, unless its send failed and the test
        # sent it again.
        twice = {value for value, count in stored.items() if count > 1} - load.failed_once
        assert not twice, f"records stored twice without a failed send: {sorted(twice)[:20]}"
        # Consumption went on: the group, whose coordinator died, read everything.
        await _eventually(lambda: _async(load.acked <= set(seen)), "the group reading it all")
    finally:
        stop_consuming.set()
        await asyncio.wait_for(consuming, WAIT)
        await consumer.stop()

    # The restarted broker caught up: every partition has its three replicas in sync again.
    async def healed() -> bool:
        return all(len(p["isr"]) == REPLICAS for p in await _partitions(bootstrap, topic))

    await _eventually(healed, "the restarted broker back in sync")
    print(
        f"\nkafka cluster, kafka-{victim} killed: {len(load.acked)} acknowledged, "
        f"0 lost, send errors {dict(load.errors)}, "
        + ", ".join(f"{key} {value:.1f}" for key, value in figures.items())
    )


async def _async(value: bool) -> bool:
    return value


def _longest_gap(stamps: list[float], since: float) -> float:
    """The longest time without any acknowledgement from `since` on: the producers' stall."""
    later = [since, *(stamp for stamp in stamps if stamp > since)]
    return max(b - a for a, b in itertools.pairwise(later)) if len(later) > 1 else 0.0


async def _leader_lost_while_followers_lag(
    cluster: KafkaCluster, send: Callable[[str, bytes], Coroutine[Any, Any, object]]
) -> tuple[bool, bool]:
    """Send one record while both followers of its partition are frozen (SIGSTOP), kill -9 the
    leader, thaw the followers (one becomes leader without the record), restart the old leader.

    Returns (acknowledged, stored): whether `send` reported success, and whether the record is
    in the partition once the cluster has healed. A producer that lets the leader alone
    acknowledge gets (True, False): an acknowledged record lost.
    """
    bootstrap = cluster.bootstrap_servers
    topic = f"cluster-guard-{uuid.uuid4().hex[:8]}"
    async with _admin_client(bootstrap) as admin:
        await admin.create_topics(new_topics([TopicSpec(topic, 1)], REPLICAS, MIN_INSYNC))
    await send(topic, b"warm-up")  # every replica holds it; the producer knows the leader
    [partition] = await _partitions(bootstrap, topic)
    leader = partition["leader"]
    followers = [
        pid
        for node in partition["replicas"]
        if node != leader
        if (pid := read_pid(_node(cluster, node).pid_path)) is not None
    ]
    assert len(followers) == REPLICAS - 1
    for pid in followers:
        os.kill(pid, signal.SIGSTOP)
    try:
        sending = asyncio.create_task(send(topic, b"the record"))
        # Give a leader-only acknowledgement time to arrive; a replicated one cannot.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(sending), 3.0)
        _kill_9(cluster, leader)
    finally:
        for pid in followers:
            os.kill(pid, signal.SIGCONT)
    try:
        await asyncio.wait_for(sending, WAIT)
        acknowledged = True
    except Exception:
        acknowledged = False
    await asyncio.to_thread(cluster.start, [f"kafka-{leader}"])

    async def healed() -> bool:
        return all(len(p["isr"]) == REPLICAS for p in await _partitions(bootstrap, topic))

    await _eventually(healed, "the old leader back in sync")
    stored = [record.value for record in await records_up_to_now(bootstrap, [topic])]
    return acknowledged, b"the record" in stored


async def test_a_services_producer_is_acknowledged_only_once_two_brokers_hold_the_record(
    kafka_cluster: KafkaCluster,
) -> None:
    # The services' own producer (service kit: acks=all, idempotence on), nothing re-typed.
    settings = ServiceSettings(kafka_bootstrap_servers=kafka_cluster.bootstrap_servers)
    broker = new_broker(settings, "cluster-test")
    await broker.start()
    try:

        async def send(topic: str, value: bytes) -> object:
            return await broker.publish(value, topic=topic, key=b"one-key")

        acknowledged, stored = await _leader_lost_while_followers_lag(kafka_cluster, send)
    finally:
        await broker.stop()

    assert stored or not acknowledged, "an acknowledged record was lost with its leader"
    # The producer retried on the new leader rather than give up.
    assert acknowledged and stored


@pytest.mark.faults
@slow_fault
async def test_the_guard_matters_a_leader_only_acknowledgement_is_lost_with_the_leader(
    kafka_cluster: KafkaCluster,
) -> None:
    """The control of the test above: acks=1, the guard removed, loses the acknowledged record
    in the very same scenario, so the test above would catch a producer without acks=all."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka_cluster.bootstrap_servers, acks=1)
    await producer.start()
    try:

        async def send(topic: str, value: bytes) -> object:
            return await producer.send_and_wait(topic, value, key=b"one-key")

        acknowledged, stored = await _leader_lost_while_followers_lag(kafka_cluster, send)
    finally:
        await producer.stop()

    assert (acknowledged, stored) == (True, False)


# Journeys of the end-to-end run (a third defective), and how many go at once.
JOURNEYS = 90
CONCURRENCY = 4


@pytest.mark.e2e
@pytest.mark.faults
@slow_fault
@pytest.mark.skipif(
    os.environ.get("RETURNS_KAFKA_NODES") != "3",
    reason="needs the services on the cluster: RETURNS_KAFKA_NODES=3 (make test-faults does)",
)
async def test_returns_submitted_while_a_broker_is_killed_all_reach_their_consumers(
    services: RunningServices, kafka_cluster: KafkaCluster
) -> None:
    """The four services on the cluster, with nothing but its settings (`returns-infra env`
    with RETURNS_KAFKA_NODES=3): returns submitted through the API while the broker that
    leads the returns topic's first partition is killed with kill -9 and restarted. Every
    submitted return's event is published, and its e-mail or label made."""
    if services.env["KAFKA_BOOTSTRAP_SERVERS"] != kafka_cluster.bootstrap_servers:
        pytest.skip("the services run on the single broker: RETURNS_KAFKA_NODES=3 puts them here")
    declaration, media = services.urls["declaration"], services.urls["media"]
    topics = Topics(os.environ.get("TOPIC_PREFIX", ""))
    admin_token = os.environ.get("ADMIN_API_TOKEN", DEMO_ADMIN_TOKEN)
    async with http_client(CONCURRENCY, 60.0) as http:
        shop = await create_shop(http, declaration, admin_token)
        orders = await create_orders(http, declaration, shop, JOURNEYS, CONCURRENCY)
        portal = Portal(declaration, media, shop, jpeg_photo(640, 480))
        watcher = EventWatcher(kafka_cluster.bootstrap_servers, topics)
        await watcher.start()
        try:
            bootstrap = kafka_cluster.bootstrap_servers
            partitions = await _partitions(bootstrap, topics.return_submitted)
            # The services created their topics from KAFKA_REPLICATION_FACTOR alone.
            assert {len(partition["replicas"]) for partition in partitions} == {REPLICAS}
            victim = partitions[0]["leader"]
            results: list[JourneyResult] = []
            queue = iter(enumerate(orders))
            killed, two_thirds_done = asyncio.Event(), asyncio.Event()
            figures: dict[str, float] = {}

            async def journeys() -> None:
                for index, number in queue:
                    result = JourneyResult(index, index % 3 == 0, time.time())
                    results.append(await walk(http, portal, number, result))
                    if len(results) == JOURNEYS // 3:
                        _kill_9(kafka_cluster, victim)
                        killed.set()
                    if len(results) == 2 * JOURNEYS // 3:
                        two_thirds_done.set()

            async def restart() -> None:
                # A third of the journeys run with the broker down, then it comes back.
                await killed.wait()
                await two_thirds_done.wait()
                began = time.monotonic()
                await asyncio.to_thread(kafka_cluster.start, [f"kafka-{victim}"])
                figures["restart_healthy_s"] = time.monotonic() - began

            await asyncio.gather(restart(), *(journeys() for _ in range(CONCURRENCY)))
            failed = [result.error for result in results if not result.ok]
            assert not failed, f"{len(failed)} journeys failed: {failed[:5]}"
            expected = [Expected(str(result.return_id), result.defective) for result in results]
            lost, waited = await drain(watcher.seen, expected, 300)
        finally:
            await watcher.stop()
    counts = {stage: len(ids) for stage, ids in lost.items()}
    assert not any(lost.values()), f"lost per stage: {counts}"
    print(
        f"\nservices on the kafka cluster, kafka-{victim} killed after {JOURNEYS // 3} of "
        f"{JOURNEYS} returns and restarted after {2 * JOURNEYS // 3} "
        f"(healthy in {figures['restart_healthy_s']:.1f}s): {len(expected)} returns, "
        f"{sum(e.defective for e in expected)} defective; every event, e-mail and label seen, "
        f"{waited:.1f}s of drain after the last submit"
    )
