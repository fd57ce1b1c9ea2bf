"""When did the consumers' work resume? A reader of the topics that mark each stage.

It takes every partition of `ReturnSubmitted`, `NotificationSent` and `LabelGenerated`, starts
at their ends as they were before the load, commits nothing (no consumer group: it disturbs no
service), and keeps the producer's timestamp of each record per stage. It survives the broker's
death: a failed fetch is retried until it is stopped. The census does not rely on it: it reads
the topics again between fixed offsets (see census.py).
"""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from returns_contracts import LabelGenerated, NotificationSent, ReturnSubmitted, parse_message
from returns_contracts.registry import MessageError

SUBMITTED = "ReturnSubmitted"
CUSTOMER_SERVICE_EMAIL = "customer-service e-mail"
LABEL = "LabelGenerated"
CUSTOMER_SERVICE_TEMPLATE = "customer_service_defective"


class StageWatcher:
    def __init__(self, bootstrap_servers: str, merchant_id: str) -> None:
        self.merchant_id = merchant_id
        self.times: dict[str, list[float]] = {SUBMITTED: [], CUSTOMER_SERVICE_EMAIL: [], LABEL: []}
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            enable_auto_commit=False,
            group_id=None,
            request_timeout_ms=10_000,
            retry_backoff_ms=250,
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self, partitions: list[TopicPartition]) -> None:
        await self._consumer.start()
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for partition in partitions:
            await self._consumer.position(partition)
        self._task = asyncio.create_task(self._read(), name="faults-stage-watcher")

    def first_after(self, stage: str, moment: float) -> float | None:
        later = [at for at in self.times[stage] if at >= moment]
        return min(later) if later else None

    def _stage(self, value: bytes | None) -> str | None:
        if value is None:
            return None
        try:
            message = parse_message(value)
        except MessageError:
            return None
        if message.merchant_id != self.merchant_id:
            return None
        if isinstance(message, ReturnSubmitted):
            return SUBMITTED
        if isinstance(message, LabelGenerated):
            return LABEL
        if isinstance(message, NotificationSent):
            template = message.payload.template
            return CUSTOMER_SERVICE_EMAIL if template == CUSTOMER_SERVICE_TEMPLATE else None
        return None

    async def _read(self) -> None:
        while True:
            try:
                batches = await self._consumer.getmany(timeout_ms=200, max_records=2000)
            except KafkaError:
                # The broker is down (a fault under test): the next fetch tries again.
                await asyncio.sleep(0.25)
                continue
            for records in batches.values():
                for record in records:
                    stage = self._stage(record.value)
                    if stage is not None:
                        self.times[stage].append(record.timestamp / 1000.0)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(KafkaError, asyncio.TimeoutError):
            async with asyncio.timeout(15):
                await self._consumer.stop()
