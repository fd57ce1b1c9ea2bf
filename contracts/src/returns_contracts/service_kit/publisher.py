"""The one Kafka publisher of the services' use cases (their `EventPublisher` port).

Topic, key and headers come from the message (`kafka.publish`); services that publish through
their outbox (declaration) do not use it.
"""

from __future__ import annotations

from typing import Protocol

from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry, Counter

from returns_contracts import Message
from returns_contracts.service_kit.kafka import publish
from returns_contracts.topics import Topics


class EventPublisher(Protocol):
    async def publish(self, message: Message) -> None:
        """Publish one message and wait for the broker's acknowledgement."""


class KafkaPublisher:
    """With a `registry`, counts what the broker acknowledged by message type
    (`messages_published_total{type="LabelGenerated"}`: the labels made, on the dashboards)."""

    def __init__(
        self, broker: KafkaBroker, topics: Topics, registry: CollectorRegistry | None = None
    ) -> None:
        self._broker = broker
        self._topics = topics
        self._published = (
            None
            if registry is None
            else Counter(
                "messages_published_total",
                "Messages published and acknowledged, by type",
                ["type"],
                registry=registry,
            )
        )

    async def publish(self, message: Message) -> None:
        await publish(self._broker, self._topics, message)
        if self._published is not None:
            self._published.labels(type(message).__name__).inc()
