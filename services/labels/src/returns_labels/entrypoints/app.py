"""The labels process: one Kafka consumer, the waiting-work sweep, and the HTTP API."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from uuid import UUID, uuid5

from fastapi import FastAPI
from pydantic import ValidationError

from returns_contracts import (
    LabelGenerated,
    LabelRejected,
    LabelRequested,
    MerchantUpdated,
    ReturnSubmitted,
)
from returns_contracts.service_kit.clock import utc_now
from returns_contracts.service_kit.kafka import Routes
from returns_contracts.service_kit.lifecycle import every
from returns_contracts.service_kit.process import ServiceProcess
from returns_contracts.service_kit.publisher import KafkaPublisher
from returns_labels.adapters.local_carrier import LocalCarrier
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


def create_app(settings: LabelsSettings | None = None) -> FastAPI:
    settings = settings or LabelsSettings()
    process = ServiceProcess.open(
        settings, settings.service_name, publishes=[LabelGenerated, LabelRejected]
    )
    # fpdf2 subsets the label font with fontTools, which logs a dozen INFO lines per label.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    database = process.mongo[settings.mongodb_database]
    returns = MongoReturnStore(database)
    bucket = LabelBucket(settings.minio_client(), settings.s3_bucket, settings.s3_region)
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
        publisher=KafkaPublisher(process.broker, settings.topics, process.registry),
        links=links,
        request_wait=timedelta(seconds=settings.label_request_wait_seconds),
    )
    process.subscribe(
        Routes()
        .on(MerchantUpdated, service.record_merchant)
        .on(ReturnSubmitted, service.record_submitted)
        .on(LabelRequested, service.on_label_requested)
        .on_unparseable(settings.topics.label_requested, _rejecting_malformed(service)),
        description="Keeps its copy of returns and merchants; makes a classic return's label at "
        "once (R10) and a defective one's on LabelRequested (R11).",
    )
    app = process.app(
        title="Returns - labels",
        description="Shipping labels of returns: made at once for a classic return, on request "
        "for a defective one, stored in S3 and downloaded through signed links.",
        asyncapi="Consumes ReturnSubmitted, MerchantUpdated and LabelRequested; publishes "
        "LabelGenerated and LabelRejected.",
        prepare=[returns.create_indexes, waiting.create_indexes, bucket.ensure_exists],
        loops={
            "labels-sweep": every(
                settings.waiting_sweep_seconds, service.sweep, "sweep of waiting label work"
            )
        },
        checks={"s3": bucket.check},
    )
    app.include_router(
        labels_router(service, links, utc_now, internal_token=settings.internal_api_token)
    )
    return app
