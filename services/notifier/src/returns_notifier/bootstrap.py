"""The composition root: the one place that builds the notifier's use cases on their adapters,
from the settings.

`build_container` takes the adapters (the ports of `service/`), so the consumer's use cases run
on in-memory fakes in unit tests; `connect` makes the real ones (MongoDB, SMTP, media and labels
over HTTP, Kafka's publisher) around the kit's `ServiceProcess`, which knows the order in which
they start and stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import httpx

from returns_contracts import NotificationSent
from returns_contracts.service_kit.clock import Clock, utc_now
from returns_contracts.service_kit.process import ServiceProcess
from returns_contracts.service_kit.publisher import EventPublisher, KafkaPublisher
from returns_notifier.adapters.http_clients import HttpLabelFiles, MediaPhotoDirectory
from returns_notifier.adapters.metrics import PrometheusDeliveryMetrics
from returns_notifier.adapters.rendering import JinjaRenderer
from returns_notifier.adapters.repository import (
    MongoMerchantStore,
    MongoReturnStore,
    MongoSentEmailStore,
)
from returns_notifier.adapters.smtp import SmtpSender
from returns_notifier.config import NotifierSettings
from returns_notifier.service.ports import (
    DeliveryMetrics,
    EmailRenderer,
    EmailSender,
    LabelFiles,
    MerchantStore,
    PhotoDirectory,
    ReturnStore,
    SentEmailStore,
)
from returns_notifier.service.use_cases import Notifier


@dataclass(frozen=True)
class Adapters:
    """What the use cases run on: the real adapters, or fakes in unit tests."""

    merchants: MerchantStore
    returns: ReturnStore
    sent_emails: SentEmailStore
    photos: PhotoDirectory
    labels: LabelFiles
    sender: EmailSender
    publisher: EventPublisher
    renderer: EmailRenderer | None = None
    # None: the service's own clock (UTC).
    clock: Clock | None = None
    # None: nothing counted (unit tests that do not look at the metrics).
    metrics: DeliveryMetrics | None = None


@dataclass(frozen=True)
class Container:
    """The use cases, as the entrypoints (the consumer) reach them."""

    settings: NotifierSettings
    notifier: Notifier


def build_container(settings: NotifierSettings, adapters: Adapters) -> Container:
    notifier = Notifier(
        merchants=adapters.merchants,
        returns=adapters.returns,
        sent_emails=adapters.sent_emails,
        photos=adapters.photos,
        labels=adapters.labels,
        sender=adapters.sender,
        renderer=adapters.renderer or JinjaRenderer(),
        publisher=adapters.publisher,
        mail_from=settings.mail_from,
        message_id_domain=settings.message_id_domain,
        send_lease=timedelta(seconds=settings.send_lease_seconds),
        owner=settings.send_lease_owner,
        clock=adapters.clock or utc_now,
        metrics=adapters.metrics,
    )
    return Container(settings, notifier)


@dataclass(frozen=True)
class Runtime:
    """The real adapters of one process and what its lifespan prepares, checks and closes."""

    process: ServiceProcess
    container: Container
    sent_emails: MongoSentEmailStore
    smtp: SmtpSender
    http: httpx.AsyncClient


def connect(settings: NotifierSettings) -> Runtime:
    """The real adapters (clients only: nothing connects before the app starts)."""
    process = ServiceProcess.open(settings, settings.service_name, publishes=[NotificationSent])
    database = process.mongo[settings.mongodb_database]
    sent_emails = MongoSentEmailStore(database)
    smtp = SmtpSender(
        host=settings.smtp_host,
        port=settings.smtp_port,
        username=settings.smtp_username,
        password=None
        if settings.smtp_password is None
        else settings.smtp_password.get_secret_value(),
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout,
        connections=settings.smtp_connections,
    )
    # One client for the process: the photo lookups and the label downloads reuse it.
    http = httpx.AsyncClient(timeout=settings.http_timeout_seconds, follow_redirects=False)
    container = build_container(
        settings,
        Adapters(
            merchants=MongoMerchantStore(database, settings.merchant_cache_seconds),
            returns=MongoReturnStore(database),
            sent_emails=sent_emails,
            photos=MediaPhotoDirectory(http, settings.media_base_url, settings.internal_api_token),
            labels=HttpLabelFiles(http, settings.labels_base_url),
            sender=smtp,
            publisher=KafkaPublisher(process.broker, settings.topics, process.registry),
            metrics=PrometheusDeliveryMetrics(process.registry),
        ),
    )
    return Runtime(process, container, sent_emails, smtp, http)
