"""The composition root: the one place that builds the declaration service's use cases on their
adapters, from the settings.

`build_container` takes the adapters (the ports of `service/`), so the API and the pages run on
in-memory fakes in unit tests; `connect` makes the real ones (Kafka, MongoDB, media over HTTP)
around the kit's `ServiceProcess`, and says what its lifespan prepares, runs and closes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from prometheus_client import CollectorRegistry

from returns_contracts import (
    CustomerAnswered,
    InformationRequested,
    LabelRequested,
    MerchantUpdated,
    ReturnResolved,
    ReturnSubmitted,
)
from returns_contracts.service_kit.clock import utc_now_millis
from returns_contracts.service_kit.lifecycle import Loop, Step, every, started
from returns_contracts.service_kit.process import ServiceProcess
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
from returns_declaration.service.resolutions import Resolutions
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
    resolutions: Resolutions
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
        use_cases.resolutions,
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


@dataclass(frozen=True)
class Runtime:
    """The real adapters of one process, and what the kit's lifespan (`ServiceProcess.app`)
    prepares, runs beside the broker and closes."""

    settings: DeclarationSettings
    process: ServiceProcess
    container: Container
    repository: DeclarationRepository
    limiter: MongoRateLimiter
    relay: OutboxRelay
    media_http: httpx.AsyncClient
    registry: CollectorRegistry
    reconciler: ReservationReconciler

    @property
    def prepare(self) -> list[Step]:
        """The store's indexes and one-time migrations, in order (beside Kafka's topics)."""
        return [
            self.repository.create_indexes,
            self.limiter.create_indexes,
            self.relay.mark_unmarked_pending,
        ]

    @property
    def loops(self) -> dict[str, Loop]:
        """The outbox relay (unless disabled) and the reservation reconciler: started after the
        broker, stopped before it."""
        reconciling = every(
            self.settings.reservation_reconcile_seconds,
            self.reconciler.run_once,
            "reservation reconciler pass",
            again_at_once=self.reconciler.left_more,
        )
        relaying = {"outbox-relay": started(self.relay.start, self.relay.stop)}
        return {
            **(relaying if self.settings.outbox_relay_enabled else {}),
            "reservations": reconciling,
        }


def connect(settings: DeclarationSettings) -> Runtime:
    """The real adapters (clients only: nothing connects before the app starts)."""
    process = ServiceProcess.open(
        settings,
        settings.service_name,
        publishes=[
            ReturnSubmitted,
            MerchantUpdated,
            LabelRequested,
            ReturnResolved,
            InformationRequested,
            CustomerAnswered,
        ],
    )
    broker = process.broker
    # One registry for /metrics: the process's (HTTP, consumers) and the relay's figures.
    registry = process.registry
    database = process.mongo[settings.mongodb_database]
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
        process,
        container,
        repository,
        limiter,
        relay,
        media_http,
        registry,
        reconciler,
    )
