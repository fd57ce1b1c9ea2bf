"""Publishing the labels service's events through the shared kit (topic, key and headers)."""

from __future__ import annotations

from faststream.kafka import KafkaBroker

from returns_contracts import Message
from returns_contracts.service_kit.kafka import publish
from returns_contracts.topics import Topics


class KafkaPublisher:
    def __init__(self, broker: KafkaBroker, topics: Topics) -> None:
        self._broker = broker
        self._topics = topics

    async def publish(self, message: Message) -> None:
        await publish(self._broker, self._topics, message)
