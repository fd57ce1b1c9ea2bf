"""The one way to put a message on Kafka and the one way to consume it reliably.

Publishing: the topic comes from the message type, the key from the message (return_id, or
merchant_id for merchant topics) so one return's messages stay in order, and the envelope's
identity travels in headers too so SREs can read it without decoding payloads.

Consuming: `reliable` wraps a handler with bounded retries and exponential backoff; a message
that still fails goes to `<topic>.dlq` with the error in its headers and the consumer moves on.
A handler that raises `Unavailable` says a server it needs is down, not that the message is bad:
those tries do not count against the attempt bound, and the consumer keeps waiting (backoff
capped at `Retry.unavailable_cap_seconds`) for as long as `Retry.unavailable_budget_seconds`.
A handler that raises `NotYet` says that what the message refers to has not arrived yet (another
topic lags): a wait, not a failure, with its own horizon in time (`Retry.waiting_budget_seconds`,
minutes) and its own metric; only then does the message go to the DLQ.
Subscribers use AckPolicy.ACK so the offset is committed only after this wrapper returns.

Each subscriber takes its records in batches (`consumer_batch_size` at most, whatever has
arrived): the records of one key (one return, one merchant) are handled in order, one after the
other, and the different keys of the batch at the same time; the batch's offsets are committed
once, after every record in it is done. So a consumer waiting on SMTP, another service or the
store for one return does not hold up the others, and Kafka sees one offset commit per batch
instead of one per message. That is the same freedom two instances sharing a topic's partitions
already have: only one key's messages are ordered.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import traceback
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from prometheus_client import CollectorRegistry, Counter, Gauge

from returns_contracts import Message, parse_message
from returns_contracts.service_kit.logging import correlation_scope
from returns_contracts.topics import Topics

logger = logging.getLogger(__name__)

HEADER_TYPE = "x-message-type"
HEADER_VERSION = "x-message-version"
HEADER_EVENT_ID = "x-event-id"
HEADER_ERROR = "x-dlq-error"
HEADER_ERROR_TYPE = "x-dlq-error-type"
HEADER_ATTEMPTS = "x-dlq-attempts"
HEADER_SOURCE_TOPIC = "x-dlq-source-topic"
HEADER_CONSUMER = "x-dlq-consumer"


def _headers_for(message: Message) -> dict[str, str]:
    return {
        HEADER_TYPE: message.type,
        HEADER_VERSION: str(message.version),
        HEADER_EVENT_ID: str(message.event_id),
    }


def _encode(message: Message) -> bytes:
    return message.model_dump_json().encode()


def _key(message: Message) -> bytes:
    key = message.key()
    return key if isinstance(key, bytes) else key.encode()


async def publish(broker: KafkaBroker, topics: Topics, message: Message) -> None:
    """Publish one message and wait for the broker's acknowledgement."""
    await broker.publish(
        _encode(message),
        topic=topics.for_message(type(message)),
        key=_key(message),
        headers=_headers_for(message),
        correlation_id=message.correlation_id,
    )


async def publish_all(
    broker: KafkaBroker, topics: Topics, messages: Sequence[Message | tuple[Message, bytes]]
) -> None:
    """Send every message, then await all acknowledgements together (one round trip, not N).

    A `(message, body)` pair sends `body`, the message already serialised (as a newer version
    stored it, with fields this one does not know), unchanged; `message`, parsed from it, gives
    the topic, the key and the headers. A re-serialised parse would drop those fields.
    """
    pending: list[asyncio.Future[Any]] = []
    for item in messages:
        message, body = item if isinstance(item, tuple) else (item, _encode(item))
        future = await broker.publish(
            body,
            topic=topics.for_message(type(message)),
            key=_key(message),
            headers=_headers_for(message),
            correlation_id=message.correlation_id,
            no_confirm=True,
        )
        pending.append(future)
    await asyncio.gather(*pending)


def server_list(bootstrap_servers: str) -> list[str]:
    """`host:port,host:port` as the list FastStream needs: its KafkaBroker takes a string as one
    single address, so a cluster's comma-separated list would not resolve."""
    return [server.strip() for server in bootstrap_servers.split(",") if server.strip()]


Handler = Callable[[Message], Awaitable[None]]
UnparseableHandler = Callable[[bytes, Exception], Awaitable[bool]]
M = TypeVar("M", bound=Message)


class Routes:
    """Which handler takes which message type; the topics to read follow from the types."""

    def __init__(self) -> None:
        self.handlers: dict[type[Message], Handler] = {}
        self.unparseable: dict[str, UnparseableHandler] = {}

    def on(self, message_class: type[M], handle: Callable[[M], Awaitable[object]]) -> Routes:
        async def typed(message: Message) -> None:
            if not isinstance(message, message_class):  # routing below makes this impossible
                raise PermanentError(f"expected {message_class.__name__}, got {message.type}")
            await handle(message)

        self.handlers[message_class] = typed
        return self

    def on_unparseable(self, topic: str, handle: UnparseableHandler) -> Routes:
        """Give messages of `topic` that do not parse to `handle` before the DLQ.

        `handle` returns True when it dealt with the message (for example by answering the
        sender with a rejection); False, or an exception, dead-letters it as usual.
        """
        self.unparseable[topic] = handle
        return self

    def topic_names(self, topics: Topics) -> list[str]:
        return sorted({topics.for_message(message_class) for message_class in self.handlers})


class Retry:
    """Bounded attempts with exponential backoff and full jitter.

    Outages (`Unavailable`) have their own budget, in time rather than attempts: None waits
    until the server is back, however long, so an outage delays messages but loses none.
    """

    def __init__(
        self,
        max_attempts: int,
        base_seconds: float,
        cap_seconds: float = 30.0,
        *,
        unavailable_cap_seconds: float = 30.0,
        unavailable_budget_seconds: float | None = None,
        waiting_cap_seconds: float = 5.0,
        waiting_budget_seconds: float = 240.0,
    ) -> None:
        self.max_attempts = max_attempts
        self.base_seconds = base_seconds
        self.cap_seconds = cap_seconds
        self.unavailable_cap_seconds = unavailable_cap_seconds
        self.unavailable_budget_seconds = unavailable_budget_seconds
        self.waiting_cap_seconds = waiting_cap_seconds
        self.waiting_budget_seconds = waiting_budget_seconds

    def delay(self, attempt: int) -> float:
        return random.uniform(0, min(self.cap_seconds, self.base_seconds * 2 ** (attempt - 1)))

    def outage_delay(self, try_number: int) -> float:
        return self._patient_delay(try_number, self.unavailable_cap_seconds)

    def waiting_delay(self, try_number: int) -> float:
        """Between two tries of a message waiting for what it refers to: short, since the
        other topic usually catches up within seconds."""
        return self._patient_delay(try_number, self.waiting_cap_seconds)

    def _patient_delay(self, try_number: int, cap_seconds: float) -> float:
        # Equal jitter rather than full: never hammer a server that is coming back up. The
        # exponent stops growing long before the float would overflow in an hours-long outage.
        growth = 2.0 ** min(try_number - 1, 30)
        ceiling = min(cap_seconds, self.base_seconds * growth)
        return random.uniform(ceiling / 2, ceiling)


class PermanentError(Exception):
    """Retrying cannot help (bad data, missing configuration): dead-letter at once."""


class Unavailable(Exception):
    """A server the handler needs (SMTP, another service) does not answer: wait, do not give up.

    Raise it only when the message itself played no part in the failure (connection refused,
    timeout while connecting, 503), or a bad message could hold the consumer for the whole
    outage budget.
    """


class NotYet(Exception):
    """What the message refers to has not arrived yet (its return, its merchant: another topic
    read by another consumer group lags): wait for it, the message is not at fault.

    The consumer tries again with a capped backoff for `Retry.waiting_budget_seconds`, much
    longer than any stall of another consumer (a restart, a lease to expire, a broker coming
    back); none of these tries counts as an attempt. Only a message still waiting then goes to
    the DLQ: one that refers to something that will never come.
    """


class ConsumerMetrics:
    """What the consumers of a process expose at /metrics beside the HTTP figures."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.waiting = Gauge(
            "consumer_messages_waiting",
            "Messages waiting now for what they refer to (another topic lags)",
            ["consumer", "topic"],
            registry=registry,
        )
        self.waits = Counter(
            "consumer_waits",
            "Tries put off because what the message refers to had not arrived yet",
            ["consumer", "topic"],
            registry=registry,
        )
        self.dead_letters = Counter(
            "consumer_dead_letters",
            "Messages sent to their dead-letter topic",
            ["consumer", "topic", "error_type"],
            registry=registry,
        )


@dataclass(frozen=True)
class Delivery:
    """One record as the consumer loop reads it: where it came from, its headers and its body."""

    topic: str
    key: bytes | None
    headers: dict[str, str]
    body: bytes

    @classmethod
    def of(cls, record: ConsumerRecord[Any, Any]) -> Delivery:
        headers = {
            name: value.decode("utf-8", errors="replace")
            for name, value in record.headers or ()
            if isinstance(value, bytes)
        }
        return cls(record.topic, record.key, headers, record.value or b"")


Consume = Callable[[Delivery], Awaitable[None]]

# How long an idle subscriber waits for records before it looks again. FastStream also pauses
# this long after a poll that found nothing, so it bounds the delay a record arriving at an idle
# consumer can see; the cost is a few wake-ups a second per subscriber.
_BATCH_WAIT_MS = 50


async def consume_batch(consume: Consume, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
    """Handle a batch: each key's records in order, the keys side by side.

    Never cancels a handler half-way (a cancelled store call can leave the driver's state
    behind): every lane runs to its end, then the first unexpected error, if any, is raised so
    that the batch is not committed and comes back.
    """
    lanes: dict[tuple[str, int, bytes | None], list[Delivery]] = {}
    for record in records:
        lanes.setdefault((record.topic, record.partition, record.key), []).append(
            Delivery.of(record)
        )

    async def in_order(deliveries: list[Delivery]) -> None:
        for delivery in deliveries:
            await consume(delivery)

    outcomes = await asyncio.gather(
        *(in_order(deliveries) for deliveries in lanes.values()), return_exceptions=True
    )
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


def consumer_group(consumer: str, topic: str) -> str:
    """The consumer group in which `consumer` (a service) reads `topic`."""
    return f"{consumer}.{topic}"


def subscribe(
    broker: KafkaBroker,
    *,
    consumer: str,
    topics: Topics,
    retry: Retry,
    routes: Routes,
    description: str,
    max_poll_interval_ms: int = 300_000,
    instance_id: str = "",
    metrics: ConsumerMetrics | None = None,
    batch_size: int = 32,
) -> None:
    """Read every topic of `routes` reliably, each in a consumer group of its own, in batches
    of at most `batch_size` records (see the module's docstring).

    `instance_id`: static membership in each of those groups (see the settings'
    `consumer_instance_id`); empty for dynamic members.

    One group per (service, topic), not one consumer for all of a service's topics: a message
    retried while it waits for something another topic brings (a return before its merchant's
    snapshot) must not hold back that very topic. Groups of their own also keep the topics
    from rebalancing each other.
    """
    consume = reliable(
        consumer=consumer,
        broker=broker,
        topics=topics,
        retry=retry,
        routes=routes,
        metrics=metrics,
    )
    for topic in routes.topic_names(topics):

        async def on_batch(batch: KafkaMessage) -> None:
            await consume_batch(consume, batch.raw_message)

        broker.subscriber(
            topic,
            group_id=consumer_group(consumer, topic),
            batch=True,
            max_records=batch_size,
            batch_timeout_ms=_BATCH_WAIT_MS,
            ack_policy=AckPolicy.ACK,
            auto_offset_reset="earliest",
            max_poll_interval_ms=max_poll_interval_ms,
            group_instance_id=instance_id or None,
            title=f"{consumer}:{topic}",
            description=description,
        )(on_batch)


def reliable(
    *,
    consumer: str,
    broker: KafkaBroker,
    topics: Topics,
    retry: Retry,
    routes: Routes,
    metrics: ConsumerMetrics | None = None,
) -> Consume:
    """Wrap the routes' handlers so that consuming never raises: retry, dead-letter, carry on.

    Messages of a type this consumer does not handle are skipped; a payload that does not
    parse is dead-lettered without retries. Fields the contract does not know are no reason:
    `parse_message` ignores them, so a newer producer's added field is read (rolling deploys).
    """

    async def consume(delivery: Delivery) -> None:
        topic, body = delivery.topic, delivery.body

        async def dead_letter(error: BaseException, attempts: int) -> None:
            await _dead_letter(broker, topics, consumer, delivery, error, attempts)
            if metrics is not None:
                metrics.dead_letters.labels(consumer, topic, type(error).__name__).inc()

        try:
            message = parse_message(body)
        except Exception as error:
            if not await _handled_unparseable(routes, topic, body, error):
                await dead_letter(error, 1)
            return
        handle = routes.handlers.get(type(message))
        if handle is None:
            return
        with correlation_scope(message.correlation_id):
            attempt = 1
            outage_tries = 0
            outage_started: float | None = None
            waiting = _Waiting(consumer, topic, str(message.event_id), retry, metrics)
            try:
                while True:
                    try:
                        await handle(message)
                        return
                    except PermanentError as error:
                        await dead_letter(error, attempt)
                        return
                    except Unavailable as error:
                        now = time.monotonic()
                        outage_started = now if outage_started is None else outage_started
                        budget = retry.unavailable_budget_seconds
                        if budget is not None and now - outage_started >= budget:
                            await dead_letter(error, attempt)
                            return
                        outage_tries += 1
                        delay = retry.outage_delay(outage_tries)
                        logger.warning(
                            "a server the handler needs is unavailable, waiting",
                            extra={
                                "consumer": consumer,
                                "event_id": str(message.event_id),
                                "waited_seconds": round(now - outage_started, 1),
                                "retry_in_seconds": round(delay, 3),
                                "error": repr(error),
                            },
                        )
                        await asyncio.sleep(delay)
                        continue
                    except NotYet as error:
                        pause = waiting.next_delay(error)
                        if pause is None:
                            await dead_letter(error, attempt)
                            return
                        await asyncio.sleep(pause)
                        continue
                    except Exception as error:
                        # The server answered, so any earlier outage is over: a later one starts
                        # its budget afresh.
                        outage_tries, outage_started = 0, None
                        if attempt >= retry.max_attempts:
                            await dead_letter(error, attempt)
                            return
                        delay = retry.delay(attempt)
                        logger.warning(
                            "handler failed, retrying",
                            extra={
                                "consumer": consumer,
                                "event_id": str(message.event_id),
                                "attempt": attempt,
                                "retry_in_seconds": round(delay, 3),
                                "error": repr(error),
                            },
                        )
                        await asyncio.sleep(delay)
                        attempt += 1
            finally:
                waiting.over()

    return consume


class _Waiting:
    """The wait of one message for what it refers to: its horizon, its log and its metrics."""

    def __init__(
        self,
        consumer: str,
        topic: str,
        event_id: str,
        retry: Retry,
        metrics: ConsumerMetrics | None,
    ) -> None:
        self.consumer, self.topic, self.event_id = consumer, topic, event_id
        self.retry = retry
        self.metrics = metrics
        self.started: float | None = None
        self.tries = 0

    def next_delay(self, error: NotYet) -> float | None:
        """How long to wait before the next try, or None once the horizon has passed."""
        now = time.monotonic()
        if self.started is None:
            self.started = now
            if self.metrics is not None:
                self.metrics.waiting.labels(self.consumer, self.topic).inc()
        waited = now - self.started
        if waited >= self.retry.waiting_budget_seconds:
            logger.error(
                "message waited its whole horizon for what it refers to",
                extra={
                    "consumer": self.consumer,
                    "event_id": self.event_id,
                    "waited_seconds": round(waited, 1),
                    "error": repr(error),
                },
            )
            self.over()
            return None
        self.tries += 1
        delay = self.retry.waiting_delay(self.tries)
        if self.metrics is not None:
            self.metrics.waits.labels(self.consumer, self.topic).inc()
        logger.warning(
            "message waits for what it refers to",
            extra={
                "consumer": self.consumer,
                "event_id": self.event_id,
                "waited_seconds": round(waited, 1),
                "horizon_seconds": self.retry.waiting_budget_seconds,
                "retry_in_seconds": round(delay, 3),
                "error": repr(error),
            },
        )
        return delay

    def over(self) -> None:
        if self.started is not None and self.metrics is not None:
            self.metrics.waiting.labels(self.consumer, self.topic).dec()
        self.started = None


async def _handled_unparseable(routes: Routes, topic: str, body: bytes, error: Exception) -> bool:
    handle = routes.unparseable.get(topic)
    if handle is None:
        return False
    try:
        return await handle(body, error)
    except Exception:
        logger.exception("handler of an unparseable message failed", extra={"topic": topic})
        return False


async def _dead_letter(
    broker: KafkaBroker,
    topics: Topics,
    consumer: str,
    delivery: Delivery,
    error: BaseException,
    attempts: int,
) -> None:
    source_topic = delivery.topic
    headers = dict(delivery.headers)
    headers.update(
        {
            HEADER_ERROR: "".join(traceback.format_exception_only(error)).strip()[:2000],
            HEADER_ERROR_TYPE: type(error).__name__,
            HEADER_ATTEMPTS: str(attempts),
            HEADER_SOURCE_TOPIC: source_topic,
            HEADER_CONSUMER: consumer,
        }
    )
    await broker.publish(
        delivery.body, topic=topics.dlq(source_topic), key=delivery.key, headers=headers
    )
    logger.error(
        "message dead-lettered",
        extra={
            "consumer": consumer,
            "topic": source_topic,
            "attempts": attempts,
            "error": repr(error),
        },
    )


def declare_publications(
    broker: KafkaBroker, topics: Topics, messages: Iterable[type[Message]]
) -> None:
    """List what this service publishes in its AsyncAPI document (topic, key, payload schema).

    Publishing itself goes through `publish`/`publish_all`; these declarations only document it.
    """
    for message_class in messages:
        broker.publisher(
            topics.for_message(message_class),
            title=f"{message_class.type_name()} v{message_class.type_version()}",
            description=f"{message_class.kind}, keyed by {message_class.key_path}",
            schema=message_class,
        )
