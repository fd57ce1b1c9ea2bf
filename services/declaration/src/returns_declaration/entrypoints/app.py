"""The declaration process: HTTP API, pages, outbox relay and the timeline consumer, in one
process, or the API and the consumer in two (`PROCESS_ROLE`: "api", "consumers"). What it runs
on is built in `returns_declaration.bootstrap`; this module only wires the entrypoints to it."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from returns_contracts import (
    LabelGenerated,
    LabelRejected,
    LabelRequested,
    NotificationSent,
)
from returns_contracts.service_kit.access import mount_public
from returns_contracts.service_kit.kafka import Routes
from returns_declaration.bootstrap import Container, connect
from returns_declaration.config import DeclarationSettings
from returns_declaration.entrypoints.demo import (
    DEMO_BACK_OFFICE_USER,
    DEMO_CUSTOMER_EMAIL,
    DEMO_MERCHANT_ID,
)
from returns_declaration.entrypoints.deps import Deps
from returns_declaration.entrypoints.follow_up_http import follow_up_router
from returns_declaration.entrypoints.http import (
    back_office_router,
    install_error_handlers,
    portal_router,
)
from returns_declaration.entrypoints.resolution_api import install_resolution_api
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
    app.include_router(follow_up_router(deps))
    app.include_router(portal_router(deps))
    install_resolution_api(app, deps)
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
    runtime = connect(settings)
    process = runtime.process
    timeline = runtime.container.timeline
    process.subscribe(
        Routes()
        .on(LabelRequested, timeline.record_label_requested)
        .on(LabelGenerated, timeline.record_label_generated)
        .on(LabelRejected, timeline.record_label_rejected)
        .on(NotificationSent, timeline.record_notification_sent),
        description="Keeps each return record's timeline (R14): label requests (from the CLI "
        "too), labels and e-mails.",
    )
    app = process.app(
        title="Returns - declaration",
        version="0.2.0",
        description=DESCRIPTION,
        asyncapi="Publishes return and merchant events and label commands; keeps the timeline.",
        prepare=runtime.prepare,
        loops=runtime.loops,
        close=[runtime.media_http.aclose],
        registry=runtime.registry,
    )
    if process.serves_api:
        install_routes(app, runtime.container)
    return app
