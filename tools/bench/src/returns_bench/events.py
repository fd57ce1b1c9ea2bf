"""Watch the topics the consumers answer on, and match their records to the bench's returns.

The watcher reads `ReturnSubmitted`, `NotificationSent` and `LabelGenerated` from the end of
each partition as it was before the load (no consumer group: it commits nothing and disturbs
no service), and keeps, per return id, the broker timestamp of the first record of each kind.
The customer-service e-mail is the `NotificationSent` of template `customer_service_defective`:
the notifier publishes it once the SMTP server accepted the e-mail.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer

from returns_contracts.topics import Topics

CUSTOMER_SERVICE_TEMPLATE = "customer_service_defective"
SUBMITTED = "submitted"
CUSTOMER_SERVICE_EMAIL = "customer_service_email"
LABEL = "label"


@dataclass
class Seen:
    """Per return id, the time (seconds since the epoch) each stage was first seen."""

    times: dict[str, dict[str, float]] = field(default_factory=dict)
    records: int = 0

    def note(self, return_id: str, stage: str, at: float) -> None:
        stages = self.times.setdefault(return_id, {})
        if stage not in stages:
            stages[stage] = at

    def at(self, return_id: str, stage: str) -> float | None:
        return self.times.get(return_id, {}).get(stage)


def stage_of(topic: str, value: bytes | None, topics: Topics) -> str | None:
    """Which stage a record marks, or None for records the bench does not count."""
    if topic == topics.return_submitted:
        return SUBMITTED
    if topic == topics.label_generated:
        return LABEL
    if topic == topics.notification_sent and value:
        try:
            template = json.loads(value)["payload"]["template"]
        except (ValueError, KeyError, TypeError):
            return None
        return CUSTOMER_SERVICE_EMAIL if template == CUSTOMER_SERVICE_TEMPLATE else None
    return None


class EventWatcher:
    def __init__(self, bootstrap_servers: str, topics: Topics) -> None:
        self.topics = topics
        self.seen = Seen()
        self._names = [topics.return_submitted, topics.notification_sent, topics.label_generated]
        # Without a group the consumer takes every partition of these topics and commits
        # nothing; "latest" puts it at each partition's end as the bench starts.
        self._consumer = AIOKafkaConsumer(
            *self._names,
            bootstrap_servers=bootstrap_servers,
            enable_auto_commit=False,
            group_id=None,
            auto_offset_reset="latest",
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self, wait_seconds: float = 30.0) -> None:
        """Take every partition of the three topics and fix each one's position at its end now,
        before the load: a record published later is never skipped."""
        await self._consumer.start()
        deadline = time.monotonic() + wait_seconds
        while {partition.topic for partition in self._consumer.assignment()} != set(self._names):
            if time.monotonic() > deadline:
                raise RuntimeError(f"topics {self._names} are not all on the broker")
            await asyncio.sleep(0.2)
        for partition in self._consumer.assignment():
            await self._consumer.position(partition)
        self._task = asyncio.create_task(self._read(), name="bench-event-watcher")

    async def _read(self) -> None:
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=2000)
            for records in batches.values():
                for record in records:
                    self.seen.records += 1
                    stage = stage_of(record.topic, record.value, self.topics)
                    if stage is None or record.key is None:
                        continue
                    self.seen.note(record.key.decode(), stage, record.timestamp / 1000.0)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._consumer.stop()


@dataclass(frozen=True)
class Expected:
    """What each submitted return must produce: its event, and its e-mail or its label."""

    return_id: str
    defective: bool

    def stages(self) -> tuple[str, ...]:
        return (SUBMITTED, CUSTOMER_SERVICE_EMAIL if self.defective else LABEL)


def missing(seen: Seen, expected: list[Expected]) -> dict[str, list[str]]:
    """Per stage, the return ids whose record has not been seen."""
    result: dict[str, list[str]] = {SUBMITTED: [], CUSTOMER_SERVICE_EMAIL: [], LABEL: []}
    for item in expected:
        for stage in item.stages():
            if seen.at(item.return_id, stage) is None:
                result[stage].append(item.return_id)
    return result


async def drain(
    seen: Seen,
    expected: list[Expected],
    within: float,
    poll: float = 0.5,
    on_poll: Callable[[float, int], None] = lambda waited, left: None,
    stall: float | None = None,
) -> tuple[dict[str, list[str]], float]:
    """Wait until every expected record was seen: (what is missing, seconds waited). It gives
    up after `within` seconds, or sooner once `stall` seconds pass without one of the missing
    records arriving (consumers that still make progress are slow, not losing). `on_poll(seconds
    waited, records missing)` follows the wait."""
    began = time.monotonic()
    last_progress = began
    fewest_left: int | None = None
    while True:
        left = missing(seen, expected)
        now = time.monotonic()
        waited = now - began
        count = sum(len(ids) for ids in left.values())
        on_poll(waited, count)
        if fewest_left is None or count < fewest_left:
            fewest_left, last_progress = count, now
        stalled = stall is not None and now - last_progress >= stall
        if not count or waited >= within or stalled:
            return left, waited
        await asyncio.sleep(poll)
