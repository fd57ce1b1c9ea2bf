"""The composition root: the one place that builds the labels service's use cases on their
adapters, from the settings.

`build_container` takes the adapters (the ports of `service/`), so the routes and the consumer
run on in-memory fakes in unit tests; `connect` makes the real ones (MongoDB, S3, the carrier,
Kafka's publisher) around the kit's `ServiceProcess`, which knows the order in which they start
and stop.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from returns_contracts import LabelGenerated, LabelRejected
from returns_contracts.service_kit.clock import Clock, utc_now
from returns_contracts.service_kit.process import ServiceProcess
from returns_contracts.service_kit.publisher import EventPublisher, KafkaPublisher
from returns_labels.adapters.local_carrier import LocalCarrier
from returns_labels.adapters.repository import (
    MongoMerchantStore,
    MongoReturnStore,
    MongoWaitingStore,
)
from returns_labels.adapters.s3 import LabelBucket
from returns_labels.config import LabelsSettings
from returns_labels.service.links import LabelLinks
from returns_labels.service.ports import (
    Carrier,
    LabelFiles,
    MerchantStore,
    ReturnStore,
    WaitingStore,
)
from returns_labels.service.use_cases import UseCases, build_use_cases


@dataclass(frozen=True)
class Adapters:
    """What the use cases run on: the real adapters, or fakes in unit tests."""

    returns: ReturnStore
    merchants: MerchantStore
    waiting: WaitingStore
    carrier: Carrier
    files: LabelFiles
    publisher: EventPublisher
    # None: the service's own clock (UTC).
    clock: Clock | None = None


@dataclass(frozen=True)
class Container:
    """The use cases, as the entrypoints (routes, consumer, sweep) reach them."""

    settings: LabelsSettings
    use_cases: UseCases
    links: LabelLinks
    clock: Clock

    def now(self) -> datetime:
        """The one clock of the process (injected in tests), the same as the use cases'."""
        return self.clock()


def build_container(settings: LabelsSettings, adapters: Adapters) -> Container:
    clock = adapters.clock or utc_now
    links = LabelLinks(
        base_url=settings.labels_base_url,
        secret=settings.label_link_secret.get_secret_value(),
        lifetime=timedelta(days=settings.label_link_lifetime_days),
    )
    use_cases = build_use_cases(
        returns=adapters.returns,
        merchants=adapters.merchants,
        waiting=adapters.waiting,
        carrier=adapters.carrier,
        files=adapters.files,
        publisher=adapters.publisher,
        links=links,
        request_wait=timedelta(seconds=settings.label_request_wait_seconds),
        clock=clock,
    )
    return Container(settings, use_cases, links, clock)


@dataclass(frozen=True)
class Runtime:
    """The real adapters of one process and what its lifespan prepares and checks."""

    process: ServiceProcess
    container: Container
    returns: MongoReturnStore
    waiting: MongoWaitingStore
    bucket: LabelBucket


def connect(settings: LabelsSettings) -> Runtime:
    """The real adapters (clients only: nothing connects before the app starts)."""
    process = ServiceProcess.open(
        settings, settings.service_name, publishes=[LabelGenerated, LabelRejected]
    )
    # fpdf2 subsets the label font with fontTools, which logs a dozen INFO lines per label.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    database = process.mongo[settings.mongodb_database]
    returns = MongoReturnStore(database)
    waiting = MongoWaitingStore(database)
    bucket = LabelBucket(settings.minio_client(), settings.s3_bucket, settings.s3_region)
    container = build_container(
        settings,
        Adapters(
            returns=returns,
            merchants=MongoMerchantStore(database, settings.merchant_cache_seconds),
            waiting=waiting,
            carrier=LocalCarrier(settings.label_font_path),
            files=bucket,
            publisher=KafkaPublisher(process.broker, settings.topics, process.registry),
        ),
    )
    return Runtime(process, container, returns, waiting, bucket)
