"""The labels process: the ReturnSubmitted consumer and the label status API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from returns_contracts import ReturnSubmitted
from returns_contracts.service_kit.app import (
    install_asyncapi,
    kafka_check,
    mongo_check,
    new_broker,
    new_mongo_client,
)
from returns_contracts.service_kit.http import install_operations
from returns_contracts.service_kit.kafka import Retry, Routes, ensure_topics, subscribe
from returns_contracts.service_kit.logging import configure_logging
from returns_labels.adapters.repository import MongoReturnStore
from returns_labels.config import LabelsSettings
from returns_labels.entrypoints.http import labels_router
from returns_labels.service.use_cases import LabelsService


def create_app(settings: LabelsSettings | None = None) -> FastAPI:
    settings = settings or LabelsSettings()
    configure_logging(settings.service_name, settings.log_level)
    registry = CollectorRegistry()
    broker = new_broker(settings, settings.service_name)
    # LabelGenerated and LabelRejected are declared with the label generation that publishes them.
    mongo = new_mongo_client(settings)
    store = MongoReturnStore(mongo[settings.mongodb_database])
    service = LabelsService(store)

    subscribe(
        broker,
        consumer=settings.service_name,
        topics=settings.topics,
        retry=Retry(settings.consumer_max_attempts, settings.consumer_retry_base_seconds),
        routes=Routes().on(ReturnSubmitted, service.record_submitted),
        description="Tracks every submitted return: label pending (classic) or awaiting the "
        "merchant (defective).",
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(settings.kafka_bootstrap_servers, settings.topics)
        await store.create_indexes()
        await broker.start()
        try:
            yield
        finally:
            await broker.stop()
            await mongo.close()

    app = FastAPI(
        title="Returns - labels",
        version="0.1.0",
        description="A projection of returns and where their shipping label stands.",
        lifespan=lifespan,
    )
    install_asyncapi(app, broker, "Returns - labels", "Consumes ReturnSubmitted.")
    install_operations(
        app,
        checks={"mongodb": mongo_check(mongo), "kafka": kafka_check(broker)},
        registry=registry,
        timeout_seconds=settings.readiness_timeout_seconds,
    )
    app.include_router(labels_router(service))
    return app
