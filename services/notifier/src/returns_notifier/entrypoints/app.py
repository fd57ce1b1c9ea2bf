"""The notifier process: two Kafka consumers and the operations endpoints, nothing else. What it
runs on is built in `returns_notifier.bootstrap`; this module only wires the entrypoints to it."""

from __future__ import annotations

from fastapi import FastAPI

from returns_contracts import (
    CustomerAnswered,
    InformationRequested,
    LabelGenerated,
    MerchantUpdated,
    ReturnResolved,
    ReturnSubmitted,
)
from returns_contracts.service_kit.kafka import Routes
from returns_notifier.bootstrap import connect
from returns_notifier.config import NotifierSettings
from returns_notifier.service.follow_up import FollowUpMails


def create_app(settings: NotifierSettings | None = None) -> FastAPI:
    settings = settings or NotifierSettings()
    runtime = connect(settings)
    process = runtime.process
    notifier = runtime.container.notifier

    follow_up = FollowUpMails(notifier)
    process.subscribe(
        Routes()
        .on(MerchantUpdated, notifier.record_merchant)
        .on(ReturnSubmitted, notifier.on_return_submitted)
        .on(LabelGenerated, notifier.on_label_generated)
        .on(ReturnResolved, notifier.on_return_resolved)
        .on(InformationRequested, follow_up.on_information_requested)
        .on(CustomerAnswered, follow_up.on_customer_answered),
        description="Keeps its copy of each merchant (newest revision wins); e-mails customer "
        "service about every defective return and acknowledges it to the customer (R9), "
        "confirms a classic return (R10), and sends each label to the customer with the PDF "
        "attached (R10, R11); e-mails the customer support's question with the link to answer "
        "it, and customer service the answer with its photos (issue 15). Each e-mail once per "
        "(event, template).",
    )
    return process.app(
        title="Returns - notifier",
        description="E-mails about returns, each sent once.",
        asyncapi="Consumes merchant and return events, sends e-mails, publishes NotificationSent.",
        prepare=[runtime.sent_emails.create_indexes],
        close=[runtime.smtp.close, runtime.http.aclose],
        checks={"smtp": runtime.smtp.check},
    )
