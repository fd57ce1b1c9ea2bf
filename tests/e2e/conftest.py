"""Fixtures the end-to-end tests share (the servers and services come from returns_infra)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from faststream.kafka import KafkaBroker


@pytest.fixture
async def broker(kafka_bootstrap_servers: str) -> AsyncIterator[KafkaBroker]:
    """A producer on the real broker, for tests that publish what a service would."""
    broker = KafkaBroker(kafka_bootstrap_servers, enable_idempotence=True, acks="all", logger=None)
    await broker.start()
    yield broker
    await broker.stop()
