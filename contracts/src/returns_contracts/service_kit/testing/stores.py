"""A MongoDB database of its own for one test, on the real server the fixtures started."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from pymongo import AsyncMongoClient, monitoring
from pymongo.asynchronous.database import AsyncDatabase

from returns_contracts.service_kit.mongo import CONNECTION_UPKEEP_COMMANDS

Database = AsyncDatabase[dict[str, Any]]


@asynccontextmanager
async def scratch_database(
    mongodb_url: str, prefix: str, listeners: Sequence[monitoring.CommandListener] = ()
) -> AsyncIterator[Database]:
    """A fresh database named `<prefix>_<random>` (clients as the services make them: aware
    datetimes), dropped and closed on the way out; `listeners` see its commands."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongodb_url, tz_aware=True, event_listeners=list(listeners)
    )
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


class CommandLog(monitoring.CommandListener):
    """The store commands a client sent, as `<command> <collection>` (the connection's own
    handshakes and pings left out): pass it to `scratch_database` to count round trips.

    `waits` counts the times a command left while none was out: a use case waits that many
    round trips one after the other, whatever it sends side by side. Reset both with `clear`.
    """

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.waits = 0
        self._out = 0

    def clear(self) -> None:
        self.sent.clear()
        self.waits = 0

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name not in CONNECTION_UPKEEP_COMMANDS:
            self.sent.append(f"{event.command_name} {event.command.get(event.command_name)}")
            if self._out == 0:
                self.waits += 1
            self._out += 1

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._back(event.command_name)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._back(event.command_name)

    def _back(self, command_name: str) -> None:
        if command_name not in CONNECTION_UPKEEP_COMMANDS:
            self._out = max(self._out - 1, 0)
