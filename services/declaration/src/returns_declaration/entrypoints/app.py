"""The declaration process: HTTP API, pages, outbox relay and the timeline consumer, in one
process. What it runs on is built in `returns_declaration.bootstrap`; this module only wires the
entrypoints to it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from returns_contracts import (
    LabelGenerated,
    LabelRejected,
    LabelRequested,
    NotificationSent,
)
from returns_contracts.service_kit.access import mount_public
from returns_contracts.service_kit.app import (
    install_asyncapi,
    kafka_check,
    mongo_check,
    subscribe_service,
)
from returns_contracts.service_kit.http import install_operations
from returns_contracts.service_kit.kafka import ConsumerMetrics, Routes
from returns_contracts.service_kit.logging import configure_logging
from returns_declaration.bootstrap import Container, connect
from returns_declaration.config import DeclarationSettings
from returns_declaration.entrypoints.demo import (
    DEMO_BACK_OFFICE_USER,
    DEMO_CUSTOMER_EMAIL,
    DEMO_MERCHANT_ID,
)
from returns_declaration.entrypoints.deps import Deps
from returns_declaration.entrypoints.http import (
    back_office_router,
    install_error_handlers,
    portal_router,
)
from returns_declaration.entrypoints.web import LandingLinks, install_pages
from returns_declaration.entrypoints.web.forms import HERE

DESCRIPTION = """Merchants and their return reasons, orders, the customer's declaration in four
steps (portal) and the return record (back-office).

**Authentication.** Back-office calls send `Authorization: Bearer <token>`: the operator token
(`ADMIN_API_TOKEN`) creates merchants and issues their API keys; a merchant's API key reaches
that merchant's data only (anything else answers 404). Portal calls send the session token
given by `POST /v1/portal/{merchant_id}/sessions`.

**Errors** always have one shape: `{"error": {"code", "message", "fields": [{"field", "code",
"message"}]}}`; messages a customer reads are in the merchant's language.
"""


def install_routes(app: FastAPI, container: Container) -> None:
    """The JSON API, the pages and their static files, on the container's use cases (the unit
    tests call this with a container built on fakes)."""
    deps = Deps(container)
    install_error_handlers(app)
    app.include_router(back_office_router(deps))
    app.include_router(portal_router(deps))
    links = LandingLinks(
        demo_merchant_id=DEMO_MERCHANT_ID,
        demo_order="DEMO-1001",
        demo_email=DEMO_CUSTOMER_EMAIL,
        demo_user=DEMO_BACK_OFFICE_USER,
        mailpit_url=container.settings.mailpit_url,
    )
    install_pages(app, deps, links, "/docs")
    mount_public(app, "/static", StaticFiles(directory=HERE / "static"), "static")


def create_app(settings: DeclarationSettings | None = None) -> FastAPI:
    settings = settings or DeclarationSettings()
    configure_logging(settings.service_name, settings.log_level)
    runtime = connect(settings)
    timeline = runtime.container.timeline
    subscribe_service(
        runtime.broker,
        settings,
        settings.service_name,
        Routes()
        .on(LabelRequested, timeline.record_label_requested)
        .on(LabelGenerated, timeline.record_label_generated)
        .on(LabelRejected, timeline.record_label_rejected)
        .on(NotificationSent, timeline.record_notification_sent),
        "Keeps each return record's timeline (R14): label requests (from the CLI "
        "too), labels and e-mails.",
        ConsumerMetrics(runtime.registry),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="Returns - declaration",
        version="0.2.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_asyncapi(
        app,
        runtime.broker,
        "Returns - declaration",
        "Publishes return and merchant events and label commands; keeps the timeline.",
    )
    install_operations(
        app,
        checks={"mongodb": mongo_check(runtime.mongo), "kafka": kafka_check(runtime.broker)},
        registry=runtime.registry,
        timeout_seconds=settings.readiness_timeout_seconds,
    )
    install_routes(app, runtime.container)
    return app
