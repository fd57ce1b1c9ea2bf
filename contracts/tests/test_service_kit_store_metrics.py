"""Every service's store commands at `/metrics`, on the real store: by collection and kind,
with failures and latency, and without the driver's own connection upkeep."""

from __future__ import annotations

import uuid

import httpx
import pytest
from pymongo.errors import DuplicateKeyError, OperationFailure

from returns_contracts.service_kit.process import ServiceProcess
from returns_contracts.service_kit.settings import ServiceSettings

pytestmark = pytest.mark.integration


async def test_the_metrics_count_each_services_store_commands(mongodb_url: str) -> None:
    process = ServiceProcess.open(
        ServiceSettings(mongodb_url=mongodb_url, topic_prefix="kit-test."), "kit-test"
    )
    app = process.app(title="Returns - kit test", description="A test.", asyncapi="Tested.")
    name = f"kit_store_metrics_{uuid.uuid4().hex[:8]}"
    things = process.mongo[name]["things"]
    try:
        await process.mongo.admin.command("ping")
        await things.insert_one({"_id": "a"})
        with pytest.raises(DuplicateKeyError):
            await things.insert_one({"_id": "a"})
        for _ in range(3):
            await things.find_one({"_id": "a"})
        await things.update_one({"_id": "a"}, {"$set": {"seen": True}})
        with pytest.raises(OperationFailure):
            await process.mongo[name].command("noSuchCommand")

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
            metrics = (await client.get("/metrics")).text
    finally:
        await process.mongo.drop_database(name)
        await process.mongo.close()

    assert 'store_commands_total{collection="things",command="find"} 3.0' in metrics
    assert 'store_commands_total{collection="things",command="insert"} 2.0' in metrics
    assert 'store_commands_total{collection="things",command="update"} 1.0' in metrics
    assert 'command="ping"' not in metrics
    # FerretDB, like MongoDB, answers a refused insert with ok: 1 and a writeError: the driver
    # sees the command succeed; the failure counter is for commands answered with an error.
    assert 'store_command_duration_seconds_count{command="find"} 3.0' in metrics
    assert 'store_command_failures_total{command="noSuchCommand"} 1.0' in metrics
    assert 'store_command_failures_total{command="insert"}' not in metrics
