"""The labels process: one Kafka consumer, the waiting-work sweep, and the HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid5

from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from returns_contracts import (
    LabelGenerated,
    LabelRejected,
    LabelRequested,
    MerchantUpdated,
    ReturnSubmitted,
)
from returns_contracts.service_kit.app import (
    install_asyncapi,
    kafka_check,
    mongo_check,
    new_broker,
    new_mongo_client,
)
from returns_contracts.service_kit.http import install_operations
from returns_contracts.service_kit.kafka import (
    Routes,
    declare_publications,
    ensure_topics,
    subscribe,
)
from returns_contracts.service_kit.logging import configure_logging
from returns_contracts.service_kit.s3 import new_minio_client
from returns_labels.adapters.local_carrier import LocalCarrier
from returns_labels.adapters.publisher import KafkaPublisher
from returns_labels.adapters.repository import (
    MongoMerchantStore,
    MongoReturnStore,
    MongoWaitingStore,
)
from returns_labels.adapters.s3 import LabelBucket
from returns_labels.config import LabelsSettings
from returns_labels.entrypoints.http import labels_router
from returns_labels.service.links import LabelLinks
from returns_labels.service.use_cases import LabelsService

logger = logging.getLogger(__name__)

_MALFORMED_NAMESPACE = UUID("5d0c8a4e-93b1-4c2f-8f0e-7b6a1e2d3c4b")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def malformed_label_request(
    body: bytes, error: Exception
) -> tuple[str, str, UUID, str, str] | None:
    """(merchant_id, return_id, event_id, correlation_id, problem) of a LabelRequested that does
    not parse (`error`) but says whose and which return it is about; None when it cannot be
    attributed (then it is dead-lettered like any unreadable message)."""
    problem = _explain(error)
    try:
        document = json.loads(body)
        merchant_id = document["merchant_id"]
        return_id = document["payload"]["return_id"]
    except (ValueError, KeyError, TypeError):
        return None
    if not (isinstance(merchant_id, str) and merchant_id.strip()):
        return None
    if not (isinstance(return_id, str) and return_id.strip()):
        return None
    try:
        event_id = UUID(str(document.get("event_id")))
    except ValueError:
        event_id = uuid5(_MALFORMED_NAMESPACE, body.decode(errors="replace"))
    correlation_id = document.get("correlation_id")
    if not (isinstance(correlation_id, str) and correlation_id.strip()):
        correlation_id = event_id.hex
    first_line = problem.strip().splitlines()[0] if problem.strip() else "invalid"
    return (
        merchant_id,
        return_id,
        event_id,
        correlation_id,
        f"Malformed label request: {first_line}",
    )


def _explain(error: Exception) -> str:
    """One line a person can act on: which fields are wrong and why."""
    cause = error.__cause__
    if isinstance(cause, ValidationError):
        return "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in cause.errors()
        )
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _rejecting_malformed(
    service: LabelsService,
) -> Callable[[bytes, Exception], Awaitable[bool]]:
    """Answer a label request that does not parse with a LabelRejected the sender can read."""

    async def reject(body: bytes, error: Exception) -> bool:
        malformed = malformed_label_request(body, error)
        if malformed is None:
            return False
        merchant_id, return_id, event_id, correlation_id, detail = malformed
        logger.warning("malformed label request rejected", extra={"detail": detail})
        await service.reject_malformed(
            merchant_id=merchant_id,
            return_id=return_id,
            cause=event_id,
            correlation_id=correlation_id,
            detail=detail,
        )
        return True

    return reject


async def _sweep_forever(service: LabelsService, every_seconds: float) -> None:
    while True:
        try:
            await service.sweep()
        except Exception:
            logger.exception("sweep of waiting label work failed")
        await asyncio.sleep(every_seconds)


def create_app(settings: LabelsSettings | None = None) -> FastAPI:
    settings = settings or LabelsSettings()
    configure_logging(settings.service_name, settings.log_level)
    # fpdf2 subsets the label font with fontTools, which logs a dozen INFO lines per label.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    registry = CollectorRegistry()
    broker = new_broker(settings, settings.service_name)
    declare_publications(broker, settings.topics, [LabelGenerated, LabelRejected])
    mongo = new_mongo_client(settings)
    database = mongo[settings.mongodb_database]
    returns = MongoReturnStore(database)
    bucket = LabelBucket(
        new_minio_client(
            endpoint=settings.s3_endpoint,
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key.get_secret_value(),
            region=settings.s3_region,
            connect_timeout=settings.s3_connect_timeout_seconds,
            read_timeout=settings.s3_read_timeout_seconds,
        ),
        settings.s3_bucket,
        settings.s3_region,
    )
    links = LabelLinks(
        base_url=settings.labels_base_url,
        secret=settings.label_link_secret.get_secret_value(),
        lifetime=timedelta(days=settings.label_link_lifetime_days),
    )
    waiting = MongoWaitingStore(database)
    service = LabelsService(
        returns=returns,
        merchants=MongoMerchantStore(database),
        waiting=waiting,
        carrier=LocalCarrier(settings.label_font_path),
        files=bucket,
        publisher=KafkaPublisher(broker, settings.topics),
        links=links,
        request_wait=timedelta(seconds=settings.label_request_wait_seconds),
    )
    subscribe(
        broker,
        consumer=settings.service_name,
        topics=settings.topics,
        retry=settings.consumer_retry(),
        routes=Routes()
        .on(MerchantUpdated, service.record_merchant)
        .on(ReturnSubmitted, service.record_submitted)
        .on(LabelRequested, service.on_label_requested)
        .on_unparseable(settings.topics.label_requested, _rejecting_malformed(service)),
        description="Keeps its copy of returns and merchants; makes a classic return's label at "
        "once (R10) and a defective one's on LabelRequested (R11).",
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(
            settings.kafka_bootstrap_servers,
            settings.topics,
            settings.kafka_replication_factor,
            settings.kafka_min_insync_replicas,
        )
        await returns.create_indexes()
        await waiting.create_indexes()
        await bucket.ensure_exists()
        await broker.start()
        sweeper = asyncio.create_task(_sweep_forever(service, settings.waiting_sweep_seconds))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await broker.stop()
            await mongo.close()

    app = FastAPI(
        title="Returns - labels",
        version="0.1.0",
        description="Shipping labels of returns: made at once for a classic return, on request "
        "for a defective one, stored in S3 and downloaded through signed links.",
        lifespan=lifespan,
    )
    install_asyncapi(
        app,
        broker,
        "Returns - labels",
        "Consumes ReturnSubmitted, MerchantUpdated and LabelRequested; publishes LabelGenerated "
        "and LabelRejected.",
    )
    install_operations(
        app,
        checks={"mongodb": mongo_check(mongo), "kafka": kafka_check(broker), "s3": bucket.check},
        registry=registry,
        timeout_seconds=settings.readiness_timeout_seconds,
    )
    app.include_router(
        labels_router(service, links, _utc_now, internal_token=settings.internal_api_token)
    )
    return app
