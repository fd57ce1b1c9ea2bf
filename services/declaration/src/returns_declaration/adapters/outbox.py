"""The outbox: events live in the document whose change caused them, until the relay sends them.

A document with events carries `outbox` (every event it ever produced, in order),
`outbox_sent` (how many of them the broker acknowledged) and `outbox_pending` (whether some are
not sent yet). Writing the state change and its events is one document write, so nothing is lost
between the two; the relay publishes a batch, awaits every acknowledgement, then marks the batch
sent in one bulk write. A crash between publish and mark republishes: consumers are idempotent.

How the relay finds pending events without reading every document (on FerretDB any filter but
`_id` is a scan of the whole collection): each write with events first inserts a marker into
`outbox_markers`, `_id` `<collection>:<document id>:<first event id>`, then writes the document.
The markers are only an index of where to look; the events stay in the document. The relay reads
a batch of markers (that small collection only), loads their documents by `_id`, publishes what
they have unsent, marks them, and deletes exactly the markers it read. So:
- a crash between marker and document leaves a marker whose document has nothing pending: the
  relay deletes it; a crash after both leaves the marker, and the next relay sends the events;
- an event appended while the relay works comes with a marker of its own, which the relay did not
  read and does not delete.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter, Gauge
from pymongo import UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from returns_contracts import Message, ReturnSubmitted, parse_message
from returns_contracts.service_kit.kafka import publish_all
from returns_contracts.service_kit.mongo import Inserts
from returns_contracts.topics import Topics

logger = logging.getLogger(__name__)

Document = dict[str, Any]
MARKERS = "outbox_markers"
# One document per one-time migration of this database, `_id` its name.
MIGRATIONS = "migrations"


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


def marker_id(collection: str, document_id: str, messages: Sequence[Message]) -> str:
    return f"{collection}:{document_id}:{messages[0].event_id}"


async def mark_pending(
    markers: Inserts,
    collection: str,
    document_id: str,
    messages: Sequence[Message],
) -> str | None:
    """Record, before the write that adds `messages` to the document, where the relay must look.

    Returns the marker's id (None without messages), for `forget_marker` when the write turns
    out to change nothing. Inserting it again (a retried write) is harmless.
    """
    if not messages:
        return None
    document_marker = marker_id(collection, document_id, messages)
    with contextlib.suppress(DuplicateKeyError):
        await markers.insert_one(
            {
                "_id": document_marker,
                "collection": collection,
                "document_id": document_id,
                "event_id": str(messages[0].event_id),
                "at": time.time(),
            }
        )
    return document_marker


async def forget_marker(markers: AsyncCollection[Document], document_marker: str | None) -> None:
    """The write the marker announced did not happen (a duplicate, a conflict): drop it now
    rather than let the relay wait for the grace period.

    Only for a marker no other write can share: the id comes from the first event, so a write
    of the same events that did land (a redelivery recorded by another process) has this very
    marker, and deleting it would leave those events pending with nothing pointing at them."""
    if document_marker is not None:
        await markers.delete_one({"_id": document_marker})


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
        orphan_seconds: float = 60.0,
        linger_seconds: float = 0.0,
    ) -> None:
        # Once woken, how long the relay lets more events come before it reads its batch: under
        # load a pass (4 round trips) then carries the events of several submits, not one.
        self._linger_seconds = linger_seconds
        self._collections: dict[str, AsyncCollection[Document]] = {
            name: database[name] for name in collections
        }
        self._markers: AsyncCollection[Document] = database[MARKERS]
        self._broker_provider = broker_provider
        self._topics = topics
        self._batch_size = batch_size
        # A marker whose event is not in its document is either a write still under way or one
        # that crashed between marker and document; after this long it is taken for the latter.
        self._orphan_seconds = orphan_seconds
        self._poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._published = Counter(
            "outbox_events_published_total", "Events relayed from the outbox", registry=registry
        )
        self._failures = Counter(
            "outbox_relay_failures_total", "Relay passes that failed", registry=registry
        )
        self._submitted = Counter(
            "returns_submitted_total",
            "Returns whose ReturnSubmitted left the outbox, by whether one line is defective",
            ["defective"],
            registry=registry,
        )
        self._backlog = Gauge(
            "outbox_pending_documents",
            "Documents with events still to relay, as the last pass saw them (at most a batch)",
            registry=registry,
        )
        self._oldest = Gauge(
            "outbox_oldest_pending_seconds",
            "Age of the oldest event still to relay at the last pass (0: none waiting)",
            registry=registry,
        )

    async def mark_unmarked_pending(self) -> int:
        """Once per database: give a marker to every document whose events were left pending
        before markers existed (a store upgraded from an older version), so the relay, which
        looks only at markers, still sends them. One scan, at start-up, never again.

        Returns how many markers it wrote."""
        migrations = self._markers.database[MIGRATIONS]
        if await migrations.find_one({"_id": MARKERS}) is not None:
            return 0
        written = 0
        for name, collection in self._collections.items():
            pending = collection.find({"outbox_pending": True}, {"outbox": 1, "outbox_sent": 1})
            async for document in pending:
                unsent = document.get("outbox", [])[int(document.get("outbox_sent", 0)) :]
                if unsent:
                    messages = [parse_message(unsent[0])]
                    await mark_pending(self._markers, name, document["_id"], messages)
                    written += 1
        with contextlib.suppress(DuplicateKeyError):
            await migrations.insert_one({"_id": MARKERS})
        return written

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
            if self._linger_seconds > 0:
                await asyncio.sleep(self._linger_seconds)
            self._wake.clear()
            try:
                while await self.relay_once() == self._batch_size:
                    pass
            except Exception:
                self._failures.inc()
                logger.exception("outbox relay pass failed; will retry")

    async def relay_once(self) -> int:
        """Publish the pending events of one batch of markers; return how many markers it
        settled (deleted)."""
        markers = await self._markers.find({}).to_list(self._batch_size)
        self._backlog.set(len(markers))
        oldest = min((float(marker.get("at", 0)) for marker in markers), default=None)
        self._oldest.set(0.0 if oldest is None else max(time.time() - oldest, 0.0))
        if not markers:
            return 0
        wanted: dict[str, list[str]] = {}
        for marker in markers:
            ids = wanted.setdefault(marker["collection"], [])
            if marker["document_id"] not in ids:
                ids.append(marker["document_id"])
        messages: list[tuple[Message, bytes]] = []
        marks: dict[str, list[tuple[object, int]]] = {}
        # Events of the documents as read now: all of them are sent once this pass succeeds.
        seen: dict[tuple[str, str], set[str]] = {}
        for name, ids in wanted.items():
            collection = self._collections.get(name)
            if collection is None:
                continue
            documents = await collection.find(
                {"_id": {"$in": ids}}, {"outbox": 1, "outbox_sent": 1}
            ).to_list(None)
            for document in documents:
                events = document.get("outbox", [])
                seen[name, document["_id"]] = {str(event.get("event_id")) for event in events}
                sent = int(document.get("outbox_sent", 0))
                if sent < len(events):
                    # Sent as stored, not as parsed: parsing drops the fields of a newer
                    # version (rolling deploy); it only tells the topic, key and headers.
                    messages.extend(
                        (parse_message(event), _stored_json(event)) for event in events[sent:]
                    )
                    marks.setdefault(name, []).append((document["_id"], len(events)))
        if messages:
            await publish_all(self._broker_provider(), self._topics, messages)
            for name, sizes in marks.items():
                await _mark_sent(self._collections[name], sizes)
            self._published.inc(len(messages))
            for message, _ in messages:
                if isinstance(message, ReturnSubmitted):
                    self._submitted.labels(str(message.payload.defective).lower()).inc()
        orphaned_before = time.time() - self._orphan_seconds
        settled = [
            marker["_id"]
            for marker in markers
            if marker.get("event_id") in seen.get((marker["collection"], marker["document_id"]), ())
            or float(marker.get("at", 0)) < orphaned_before
        ]
        if settled:
            await self._markers.delete_many({"_id": {"$in": settled}})
        return len(settled)


def _stored_json(event: Document) -> bytes:
    # Compact and UTF-8 like pydantic's model_dump_json, whose JSON-mode dump is what the outbox
    # stores: an event without unknown fields leaves with the same bytes as before.
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


async def _mark_sent(
    collection: AsyncCollection[Document], sent: Sequence[tuple[object, int]]
) -> None:
    """Record that the first `size` events of each document are sent.

    Each mark is a single-document update guarded by the outbox's size: atomic (see
    repository.py), so an event appended since the read is never overwritten. Such a document
    stays pending and only its count moves forward, in a second write sent only when the first
    missed some documents: on FerretDB each update reads and decodes its whole document, even
    one whose filter does not match, so sending both forms every time cost twice the reads.
    """
    exact = await collection.bulk_write(
        [
            UpdateOne(
                {"_id": document_id, "outbox": {"$size": size}},
                {"$set": {"outbox_sent": size, "outbox_pending": False}},
            )
            for document_id, size in sent
        ],
        ordered=False,
    )
    if exact.matched_count < len(sent):
        await collection.bulk_write(
            [
                UpdateOne(
                    {"_id": document_id, f"outbox.{size}": {"$exists": True}},
                    {"$max": {"outbox_sent": size}},
                )
                for document_id, size in sent
            ],
            ordered=False,
        )
