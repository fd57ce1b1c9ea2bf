"""The notifier process: two Kafka consumers and the operations endpoints, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from returns_contracts import LabelGenerated, MerchantUpdated, NotificationSent, ReturnSubmitted
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
from returns_notifier.adapters.http_clients import HttpLabelFiles, MediaPhotoDirectory
from returns_notifier.adapters.publisher import KafkaPublisher
from returns_notifier.adapters.rendering import JinjaRenderer
from returns_notifier.adapters.repository import (
    MongoMerchantStore,
    MongoReturnStore,
    MongoSentEmailStore,
)
from returns_notifier.adapters.smtp import SmtpSender
from returns_notifier.config import NotifierSettings
from returns_notifier.service.use_cases import Notifier


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or NotifierSettings()
    configure_logging(settings.service_name, settings.log_level)
    registry = CollectorRegistry()
    broker = new_broker(settings, settings.service_name)
    declare_publications(broker, settings.topics, [NotificationSent])
    mongo = new_mongo_client(settings)
    database = mongo[settings.mongodb_database]
    merchants = MongoMerchantStore(database)
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
    )
    http = httpx.AsyncClient(timeout=settings.http_timeout_seconds, follow_redirects=False)
    notifier = Notifier(
        merchants=merchants,
        returns=MongoReturnStore(database),
        sent_emails=sent_emails,
        photos=MediaPhotoDirectory(http, settings.media_base_url, settings.internal_api_token),
        labels=HttpLabelFiles(http, settings.labels_base_url),
        sender=smtp,
        renderer=JinjaRenderer(),
        publisher=KafkaPublisher(broker, settings.topics),
        mail_from=settings.mail_from,
        message_id_domain=settings.message_id_domain,
    )

    subscribe(
        broker,
        consumer=settings.service_name,
        topics=settings.topics,
        retry=settings.consumer_retry(),
        routes=Routes()
        .on(MerchantUpdated, notifier.record_merchant)
        .on(ReturnSubmitted, notifier.on_return_submitted)
        .on(LabelGenerated, notifier.on_label_generated),
        description="Keeps its copy of each merchant (newest revision wins); e-mails customer "
        "service about every defective return and acknowledges it to the customer (R9), "
        "confirms a classic return (R10), and sends each label to the customer with the PDF "
        "attached (R10, R11). Each e-mail once per (event, template).",
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await ensure_topics(
            settings.kafka_bootstrap_servers,
            settings.topics,
            settings.kafka_replication_factor,
            settings.kafka_min_insync_replicas,
        )
        await sent_emails.create_indexes()
        await broker.start()
        try:
            yield
        finally:
            await broker.stop()
            await smtp.close()
            await http.aclose()
            await mongo.close()

    app = FastAPI(
        title="Returns - notifier",
        version="0.1.0",
        description="E-mails about returns, each sent once.",
        lifespan=lifespan,
    )
    install_asyncapi(
        app,
        broker,
        "Returns - notifier",
        "Consumes merchant and return events, sends e-mails, publishes NotificationSent.",
    )
    install_operations(
        app,
        checks={"mongodb": mongo_check(mongo), "kafka": kafka_check(broker), "smtp": smtp.check},
        registry=registry,
        timeout_seconds=settings.readiness_timeout_seconds,
    )
    return app
