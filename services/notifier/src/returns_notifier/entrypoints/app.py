"""The notifier process: two Kafka consumers and the operations endpoints, nothing else."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from returns_contracts import LabelGenerated, MerchantUpdated, NotificationSent, ReturnSubmitted
from returns_contracts.service_kit.kafka import Routes
from returns_contracts.service_kit.process import ServiceProcess
from returns_contracts.service_kit.publisher import KafkaPublisher
from returns_notifier.adapters.http_clients import HttpLabelFiles, MediaPhotoDirectory
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
    process = ServiceProcess.open(settings, settings.service_name, publishes=[NotificationSent])
    database = process.mongo[settings.mongodb_database]
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
        publisher=KafkaPublisher(process.broker, settings.topics),
        mail_from=settings.mail_from,
        message_id_domain=settings.message_id_domain,
        send_lease=timedelta(seconds=settings.send_lease_seconds),
        owner=settings.send_lease_owner,
    )

    process.subscribe(
        Routes()
        .on(MerchantUpdated, notifier.record_merchant)
        .on(ReturnSubmitted, notifier.on_return_submitted)
        .on(LabelGenerated, notifier.on_label_generated),
        description="Keeps its copy of each merchant (newest revision wins); e-mails customer "
        "service about every defective return and acknowledges it to the customer (R9), "
        "confirms a classic return (R10), and sends each label to the customer with the PDF "
        "attached (R10, R11). Each e-mail once per (event, template).",
    )
    return process.app(
        title="Returns - notifier",
        description="E-mails about returns, each sent once.",
        asyncapi="Consumes merchant and return events, sends e-mails, publishes NotificationSent.",
        prepare=[sent_emails.create_indexes],
        close=[smtp.close, http.aclose],
        checks={"smtp": smtp.check},
    )
