"""The declaration process: HTTP API, outbox relay and the timeline consumer, in one process."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from returns_contracts import (
    LabelGenerated,
    LabelRejected,
    LabelRequested,
    MerchantUpdated,
    NotificationSent,
    ReturnSubmitted,
)
from returns_contracts.service_kit.access import mount_public
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
from returns_declaration.adapters.media import MediaPhotoCatalog, MediaPhotoUploader
from returns_declaration.adapters.outbox import OutboxRelay
from returns_declaration.adapters.rate_limits import MongoRateLimiter
from returns_declaration.adapters.repository import OUTBOX_COLLECTIONS, DeclarationRepository
from returns_declaration.adapters.users import MongoUserStore
from returns_declaration.config import DeclarationSettings
from returns_declaration.entrypoints.demo import (
    DEMO_BACK_OFFICE_USER,
    DEMO_CUSTOMER_EMAIL,
    DEMO_MERCHANT_ID,
)
from returns_declaration.entrypoints.http import (
    back_office_router,
    install_error_handlers,
    portal_router,
)
from returns_declaration.entrypoints.pages import (
    HERE,
    LandingLinks,
    Pages,
    back_office_pages,
    landing_page,
    portal_pages,
)
from returns_declaration.service.use_cases import DeclarationService, PortalLimits
from returns_declaration.service.users import MerchantUsers

DESCRIPTION = """Merchants and their return reasons, orders, the customer's declaration in four
steps (portal) and the return record (back-office).

**Authentication.** Back-office calls send `Authorization: Bearer <token>`: the operator token
(`ADMIN_API_TOKEN`) creates merchants and issues their API keys; a merchant's API key reaches
that merchant's data only (anything else answers 404). Portal calls send the session token
given by `POST /v1/portal/{merchant_id}/sessions`.

**Errors** always have one shape: `{"error": {"code", "message", "fields": [{"field", "code",
"message"}]}}`; messages a customer reads are in the merchant's language.
"""


def create_app(settings: DeclarationSettings | None = None) -> FastAPI:
    settings = settings or DeclarationSettings()
    configure_logging(settings.service_name, settings.log_level)
    registry = CollectorRegistry()
    broker = new_broker(settings, settings.service_name)
    declare_publications(
        broker, settings.topics, [ReturnSubmitted, MerchantUpdated, LabelRequested]
    )
    mongo = new_mongo_client(settings)
    database = mongo[settings.mongodb_database]
    write_lock = asyncio.Lock()
    repository = DeclarationRepository(database, write_lock)
    relay = OutboxRelay(
        database,
        OUTBOX_COLLECTIONS,
        lambda: broker,
        settings.topics,
        registry,
        poll_seconds=settings.outbox_poll_seconds,
        write_lock=write_lock,
    )
    limiter = MongoRateLimiter(database)
    media_http = httpx.AsyncClient(
        base_url=settings.media_base_url, timeout=settings.media_timeout_seconds
    )
    service = DeclarationService(
        repository,
        MediaPhotoCatalog(media_http, settings.internal_api_token),
        limiter,
        relay.wake,
        back_office_base_url=settings.back_office_base_url,
        portal_token_secret=settings.portal_token_secret,
        session_ttl=timedelta(minutes=settings.session_ttl_minutes),
        draft_ttl=timedelta(hours=settings.draft_ttl_hours),
        limits=PortalLimits(
            attempts_per_order=settings.portal_attempts_per_order,
            failures_per_client=settings.portal_failures_per_client,
            window_seconds=settings.portal_attempts_window_seconds,
        ),
    )
    users = MerchantUsers(MongoUserStore(database))
    pages = Pages(
        service,
        users,
        MediaPhotoUploader(media_http),
        settings.portal_token_secret,
        LandingLinks(
            demo_merchant_id=DEMO_MERCHANT_ID,
            demo_order="DEMO-1001",
            demo_email=DEMO_CUSTOMER_EMAIL,
            demo_user=DEMO_BACK_OFFICE_USER,
            mailpit_url=settings.mailpit_url,
        ),
        trust_forwarded_for=settings.trust_forwarded_for,
    )
    subscribe(
        broker,
        consumer=settings.service_name,
        topics=settings.topics,
        retry=settings.consumer_retry(),
        routes=Routes()
        .on(LabelRequested, service.record_label_requested)
        .on(LabelGenerated, service.record_label_generated)
        .on(LabelRejected, service.record_label_rejected)
        .on(NotificationSent, service.record_notification_sent),
        description="Keeps each return record's timeline (R14): label requests (from the CLI "
        "too), labels and e-mails.",
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(
            settings.kafka_bootstrap_servers,
            settings.topics,
            settings.kafka_replication_factor,
            settings.kafka_min_insync_replicas,
        )
        await repository.create_indexes()
        await limiter.create_indexes()
        await relay.mark_unmarked_pending()
        await broker.start()
        if settings.outbox_relay_enabled:
            relay.start()
        try:
            yield
        finally:
            await relay.stop()
            await broker.stop()
            await media_http.aclose()
            await mongo.close()

    app = FastAPI(
        title="Returns - declaration",
        version="0.2.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_asyncapi(
        app,
        broker,
        "Returns - declaration",
        "Publishes return and merchant events and label commands; keeps the timeline.",
    )
    install_operations(
        app,
        checks={"mongodb": mongo_check(mongo), "kafka": kafka_check(broker)},
        registry=registry,
        timeout_seconds=settings.readiness_timeout_seconds,
    )
    install_error_handlers(app)
    app.include_router(back_office_router(service, settings.admin_api_token, users))
    app.include_router(portal_router(service, settings.trust_forwarded_for))
    app.include_router(landing_page(pages, "/docs"))
    app.include_router(portal_pages(pages))
    app.include_router(back_office_pages(pages))
    mount_public(app, "/static", StaticFiles(directory=HERE / "static"), "static")
    return app
