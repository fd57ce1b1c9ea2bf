"""The composition root: the one place that builds the declaration service's use cases on their
adapters, from the settings.

`build_container` takes the adapters (the ports of `service/`), so the API and the pages run on
in-memory fakes in unit tests; `connect` makes the real ones (Kafka, MongoDB, media over HTTP)
and knows the order in which they start and stop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
from faststream.kafka import KafkaBroker
from prometheus_client import CollectorRegistry

from returns_contracts import (
    CustomerAnswered,
    InformationRequested,
    LabelRequested,
    MerchantUpdated,
    ReturnSubmitted,
)
from returns_contracts.service_kit.app import (
    MongoClient,
    new_broker,
    new_mongo_client,
    prepare_topics,
)
from returns_contracts.service_kit.clock import utc_now_millis
from returns_contracts.service_kit.kafka import declare_publications
from returns_contracts.service_kit.lifecycle import side_by_side
from returns_declaration.adapters.media import MediaPhotoCatalog, MediaPhotoUploader
from returns_declaration.adapters.outbox import OutboxRelay
from returns_declaration.adapters.rate_limits import MongoRateLimiter
from returns_declaration.adapters.repository import OUTBOX_COLLECTIONS, DeclarationRepository
from returns_declaration.adapters.users import MongoUserStore
from returns_declaration.config import DeclarationSettings
from returns_declaration.service.back_office import BackOffice
from returns_declaration.service.customer_links import CustomerLinks
from returns_declaration.service.follow_up import FollowUp
from returns_declaration.service.merchants import Merchants
from returns_declaration.service.portal import Portal, PortalLimits
from returns_declaration.service.ports import (
    DeclarationStore,
    PhotoCatalog,
    PhotoUploader,
    RateLimiter,
    UserStore,
)
from returns_declaration.service.reservations import ReservationReconciler
from returns_declaration.service.timeline import Timeline
from returns_declaration.service.uploads import DraftPhotos
from returns_declaration.service.use_cases import build_use_cases
from returns_declaration.service.users import MerchantUsers


@dataclass(frozen=True)
class Adapters:
    """What the use cases run on: the real adapters, or fakes in unit tests."""

    store: DeclarationStore
    photos: PhotoCatalog
    limiter: RateLimiter
    users: UserStore
    uploader: PhotoUploader
    # Called after a state change wrote events to the outbox (wakes the relay).
    on_events: Callable[[], None] = lambda: None
    # None: the service's own clock (UTC, milliseconds as MongoDB keeps them).
    clock: Callable[[], datetime] | None = None


@dataclass(frozen=True)
class Container:
    """The use cases, as the entrypoints (API, pages, consumers) reach them."""

    settings: DeclarationSettings
    merchants: Merchants
    portal: Portal
    back_office: BackOffice
    timeline: Timeline
    users: MerchantUsers
    photos: DraftPhotos
    clock: Callable[[], datetime]
    follow_up: FollowUp

    def now(self) -> datetime:
        """The one clock of the process (injected in tests), the same as the use cases'."""
        return self.clock()


def build_container(settings: DeclarationSettings, adapters: Adapters) -> Container:
    clock = adapters.clock or utc_now_millis
    use_cases = build_use_cases(
        adapters.store,
        adapters.photos,
        adapters.limiter,
        adapters.on_events,
        back_office_base_url=settings.back_office_base_url,
        portal_token_secret=settings.portal_token_secret,
        session_ttl=timedelta(minutes=settings.session_ttl_minutes),
        draft_ttl=timedelta(hours=settings.draft_ttl_hours),
        limits=PortalLimits(
            attempts_per_order=settings.portal_attempts_per_order,
            failures_per_client=settings.portal_failures_per_client,
            window_seconds=settings.portal_attempts_window_seconds,
        ),
        clock=clock,
    )
    links = CustomerLinks(
        settings.customer_link_secret,
        settings.portal_base_url,
        status_ttl=timedelta(days=settings.status_link_ttl_days),
        answer_ttl=timedelta(days=settings.answer_link_ttl_days),
    )
    use_cases.portal.status_link = lambda declared: (
        links.status(declared.merchant_id, declared.id, clock()).url
    )
    return Container(
        settings,
        use_cases.merchants,
        use_cases.portal,
        use_cases.back_office,
        use_cases.timeline,
        MerchantUsers(adapters.users),
        DraftPhotos(use_cases.portal, adapters.uploader),
        clock,
        follow_up=FollowUp(
            adapters.store,
            adapters.photos,
            adapters.uploader,
            links,
            adapters.on_events,
            back_office_base_url=settings.back_office_base_url,
            portal_token_secret=settings.portal_token_secret,
            clock=clock,
        ),
    )


@dataclass
class Runtime:
    """The real adapters of one process, its clients, and their start and stop."""

    settings: DeclarationSettings
    container: Container
    broker: KafkaBroker
    mongo: MongoClient
    repository: DeclarationRepository
    limiter: MongoRateLimiter
    relay: OutboxRelay
    media_http: httpx.AsyncClient
    registry: CollectorRegistry
    reconciler: ReservationReconciler
    _reconciling: asyncio.Task[None] | None = field(default=None, init=False)

    async def start(self) -> None:
        settings = self.settings

        async def topics() -> None:
            await prepare_topics(settings)

        # Kafka's topics and the store's indexes and one-time migrations, side by side.
        await side_by_side(
            [topics],
            [
                self.repository.create_indexes,
                self.limiter.create_indexes,
                self.relay.mark_unmarked_pending,
            ],
        )
        await self.broker.start()
        if self.settings.outbox_relay_enabled:
            self.relay.start()
        self._reconciling = asyncio.create_task(
            self.reconciler.run(self.settings.reservation_reconcile_seconds),
            name="reservations",
        )

    async def stop(self) -> None:
        if self._reconciling is not None:
            self._reconciling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconciling
        await self.relay.stop()
        await self.broker.stop()
        await self.media_http.aclose()
        await self.mongo.close()


def connect(settings: DeclarationSettings) -> Runtime:
    """The real adapters (clients only: nothing connects before `Runtime.start`)."""
    registry = CollectorRegistry()
    broker = new_broker(settings, settings.service_name)
    declare_publications(
        broker,
        settings.topics,
        [ReturnSubmitted, MerchantUpdated, LabelRequested, InformationRequested, CustomerAnswered],
    )
    mongo = new_mongo_client(settings)
    database = mongo[settings.mongodb_database]
    repository = DeclarationRepository(database, settings.merchant_cache_seconds)
    relay = OutboxRelay(
        database,
        OUTBOX_COLLECTIONS,
        lambda: broker,
        settings.topics,
        registry,
        poll_seconds=settings.outbox_poll_seconds,
        linger_seconds=settings.outbox_linger_seconds,
    )
    limiter = MongoRateLimiter(database)
    # One client for the process: the lookups and the uploads reuse its connections.
    media_http = httpx.AsyncClient(
        base_url=settings.media_base_url, timeout=settings.media_timeout_seconds
    )
    container = build_container(
        settings,
        Adapters(
            store=repository,
            photos=MediaPhotoCatalog(media_http, settings.internal_api_token),
            limiter=limiter,
            users=MongoUserStore(database),
            uploader=MediaPhotoUploader(media_http),
            on_events=relay.wake,
        ),
    )
    reconciler = ReservationReconciler(
        repository,
        grace=timedelta(seconds=settings.reservation_grace_seconds),
        batch_size=settings.reservation_reconcile_batch,
        clock=container.now,
    )
    return Runtime(
        settings,
        container,
        broker,
        mongo,
        repository,
        limiter,
        relay,
        media_http,
        registry,
        reconciler,
    )
