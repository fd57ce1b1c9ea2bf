"""The kit's process assembly: the app every consuming service builds around its clients.

Nothing connects here (the lifespan does not run under ASGITransport): this checks what the app
serves and documents, not Kafka or MongoDB (the end-to-end tests start the real services).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from returns_contracts import LabelGenerated, ReturnSubmitted
from returns_contracts.service_kit.app import YOUNG_GENERATION_THRESHOLD, serve, uvicorn_options
from returns_contracts.service_kit.kafka import Routes
from returns_contracts.service_kit.process import ServiceProcess
from returns_contracts.service_kit.settings import ProcessRole, ServiceSettings


async def _ignore(message: ReturnSubmitted) -> None:
    return None


async def test_the_app_serves_operations_and_documents_its_topics() -> None:
    settings = ServiceSettings(topic_prefix="kit-test.")
    process = ServiceProcess.open(settings, "kit-test", publishes=[LabelGenerated])
    process.subscribe(Routes().on(ReturnSubmitted, _ignore), description="Reads returns.")
    app = process.app(title="Returns - kit test", description="A test.", asyncapi="Tested.")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
        assert (await client.get("/healthz")).status_code == 200
        document = (await client.get("/asyncapi.json")).json()
    await process.mongo.close()

    assert document["info"]["title"] == "Returns - kit test"
    channels = document["channels"].values()
    addresses = {channel["address"] for channel in channels}
    assert addresses == {settings.topics.return_submitted, settings.topics.label_generated}


async def test_an_api_only_process_consumes_nothing_and_documents_what_it_publishes() -> None:
    settings = ServiceSettings(topic_prefix="kit-test.", process_role="api")
    process = ServiceProcess.open(settings, "kit-test", publishes=[LabelGenerated])
    process.subscribe(Routes().on(ReturnSubmitted, _ignore), description="Reads returns.")
    app = process.app(title="Returns - kit test", description="A test.", asyncapi="Tested.")

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
        document = (await client.get("/asyncapi.json")).json()
    await process.mongo.close()

    assert (process.serves_api, process.consumes) == (True, False)
    assert list(process.broker.subscribers) == []
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {settings.topics.label_generated}


async def _loop() -> None:
    return None


@pytest.mark.parametrize(
    ("role", "serves_api", "consumes", "loops"),
    [
        ("all", True, True, ["relay"]),
        ("api", True, False, ["relay"]),
        ("consumers", False, True, []),
    ],
)
async def test_each_role_runs_its_part_of_the_service(
    role: Any, serves_api: bool, consumes: bool, loops: list[str]
) -> None:
    process = ServiceProcess.open(ServiceSettings(process_role=role), "kit-test")
    process.subscribe(Routes().on(ReturnSubmitted, _ignore), description="Reads returns.")
    await process.mongo.close()

    assert (process.serves_api, process.consumes) == (serves_api, consumes)
    assert len(list(process.broker.subscribers)) == (1 if consumes else 0)
    assert list(process.loops_to_run({"relay": _loop})) == loops


async def test_the_metrics_carry_the_consumers_waits_and_dead_letters() -> None:
    process = ServiceProcess.open(ServiceSettings(topic_prefix="kit-test."), "kit-test")
    process.subscribe(Routes().on(ReturnSubmitted, _ignore), description="Reads returns.")
    app = process.app(title="Returns - kit test", description="A test.", asyncapi="Tested.")
    process.consumer_metrics.waits.labels("kit-test", "kit-test.returns.submitted").inc()

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kit") as client:
        metrics = (await client.get("/metrics")).text
    await process.mongo.close()

    assert (
        'consumer_waits_total{consumer="kit-test",topic="kit-test.returns.submitted"} 1.0'
        in metrics
    )
    assert "# TYPE consumer_messages_waiting gauge" in metrics
    assert "# TYPE consumer_dead_letters_total counter" in metrics


def test_the_server_keeps_idle_connections_longer_than_its_http_clients() -> None:
    """Equal idle timeouts race: a client reuses a connection the server is closing and gets a
    ReadError on a request that may have been a submit."""
    options = uvicorn_options(ServiceSettings())
    assert options["timeout_keep_alive"] > (httpx.Limits().keepalive_expiry or 0)
    assert (options["loop"], options["http"]) == ("uvloop", "httptools")


@pytest.fixture
def restore_garbage_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_a_service_serves_with_its_start_up_objects_out_of_the_collector_s_way(
    monkeypatch: pytest.MonkeyPatch, restore_garbage_collector: None
) -> None:
    """Full collections that walked every imported object stopped declaration's event loop for
    about 50 ms each during a burst (YOUNG_GENERATION_THRESHOLD's comment)."""
    seen: dict[str, Any] = {}

    def run(app: FastAPI, **options: Any) -> None:
        seen.update(frozen=gc.get_freeze_count(), threshold=gc.get_threshold(), app=app)

    monkeypatch.setattr(uvicorn, "run", run)
    app = FastAPI()
    gc.unfreeze()
    serve(app, ServiceSettings())

    assert seen["app"] is app
    # Every module this test process imported is frozen before the server runs.
    assert seen["frozen"] > 10_000
    assert seen["threshold"][0] == YOUNG_GENERATION_THRESHOLD


@pytest.mark.parametrize(
    ("role", "app_name"),
    [
        ("all", "returns-kit-test"),
        ("api", "returns-kit-test-api"),
        ("consumers", "returns-kit-test-consumers"),
    ],
)
async def test_the_process_names_itself_to_the_store_with_its_role(
    role: ProcessRole, app_name: str
) -> None:
    process = ServiceProcess.open(ServiceSettings(process_role=role), "kit-test")
    try:
        # What the driver sends in its first hello: the store's logs and currentOp show it.
        assert process.mongo.options.pool_options.metadata["application"] == {"name": app_name}
    finally:
        await process.mongo.close()
