"""Pytest fixtures built on the kit, beside returns_infra's server fixtures; loaded by the
repository's root conftest.py."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from faststream.kafka import KafkaBroker

from returns_contracts.service_kit.kafka import server_list
from returns_contracts.service_kit.testing.stores import CommandLog, Database, scratch_database


@pytest.fixture
async def broker(kafka_bootstrap_servers: str) -> AsyncIterator[KafkaBroker]:
    """A producer on the real broker, for tests that publish what a service would."""
    broker = KafkaBroker(
        server_list(kafka_bootstrap_servers), enable_idempotence=True, acks="all", logger=None
    )
    await broker.start()
    yield broker
    await broker.stop()


@pytest.fixture
async def counted(mongodb_url: str) -> AsyncIterator[tuple[Database, CommandLog]]:
    """A scratch database on the real store and the log of the commands sent to it, for the
    tests that count round trips."""
    listener = CommandLog()
    async with scratch_database(mongodb_url, "round_trips", [listener]) as database:
        yield database, listener
