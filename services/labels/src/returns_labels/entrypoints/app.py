"""The labels process: one Kafka consumer, the waiting-work sweep, and the HTTP API. What it
runs on is built in `returns_labels.bootstrap`; this module only wires the entrypoints to it."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from uuid import UUID, uuid5

from fastapi import FastAPI
from pydantic import ValidationError

from returns_contracts import (
    LabelRequested,
    MerchantUpdated,
    ReturnSubmitted,
)
from returns_contracts.service_kit.kafka import Routes
from returns_contracts.service_kit.lifecycle import every
from returns_labels.bootstrap import Container, connect
from returns_labels.config import LabelsSettings
from returns_labels.entrypoints.deps import Deps
from returns_labels.entrypoints.http import labels_router
from returns_labels.service.making import LabelMaker

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
    maker: LabelMaker,
) -> Callable[[bytes, Exception], Awaitable[bool]]:
    """Answer a label request that does not parse with a LabelRejected the sender can read."""

    async def reject(body: bytes, error: Exception) -> bool:
        malformed = malformed_label_request(body, error)
        if malformed is None:
            return False
        merchant_id, return_id, event_id, correlation_id, detail = malformed
        logger.warning("malformed label request rejected", extra={"detail": detail})
        await maker.reject_malformed(
            merchant_id=merchant_id,
            return_id=return_id,
            cause=event_id,
            correlation_id=correlation_id,
            detail=detail,
        )
        return True

    return reject


def install_routes(app: FastAPI, container: Container) -> None:
    """The HTTP API on the container's use cases (the unit tests call this with a container
    built on fakes)."""
    app.include_router(labels_router(Deps(container)))


def create_app(settings: LabelsSettings | None = None) -> FastAPI:
    settings = settings or LabelsSettings()
    runtime = connect(settings)
    process = runtime.process
    labels = runtime.container.use_cases
    process.subscribe(
        Routes()
        .on(MerchantUpdated, labels.automatic.record_merchant)
        .on(ReturnSubmitted, labels.automatic.record_submitted)
        .on(LabelRequested, labels.requests.on_label_requested)
        .on_unparseable(settings.topics.label_requested, _rejecting_malformed(labels.maker)),
        description="Keeps its copy of returns and merchants; makes a classic return's label at "
        "once (R10) and a defective one's on LabelRequested (R11).",
    )
    app = process.app(
        title="Returns - labels",
        description="Shipping labels of returns: made at once for a classic return, on request "
        "for a defective one, stored in S3 and downloaded through signed links.",
        asyncapi="Consumes ReturnSubmitted, MerchantUpdated and LabelRequested; publishes "
        "LabelGenerated and LabelRejected.",
        prepare=[
            runtime.returns.create_indexes,
            runtime.waiting.create_indexes,
            runtime.bucket.ensure_exists,
        ],
        loops={
            "labels-sweep": every(
                settings.waiting_sweep_seconds, labels.requests.sweep, "sweep of waiting label work"
            )
        },
        checks={"s3": runtime.bucket.check},
    )
    install_routes(app, runtime.container)
    return app
