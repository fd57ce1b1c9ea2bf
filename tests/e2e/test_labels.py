"""Labels end to end through the real broker (R10, R11): the messages declaration would send
are published straight to Kafka, the labels service answers on Kafka and over HTTP.

Each test uses its own merchant and returns, so tests do not see each other's events.
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pypdfium2
import pytest
import zxingcpp
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faststream.kafka import KafkaBroker
from pypdf import PdfReader

from returns_contracts import (
    Actor,
    LabelGenerated,
    LabelRejected,
    LabelRequested,
    LabelRequestedPayload,
    Message,
    ReturnSubmitted,
    Topics,
    parse_message,
)
from returns_contracts.examples import WAREHOUSE, merchant_updated, return_submitted
from returns_contracts.service_kit.access import INTERNAL_TOKEN_HEADER
from returns_contracts.service_kit.kafka import publish
from returns_contracts.service_kit.settings import ServiceSettings
from returns_infra.fixtures import RunningServices
from returns_infra.kafka_probe import key_beside
from returns_infra.testing import eventually

pytestmark = pytest.mark.e2e

TOPICS = Topics()
SUPPORT = Actor(kind="user", id="u-7", display_name="Sam Support")
WAIT = 60.0
# The label status is internal: the test profile's services use the settings' internal token.
INTERNAL = {INTERNAL_TOKEN_HEADER: ServiceSettings().internal_api_token}


class Inbox:
    """Everything published on some topics since the start of the topic, for one merchant."""

    def __init__(self, consumer: AIOKafkaConsumer, merchant_ids: set[str]) -> None:
        self.consumer = consumer
        self.merchant_ids = merchant_ids
        self.messages: list[Message] = []

    async def wait_for(
        self, done: Callable[[list[Message]], bool], what: str, within: float = WAIT
    ) -> list[Message]:
        deadline = time.monotonic() + within
        while not done(self.messages):
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} did not happen within {within}s: {self.messages}")
            batches = await self.consumer.getmany(timeout_ms=250)
            for records in batches.values():
                for record in records:
                    message = parse_message(record.value)
                    if message.merchant_id in self.merchant_ids:
                        self.messages.append(message)
        return self.messages

    def labels_of(self, return_id: str) -> list[LabelGenerated]:
        return [
            message
            for message in self.messages
            if isinstance(message, LabelGenerated) and message.payload.return_id == return_id
        ]

    def rejections_of(self, return_id: str) -> list[LabelRejected]:
        return [
            message
            for message in self.messages
            if isinstance(message, LabelRejected) and message.payload.return_id == return_id
        ]


class Shop:
    """A fresh merchant whose events the test publishes itself, as declaration would."""

    def __init__(self, broker: KafkaBroker, services: RunningServices, inbox: Inbox) -> None:
        self.id = f"shop-{uuid.uuid4().hex[:10]}"
        self.broker = broker
        self.inbox = inbox
        inbox.merchant_ids.add(self.id)
        self.labels = httpx.Client(base_url=services.urls["labels"], timeout=15)

    async def open(self) -> None:
        await publish(self.broker, TOPICS, merchant_updated(merchant_id=self.id))

    async def submit(self, *, defective: bool, return_id: str | None = None) -> ReturnSubmitted:
        event = return_submitted(
            merchant_id=self.id,
            return_id=return_id or f"r-{uuid.uuid4().hex[:12]}",
            defective=defective,
        )
        await publish(self.broker, TOPICS, event)
        return event

    async def request_label(self, return_id: str, regenerate: bool = False) -> LabelRequested:
        command = LabelRequested(
            merchant_id=self.id,
            producer="e2e-test",
            payload=LabelRequestedPayload(
                return_id=return_id, requested_by=SUPPORT, regenerate=regenerate
            ),
        )
        await publish(self.broker, TOPICS, command)
        return command

    def status(self, return_id: str) -> dict[str, Any] | None:
        answer = self.labels.get(
            f"/internal/v1/merchants/{self.id}/returns/{return_id}/label", headers=INTERNAL
        )
        return answer.json() if answer.status_code == 200 else None

    def status_when(self, return_id: str, wanted: str) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            found = self.status(return_id)
            return found if found is not None and found["status"] == wanted else None

        return eventually(probe, WAIT, f"return {return_id} becoming {wanted}")


@pytest.fixture
async def inbox(kafka_bootstrap_servers: str, services: RunningServices) -> AsyncIterator[Inbox]:
    consumer = AIOKafkaConsumer(
        TOPICS.label_generated,
        TOPICS.label_rejected,
        bootstrap_servers=kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    yield Inbox(consumer, set())
    await consumer.stop()


@pytest.fixture
async def shop(broker: KafkaBroker, services: RunningServices, inbox: Inbox) -> Shop:
    shop = Shop(broker, services, inbox)
    await shop.open()
    return shop


def _read_label(pdf: bytes) -> tuple[str, dict[zxingcpp.BarcodeFormat, str]]:
    """The text of the one page, and what its QR code and barcode say."""
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    width_mm = float(reader.pages[0].mediabox.width) * 25.4 / 72
    height_mm = float(reader.pages[0].mediabox.height) * 25.4 / 72
    assert (round(width_mm), round(height_mm)) == (105, 148)  # A6
    document = pypdfium2.PdfDocument(pdf)
    image = document[0].render(scale=300 / 72).to_pil()
    codes = {code.format: code.text for code in zxingcpp.read_barcodes(image)}
    document.close()
    return reader.pages[0].extract_text(), codes


async def test_a_classic_return_gets_one_label_at_once(
    shop: Shop, inbox: Inbox, kafka_bootstrap_servers: str
) -> None:
    event = await shop.submit(defective=False)
    return_id = event.payload.return_id

    await inbox.wait_for(lambda _: len(inbox.labels_of(return_id)) == 1, "the label")
    [generated] = inbox.labels_of(return_id)
    assert generated.payload.requested_by is None
    assert not generated.payload.regenerated
    assert generated.correlation_id == event.correlation_id
    status = shop.status_when(return_id, "generated")
    assert status["label"]["label_id"] == generated.payload.label_id

    # The PDF behind the signed link says who sends what to whom, and its codes scan.
    answer = shop.labels.get(generated.payload.download_url)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    text, codes = _read_label(answer.content)
    tracking = generated.payload.tracking_number
    for expected in (
        "Léa Dupont",
        "3 place Bellecour",
        WAREHOUSE.line1,
        "69007 Lyon",
        return_id,
        event.payload.order_number,
        tracking,
    ):
        assert expected in text
    assert codes[zxingcpp.BarcodeFormat.Code39] == tracking
    assert f"tracking={tracking};return={return_id};" in codes[zxingcpp.BarcodeFormat.QRCode]

    # Redelivered twice, then a sentinel behind the copies: a classic return of the same shop
    # whose key falls on the same partition of ReturnSubmitted (labels handles it after both
    # copies) and of LabelGenerated (its label comes after whatever the copies announced). Once
    # its label is read, everything the redelivery caused has been read too.
    await _redeliver(kafka_bootstrap_servers, event, times=2)
    sentinel_id = await key_beside(
        kafka_bootstrap_servers, return_id, [TOPICS.return_submitted, TOPICS.label_generated]
    )
    await shop.submit(defective=False, return_id=sentinel_id)
    await inbox.wait_for(lambda _: len(inbox.labels_of(sentinel_id)) == 1, "the sentinel's label")

    after = shop.status(return_id)
    assert after is not None
    assert after["label"]["label_id"] == generated.payload.label_id
    assert after["label"]["created_at"] == status["label"]["created_at"]  # not made again
    assert after["voided_label_ids"] == []
    # Each copy announced the label again as the very same event, which consumers drop.
    announced = [
        (message.event_id, message.payload.label_id, message.payload.tracking_number)
        for message in inbox.labels_of(return_id)
    ]
    first = (generated.event_id, generated.payload.label_id, generated.payload.tracking_number)
    assert announced == [first] * 3


async def test_a_defective_return_gets_a_label_only_when_asked_and_once(
    shop: Shop, inbox: Inbox
) -> None:
    event = await shop.submit(defective=True)
    return_id = event.payload.return_id
    waiting = shop.status_when(return_id, "awaiting_merchant")
    assert waiting["label"] is None

    first_request = await shop.request_label(return_id)
    await inbox.wait_for(lambda _: len(inbox.labels_of(return_id)) == 1, "the requested label")
    # The first label of the return answers the request: no automatic one came before it.
    [first] = inbox.labels_of(return_id)
    assert first.payload.requested_by == SUPPORT
    assert first.correlation_id == first_request.correlation_id
    assert shop.status_when(return_id, "generated")["label"]["label_id"] == (first.payload.label_id)

    await shop.request_label(return_id)
    await inbox.wait_for(lambda _: len(inbox.labels_of(return_id)) == 2, "the second answer")
    again = inbox.labels_of(return_id)[1]
    assert again.payload.label_id == first.payload.label_id
    assert again.payload.tracking_number == first.payload.tracking_number

    await shop.request_label(return_id, regenerate=True)
    await inbox.wait_for(lambda _: len(inbox.labels_of(return_id)) == 3, "the new label")
    renewed = inbox.labels_of(return_id)[2]
    assert renewed.payload.label_id != first.payload.label_id
    assert renewed.payload.tracking_number != first.payload.tracking_number
    assert renewed.payload.regenerated
    status = shop.status(return_id)
    assert status is not None
    assert status["label"]["label_id"] == renewed.payload.label_id
    assert status["voided_label_ids"] == [first.payload.label_id]

    # The voided label's link stops working; the new one works.
    assert shop.labels.get(first.payload.download_url).status_code == 404
    assert shop.labels.get(renewed.payload.download_url).status_code == 200


async def test_a_request_for_another_merchant_s_return_is_rejected(
    shop: Shop,
    broker: KafkaBroker,
    services: RunningServices,
    inbox: Inbox,
    kafka_bootstrap_servers: str,
) -> None:
    event = await shop.submit(defective=True)
    return_id = event.payload.return_id
    shop.status_when(return_id, "awaiting_merchant")
    intruder = Shop(broker, services, inbox)
    await intruder.open()

    await intruder.request_label(return_id)

    await inbox.wait_for(lambda _: len(inbox.rejections_of(return_id)) == 1, "the rejection")
    [rejected] = inbox.rejections_of(return_id)
    assert rejected.merchant_id == intruder.id
    assert rejected.payload.reason == "wrong_merchant"
    assert rejected.payload.requested_by == SUPPORT
    status = shop.status(return_id)
    assert status is not None and status["label"] is None
    # The rejection is on another topic than a label would be. A sentinel: the shop's own
    # request for a return whose key shares the request's partition and the labels' one;
    # once its label is read, a label labels made for the intruder would have been read too.
    sentinel_id = await key_beside(
        kafka_bootstrap_servers, return_id, [TOPICS.label_requested, TOPICS.label_generated]
    )
    await shop.submit(defective=True, return_id=sentinel_id)
    shop.status_when(sentinel_id, "awaiting_merchant")
    await shop.request_label(sentinel_id)
    await inbox.wait_for(lambda _: len(inbox.labels_of(sentinel_id)) == 1, "the sentinel's label")
    assert inbox.labels_of(return_id) == []


async def test_a_request_that_arrives_before_its_return_waits_for_it(
    shop: Shop, broker: KafkaBroker, inbox: Inbox
) -> None:
    event = return_submitted(
        merchant_id=shop.id, return_id=f"r-{uuid.uuid4().hex[:12]}", defective=True
    )
    return_id = event.payload.return_id
    await shop.request_label(return_id)
    await publish(broker, TOPICS, event)

    await inbox.wait_for(lambda _: len(inbox.labels_of(return_id)) == 1, "the waiting label")
    [generated] = inbox.labels_of(return_id)
    assert generated.payload.requested_by == SUPPORT
    assert inbox.rejections_of(return_id) == []


async def test_a_malformed_request_is_rejected_with_the_reason(
    shop: Shop, kafka_bootstrap_servers: str, inbox: Inbox
) -> None:
    return_id = f"r-{uuid.uuid4().hex[:12]}"
    command = {
        "event_id": str(uuid.uuid4()),
        "type": "LabelRequested",
        "version": 1,
        "occurred_at": "2026-03-02T10:00:00Z",
        "merchant_id": shop.id,
        "correlation_id": "malformed-1",
        "producer": "e2e-test",
        "payload": {"return_id": return_id, "regenerate": "please"},
    }
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(
            TOPICS.label_requested, json.dumps(command).encode(), key=return_id.encode()
        )
    finally:
        await producer.stop()

    await inbox.wait_for(lambda _: len(inbox.rejections_of(return_id)) == 1, "the rejection")
    [rejected] = inbox.rejections_of(return_id)
    assert rejected.payload.reason == "malformed_command"
    assert "requested_by" in rejected.payload.detail
    assert rejected.correlation_id == "malformed-1"


async def _redeliver(bootstrap_servers: str, message: Message, times: int) -> None:
    """Publish the very same message again, `times` times."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers)
    await producer.start()
    try:
        for _ in range(times):
            await producer.send_and_wait(
                TOPICS.for_message(message), message.model_dump_json().encode(), key=message.key()
            )
    finally:
        await producer.stop()
