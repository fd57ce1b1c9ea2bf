"""One service process around its Kafka broker and MongoDB client: what media, notifier and
labels assemble alike (logs, clients, consumers, lifespan, operations endpoints, AsyncAPI).

    process = ServiceProcess.open(settings, "labels", publishes=[LabelGenerated])
    process.subscribe(Routes().on(...), description="...")
    app = process.app(title=..., description=..., asyncapi=..., prepare=[...], loops={...})

What differs between services (adapters, use cases, routes) stays in each `entrypoints/app.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from returns_contracts import Message
from returns_contracts.service_kit.app import (
    MongoClient,
    install_asyncapi,
    kafka_check,
    mongo_check,
    new_broker,
    new_mongo_client,
    prepare_topics,
    store_app_name,
    subscribe_service,
)
from returns_contracts.service_kit.http import ReadinessCheck, install_operations
from returns_contracts.service_kit.kafka import ConsumerMetrics, Routes, declare_publications
from returns_contracts.service_kit.lifecycle import Closer, Loop, Step, running, side_by_side
from returns_contracts.service_kit.logging import configure_logging
from returns_contracts.service_kit.settings import ServiceSettings


@dataclass(frozen=True)
class ServiceProcess:
    settings: ServiceSettings
    name: str
    broker: KafkaBroker
    mongo: MongoClient
    # What /metrics serves: the HTTP figures, the consumers' (waits, dead letters) and those the
    # service's adapters register.
    registry: CollectorRegistry
    consumer_metrics: ConsumerMetrics

    @classmethod
    def open(
        cls, settings: ServiceSettings, name: str, publishes: Iterable[type[Message]] = ()
    ) -> ServiceProcess:
        """JSON logs, then the process's one broker (documenting what it publishes) and one
        MongoDB client; nothing connects before the app starts."""
        configure_logging(name, settings.log_level)
        broker = new_broker(settings, name)
        declare_publications(broker, settings.topics, publishes)
        registry = CollectorRegistry()
        mongo = new_mongo_client(settings, registry, store_app_name(name, settings))
        return cls(settings, name, broker, mongo, registry, ConsumerMetrics(registry))

    @property
    def serves_api(self) -> bool:
        """Whether this process serves the service's API (and runs its loops): not in the
        "consumers" role (`ServiceSettings.process_role`)."""
        return self.settings.process_role != "consumers"

    @property
    def consumes(self) -> bool:
        """Whether this process runs the service's consumers: not in the "api" role."""
        return self.settings.process_role != "api"

    def loops_to_run(self, loops: Mapping[str, Loop] | None) -> Mapping[str, Loop]:
        """The service's loops (outbox relay, clean-ups) run beside its API: none in a
        consumers-only process."""
        return (loops or {}) if self.serves_api else {}

    def subscribe(self, routes: Routes, *, description: str) -> None:
        """Consume the routes' topics reliably, in this service's consumer groups (unless this
        process only serves the API: then its AsyncAPI document leaves them out too)."""
        if not self.consumes:
            return
        subscribe_service(
            self.broker, self.settings, self.name, routes, description, self.consumer_metrics
        )

    def app(
        self,
        *,
        title: str,
        description: str,
        asyncapi: str,
        prepare: Sequence[Step] = (),
        loops: Mapping[str, Loop] | None = None,
        close: Sequence[Closer] = (),
        checks: Mapping[str, ReadinessCheck] | None = None,
        version: str = "0.1.0",
        registry: CollectorRegistry | None = None,
    ) -> FastAPI:
        """The FastAPI app: on start the topics beside `prepare` (in order), then the broker and
        `loops`; on stop the reverse, `close` and then MongoDB. /healthz, /readyz (MongoDB, Kafka
        and `checks`), /metrics (of `registry`, where the service's own collectors are) and the
        AsyncAPI document are served. A consumers-only process runs no loops; the service adds
        its API routes only where `serves_api`."""
        settings = self.settings
        loops = self.loops_to_run(loops)

        async def topics() -> None:
            await prepare_topics(settings)

        async def prepare_all() -> None:
            # The topics (Kafka) beside the service's own steps (MongoDB, S3), kept in order.
            await side_by_side([topics], prepare)

        steps: list[Step] = [prepare_all]

        def lifespan(app: FastAPI) -> AbstractAsyncContextManager[None]:
            return running(
                self.broker, prepare=steps, loops=loops, close=[*close, self.mongo.close]
            )

        app = FastAPI(title=title, version=version, description=description, lifespan=lifespan)
        install_asyncapi(app, self.broker, title, asyncapi)
        install_operations(
            app,
            checks={
                "mongodb": mongo_check(self.mongo),
                "kafka": kafka_check(self.broker),
                **(checks or {}),
            },
            registry=self.registry if registry is None else registry,
            timeout_seconds=settings.readiness_timeout_seconds,
        )
        return app
