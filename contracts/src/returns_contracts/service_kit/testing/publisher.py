"""The one fake of the `EventPublisher` port: it keeps what the use cases published."""

from __future__ import annotations

from typing import TypeVar

from returns_contracts import Message

M = TypeVar("M", bound=Message)


class RecordingPublisher:
    def __init__(self) -> None:
        self.published: list[Message] = []

    async def publish(self, message: Message) -> None:
        self.published.append(message)

    def of_type(self, message_class: type[M]) -> list[M]:
        """The published messages of one type, in the order published."""
        return [message for message in self.published if isinstance(message, message_class)]
