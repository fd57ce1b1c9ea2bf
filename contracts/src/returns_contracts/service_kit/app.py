"""Building blocks of a service process: one Kafka broker, one MongoDB client, AsyncAPI docs."""

from __future__ import annotations

import gc
from typing import Any

import pymongo
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI, get_asyncapi_html
from prometheus_client import CollectorRegistry
from pymongo import AsyncMongoClient

from returns_contracts.service_kit.access import PUBLIC
from returns_contracts.service_kit.http import ReadinessCheck
from returns_contracts.service_kit.kafka import ConsumerMetrics, Routes, server_list, subscribe
from returns_contracts.service_kit.kafka_topics import ensure_topics
from returns_contracts.service_kit.settings import ServiceSettings
from returns_contracts.service_kit.store_metrics import StoreCommandMetrics

MongoClient = AsyncMongoClient[dict[str, Any]]


def new_broker(settings: ServiceSettings, service_name: str) -> KafkaBroker:
    """The service's one Kafka client: idempotent producer, every replica acknowledges."""
    return KafkaBroker(
        server_list(settings.kafka_bootstrap_servers),
        client_id=service_name,
        enable_idempotence=True,
        acks="all",
        logger=None,
    )


def subscribe_service(
    broker: KafkaBroker,
    settings: ServiceSettings,
    consumer: str,
    routes: Routes,
    description: str,
    metrics: ConsumerMetrics | None = None,
) -> None:
    """Consume the routes' topics reliably in the service's consumer groups, with the consumer
    settings every service reads (retries, waits, poll interval, static membership)."""
    subscribe(
        broker,
        consumer=consumer,
        topics=settings.topics,
        retry=settings.consumer_retry(),
        max_poll_interval_ms=settings.consumer_max_poll_interval_ms,
        instance_id=settings.consumer_instance_id,
        batch_size=settings.consumer_batch_size,
        routes=routes,
        description=description,
        metrics=metrics,
    )


async def prepare_topics(settings: ServiceSettings) -> None:
    """Create the service's topics and DLQs that do not exist yet, replicated as set."""
    await ensure_topics(
        settings.kafka_bootstrap_servers,
        settings.topics,
        settings.kafka_replication_factor,
        settings.kafka_min_insync_replicas,
    )


def store_app_name(service_name: str, settings: ServiceSettings) -> str:
    """How the process names itself to MongoDB, which shows the name in its logs (slow
    operations included), `currentOp` and the profiler: an SRE reading them knows which service
    sent a command, and which of its processes where it runs as two (`PROCESS_ROLE`)."""
    if settings.process_role == "all":
        return f"returns-{service_name}"
    return f"returns-{service_name}-{settings.process_role}"


def new_mongo_client(
    settings: ServiceSettings, registry: CollectorRegistry, app_name: str
) -> MongoClient:
    """The service's one MongoDB client, named `app_name` (`store_app_name`); every operation
    is bounded by the driver itself, and its commands are counted in `registry`
    (`service_kit.store_metrics`).

    `timeoutMS` bounds each operation as a whole (server selection, pool checkout, the reply),
    so nothing in the service has to cancel a driver call from outside: cancelling PyMongo's
    async operations while the store restarts (`asyncio.wait_for` around a call waiting for
    the server) left its topology lock held for good on Python 3.11, and the process hung with
    an idle store (tests/e2e/test_recovery.py).
    """
    return AsyncMongoClient(
        settings.mongodb_url,
        appname=app_name,
        tz_aware=True,
        timeoutMS=int(settings.mongodb_timeout_seconds * 1000),
        serverSelectionTimeoutMS=5000,
        maxIdleTimeMS=int(settings.mongodb_max_idle_seconds * 1000),
        event_listeners=[StoreCommandMetrics(registry)],
    )


def mongo_check(client: MongoClient, timeout_seconds: float = 2.0) -> ReadinessCheck:
    async def ping() -> object:
        # The driver's own deadline: the readiness probe never cancels the call.
        with pymongo.timeout(timeout_seconds):
            return await client.admin.command("ping")

    return ping


def kafka_check(broker: KafkaBroker) -> ReadinessCheck:
    async def ping() -> object:
        if not await broker.ping(timeout=2.0):
            raise ConnectionError("Kafka broker did not answer")
        return True

    return ping


def asyncapi_document(broker: KafkaBroker, title: str, description: str) -> dict[str, Any]:
    specification = AsyncAPI(broker, title=title, version="0.1.0", description=description)
    document: dict[str, Any] = specification.to_specification().to_jsonable()
    return document


def install_asyncapi(app: FastAPI, broker: KafkaBroker, title: str, description: str) -> None:
    """Serve the topics, keys and payloads this service uses at /asyncapi and /asyncapi.json."""

    @app.get(
        "/asyncapi.json",
        tags=["operations"],
        summary="AsyncAPI document of this service",
        openapi_extra=PUBLIC,
    )
    async def asyncapi_json() -> JSONResponse:
        return JSONResponse(asyncapi_document(broker, title, description))

    @app.get("/asyncapi", include_in_schema=False, openapi_extra=PUBLIC)
    async def asyncapi_page() -> HTMLResponse:
        specification = AsyncAPI(broker, title=title, version="0.1.0", description=description)
        return HTMLResponse(get_asyncapi_html(specification.to_specification()))


# How long an idle keep-alive connection stays open. Uvicorn's default (5 s) equals the idle
# expiry of httpx's pool (and is below most load balancers' 60 s): a client reusing a connection
# just as the server closed it got a ReadError, and the bench lost a journey to that race under
# load. The server must keep connections longer than its clients and proxies do.
KEEP_ALIVE_SECONDS = 75


def uvicorn_options(settings: ServiceSettings) -> dict[str, Any]:
    return {
        "host": settings.http_host,
        "port": settings.http_port,
        # Logging is already JSON: uvicorn keeps its hands off it.
        "log_config": None,
        # Named, not "auto": a missing one fails the start instead of silently costing CPU.
        "loop": "uvloop",
        "http": "httptools",
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }


# Measured over a `make bench` run with a 150/s burst (gc.callbacks in every service, wall
# clock on the loaded machine): declaration ran 36 full collections of 52 ms each (p50; 91 ms
# at most), every one a stop of its one event loop, each walking again the ~106,000 objects
# that its imports and app had built before serving (and that live as long as the process); and
# 4,552 young collections, one per 700 container allocations, which promoted whatever the
# requests in flight held at that moment. With those objects frozen out of the collector and a
# young generation of 10,000, declaration spent 104 ms in the collector instead of 3.9 s, and
# the four services 1.7 s instead of 9.2 s. Cycles are still collected, only later.
YOUNG_GENERATION_THRESHOLD = 10_000


def settle_garbage_collector() -> None:
    """Exempt what the process has built so far from every collection, and collect young
    objects after 10,000 container allocations instead of 700."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run one service process."""
    import uvicorn

    # The app and its imports are built: from here on, only what requests allocate is scanned.
    settle_garbage_collector()
    uvicorn.run(app, **uvicorn_options(settings))
