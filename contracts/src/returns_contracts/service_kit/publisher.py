"""The one Kafka publisher of the services' use cases (their `EventPublisher` port).

Topic, key and headers come from the message (`kafka.publish`); services that publish through
their outbox (declaration) do not use it.
"""

from __future__ import annotations

from typing import Protocol

from faststream.kafka import KafkaBroker

from returns_contracts import Message
from returns_contracts.service_kit.kafka import publish
from returns_contracts.topics import Topics


class EventPublisher(Protocol):
    async def publish(self, message: Message) -> None:
        """Publish one message and wait for the broker's acknowledgement."""


class KafkaPublisher:
    def __init__(self, broker: KafkaBroker, topics: Topics) -> None:
        self._broker = broker
        self._topics = topics

    async def publish(self, message: Message) -> None:
        await publish(self._broker, self._topics, message)
