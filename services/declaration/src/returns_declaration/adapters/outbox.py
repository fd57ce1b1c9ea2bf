"""The outbox: events live in the document whose change caused them, until the relay sends them.

A document with events carries `outbox` (every event it ever produced, in order),
`outbox_sent` (how many of them the broker acknowledged) and `outbox_pending` (a flag the relay
looks for). Writing the state change and its events is one document write, so nothing is lost
between the two; the relay publishes a batch, awaits every acknowledgement, then marks the batch
sent in one bulk write. A crash between publish and mark republishes: consumers are idempotent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter
from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from returns_contracts import Message, parse_message
from returns_contracts.service_kit.kafka import publish_all
from returns_contracts.topics import Topics

logger = logging.getLogger(__name__)

Document = dict[str, Any]


def outbox_append(messages: Sequence[Message]) -> dict[str, Any]:
    """The update operators that add `messages` to a document's outbox."""
    return {
        "$push": {"outbox": {"$each": [message.model_dump(mode="json") for message in messages]}},
        "$set": {"outbox_pending": True},
    }


def outbox_fields(messages: Sequence[Message]) -> Document:
    """The outbox fields of a document inserted together with its first events."""
    return {
        "outbox": [message.model_dump(mode="json") for message in messages],
        "outbox_sent": 0,
        "outbox_pending": bool(messages),
    }


class OutboxRelay:
    def __init__(
        self,
        database: AsyncDatabase[Document],
        collections: Sequence[str],
        broker_provider: Callable[[], KafkaBroker],
        topics: Topics,
        registry: CollectorRegistry,
        batch_size: int = 200,
        poll_seconds: float = 2.0,
        write_lock: asyncio.Lock | None = None,
    ) -> None:
        # Shared with the repository: FerretDB would otherwise let the mark of a batch overwrite
        # an event appended at the same moment (see repository.py).
        self._write_lock = write_lock or asyncio.Lock()
        self._collections: list[AsyncCollection[Document]] = [
            database[name] for name in collections
        ]
        self._broker_provider = broker_provider
        self._topics = topics
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._published = Counter(
            "outbox_events_published_total", "Events relayed from the outbox", registry=registry
        )
        self._failures = Counter(
            "outbox_relay_failures_total", "Relay passes that failed", registry=registry
        )

    def wake(self) -> None:
        """Called after a write with events, so they leave now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
            self._wake.clear()
            try:
                while await self.relay_once() == self._batch_size:
                    pass
            except Exception:
                self._failures.inc()
                logger.exception("outbox relay pass failed; will retry")

    async def relay_once(self) -> int:
        """Publish one batch of pending events from every collection; return how many documents."""
        total = 0
        for collection in self._collections:
            documents = await collection.find(
                {"outbox_pending": True}, {"outbox": 1, "outbox_sent": 1}
            ).to_list(self._batch_size)
            if not documents:
                continue
            messages: list[Message] = []
            marks: list[UpdateOne] = []
            for document in documents:
                events = document.get("outbox", [])
                sent = int(document.get("outbox_sent", 0))
                messages.extend(parse_message(event) for event in events[sent:])
                marks.extend(_mark_sent(document["_id"], len(events)))
            await publish_all(self._broker_provider(), self._topics, messages)
            async with self._write_lock:
                await collection.bulk_write(marks, ordered=False)
            self._published.inc(len(messages))
            total = max(total, len(documents))
        return total


def _mark_sent(document_id: object, outbox_size: int) -> list[UpdateOne]:
    # Exactly one of the two applies: if events were appended since we read the document, it
    # stays pending and only the count moves forward.
    return [
        UpdateOne(
            {"_id": document_id, "outbox": {"$size": outbox_size}},
            {"$set": {"outbox_sent": outbox_size, "outbox_pending": False}},
        ),
        UpdateOne(
            {"_id": document_id, f"outbox.{outbox_size}": {"$exists": True}},
            {"$max": {"outbox_sent": outbox_size}},
        ),
    ]
