"""Store round trips of one classic return's label, counted on the wire (issue 11).

The labels service on its real adapters (FerretDB, versitygw, Kafka, the local carrier) takes a
classic ReturnSubmitted; a PyMongo command listener counts what it sends to the store. The
budget is today's count: a change that adds a round trip to every label fails here and has to
say why. It was 6 (insert, read back, merchant, label file, commit, waiting requests); the
return just inserted is not read back, a classic return's waiting requests are the sweep's, and
the merchant, read by the MerchantUpdated before, is kept a second by the process.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import pytest
from faststream.kafka import KafkaBroker

from returns_contracts import LabelGenerated, Topics, parse_message
from returns_contracts.examples import merchant_updated, return_submitted
from returns_contracts.service_kit.kafka_topics import ensure_topics
from returns_contracts.service_kit.publisher import KafkaPublisher
from returns_contracts.service_kit.testing import CommandLog, Database
from returns_infra.fixtures import S3Server
from returns_infra.kafka_probe import records_up_to_now
from returns_labels.adapters.local_carrier import LocalCarrier
from returns_labels.adapters.repository import (
    MongoMerchantStore,
    MongoReturnStore,
    MongoWaitingStore,
)
from returns_labels.bootstrap import Adapters, build_container
from returns_labels.config import LabelsSettings
from returns_labels.service.use_cases import UseCases

from .buckets import fresh_label_bucket

pytestmark = pytest.mark.integration

LABEL_BUDGET = 3


@pytest.fixture
async def topics(kafka_bootstrap_servers: str) -> Topics:
    # A prefix of its own, so this test reads only what it published.
    topics = Topics(prefix=f"it-{uuid.uuid4().hex[:8]}")
    await ensure_topics(kafka_bootstrap_servers, topics)
    return topics


async def labels_on_real_adapters(
    database: Database, s3_server: S3Server, broker: KafkaBroker, topics: Topics
) -> UseCases:
    bucket = fresh_label_bucket(s3_server, "labels-rt")
    await bucket.ensure_exists()
    adapters = Adapters(
        returns=MongoReturnStore(database),
        # A running process keeps the merchant it read for a while: here longer than the test,
        # so the count does not depend on the machine's speed.
        merchants=MongoMerchantStore(database, cache_seconds=600),
        waiting=MongoWaitingStore(database),
        carrier=LocalCarrier(),
        files=bucket,
        publisher=KafkaPublisher(broker, topics),
    )
    return build_container(LabelsSettings(), adapters).use_cases


@pytest.fixture
async def labels(
    counted: tuple[Database, CommandLog], s3_server: S3Server, broker: KafkaBroker, topics: Topics
) -> UseCases:
    """The labels service, its merchant known, its store's command log emptied."""
    database, listener = counted
    labels = await labels_on_real_adapters(database, s3_server, broker, topics)
    await labels.automatic.record_merchant(merchant_updated())
    listener.clear()
    return labels


async def _published(kafka_bootstrap_servers: str, topics: Topics) -> list[Any]:
    return [
        parse_message(record.value or b"")
        for record in await records_up_to_now(kafka_bootstrap_servers, [topics.label_generated])
    ]


async def test_round_trips_of_a_classic_return_s_label(
    labels: UseCases,
    counted: tuple[Database, CommandLog],
    topics: Topics,
    kafka_bootstrap_servers: str,
) -> None:
    _, listener = counted

    await labels.automatic.record_submitted(return_submitted(return_id="r-counted"))

    sent = list(listener.sent)
    report = f"one label: {len(sent)} {dict(Counter(sent))}"
    print(report)
    [generated] = await _published(kafka_bootstrap_servers, topics)
    assert isinstance(generated, LabelGenerated)
    assert generated.payload.return_id == "r-counted"
    assert len(sent) <= LABEL_BUDGET, report


# Alone, twenty labels cost 60 commands (3 each); side by side, their inserts are grouped and
# only the guarded commit of each label goes alone.
TWENTY_LABELS_BUDGET = 40


async def test_labels_made_side_by_side_share_their_inserts(
    labels: UseCases,
    counted: tuple[Database, CommandLog],
    topics: Topics,
    kafka_bootstrap_servers: str,
) -> None:
    database, listener = counted
    return_ids = [f"r-side-{number}" for number in range(20)]

    await asyncio.gather(
        *(labels.automatic.record_submitted(return_submitted(return_id=r)) for r in return_ids)
    )

    sent = list(listener.sent)
    report = f"twenty labels: {len(sent)} {dict(Counter(c.split()[0] for c in sent))}"
    print(report)
    published = await _published(kafka_bootstrap_servers, topics)
    assert sorted(
        m.payload.return_id for m in published if isinstance(m, LabelGenerated)
    ) == sorted(return_ids)
    assert await database["label_files"].count_documents({}) == len(return_ids)
    assert len(sent) <= TWENTY_LABELS_BUDGET, report
