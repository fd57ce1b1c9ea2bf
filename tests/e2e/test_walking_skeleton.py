"""A return crosses the real broker from declaration to notifier and labels.

Everything here is real: Kafka, the MongoDB-protocol store, S3, Mailpit for SMTP, and the four
services as processes. Each test uses its own merchant, so tests do not see each other's mail.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from pymongo import MongoClient

from returns_contracts import ReturnSubmitted, Topics, parse_message
from returns_infra.fixtures import RunningServices, SmtpServer
from returns_infra.testing import eventually, message_detail, messages_to, wait_for_messages_to

pytestmark = pytest.mark.e2e


def _merchant(merchant_id: str, customer_service: str) -> dict[str, Any]:
    return {
        "id": merchant_id,
        "name": f"Shop {merchant_id}",
        "locale": "fr",
        "customer_service_email": customer_service,
        "return_window_days": 30,
        "return_types": ["refund", "exchange"],
        "reasons": [
            {
                "code": "damaged",
                "label_fr": "Article abîmé",
                "label_en": "Damaged",
                "defective": True,
            },
            {
                "code": "wrong_size",
                "label_fr": "Mauvaise taille",
                "label_en": "Wrong size",
                "defective": False,
            },
        ],
    }


def _order(merchant_id: str, number: str) -> dict[str, Any]:
    return {
        "merchant_id": merchant_id,
        "number": number,
        "ordered_on": (datetime.now(UTC) - timedelta(days=3)).date().isoformat(),
        "customer": {"name": "Ana Lopez", "email": "ana@example.com"},
        "lines": [
            {"line_id": "1", "sku": "MUG", "name": "Mug", "quantity": 2, "unit_price_cents": 900},
            {
                "line_id": "2",
                "sku": "TEE",
                "name": "T-shirt",
                "quantity": 1,
                "unit_price_cents": 1900,
            },
        ],
    }


class Shop:
    """One fresh merchant with one order, configured through the declaration API."""

    def __init__(self, services: RunningServices) -> None:
        self.id = f"shop-{uuid.uuid4().hex[:10]}"
        self.customer_service = f"cs-{self.id}@example.com"
        self.order_number = "A-1"
        self.http = httpx.Client(base_url=services.urls["declaration"], timeout=15)
        self.labels = httpx.Client(base_url=services.urls["labels"], timeout=15)
        self.http.put(
            f"/v1/merchants/{self.id}", json=_merchant(self.id, self.customer_service)
        ).raise_for_status()
        self.http.put(
            f"/v1/merchants/{self.id}/orders/{self.order_number}", json=_order(self.id, "A-1")
        ).raise_for_status()

    def submit(self, lines: list[dict[str, Any]], key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key} if key else {}
        return self.http.post(
            f"/v1/merchants/{self.id}/returns",
            json={"order_number": self.order_number, "email": "ana@example.com", "lines": lines},
            headers=headers,
        )


DEFECTIVE_LINE = {
    "line_id": "1",
    "quantity": 1,
    "reason_code": "damaged",
    "comment": "The mug arrived cracked along the handle.",
    "media_ids": ["photo-1"],
}
CLASSIC_LINE = {"line_id": "2", "quantity": 1, "reason_code": "wrong_size", "return_type": "refund"}


@pytest.fixture
def shop(services: RunningServices) -> Shop:
    return Shop(services)


def test_defective_return_reaches_customer_service_as_one_email(
    shop: Shop, smtp_server: SmtpServer
) -> None:
    response = shop.submit([DEFECTIVE_LINE, CLASSIC_LINE])
    assert response.status_code == 201, response.text
    answer = response.json()
    assert answer["defective"] is True
    assert answer["next_step"] == "merchant_will_contact"

    [email] = wait_for_messages_to(smtp_server.api_url, shop.customer_service, 1)
    assert "A-1" in email["Subject"]
    detail = message_detail(smtp_server.api_url, email["ID"])
    assert "The mug arrived cracked along the handle." in detail["Text"]
    assert [reply["Address"] for reply in detail["ReplyTo"]] == ["ana@example.com"]


def test_classic_return_is_label_pending_in_labels(shop: Shop, smtp_server: SmtpServer) -> None:
    response = shop.submit([CLASSIC_LINE])
    assert response.status_code == 201, response.text
    return_id = response.json()["return_id"]

    def label_status() -> str | None:
        answer = shop.labels.get(f"/v1/merchants/{shop.id}/returns/{return_id}/label")
        return str(answer.json()["status"]) if answer.status_code == 200 else None

    assert eventually(label_status, 60, "labels recording the return") == "label_pending"
    assert messages_to(smtp_server.api_url, shop.customer_service) == []


def test_defective_return_is_awaiting_merchant_in_labels(shop: Shop) -> None:
    response = shop.submit([DEFECTIVE_LINE])
    return_id = response.json()["return_id"]

    def label_status() -> str | None:
        answer = shop.labels.get(f"/v1/merchants/{shop.id}/returns/{return_id}/label")
        return str(answer.json()["status"]) if answer.status_code == 200 else None

    assert eventually(label_status, 60, "labels recording the return") == "awaiting_merchant"


def test_repeated_submit_with_same_key_is_one_return(shop: Shop) -> None:
    first = shop.submit([CLASSIC_LINE], key="double-click")
    second = shop.submit([CLASSIC_LINE], key="double-click")
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["return_id"] == second.json()["return_id"]


def test_defective_line_without_photo_is_refused_in_merchant_language(shop: Shop) -> None:
    response = shop.submit([{**DEFECTIVE_LINE, "media_ids": []}])
    assert response.status_code == 422
    [problem] = response.json()["error"]["fields"]
    assert problem["field"] == "lines[0].media_ids"
    assert "photos" in problem["message"] and "Ajoutez" in problem["message"]


async def test_same_event_delivered_twice_gives_one_email(
    shop: Shop, smtp_server: SmtpServer, kafka_bootstrap_servers: str, mongodb_url: str
) -> None:
    # Take a real ReturnSubmitted off the declaration's output, then deliver it twice more.
    response = shop.submit([DEFECTIVE_LINE], key="redelivery")
    return_id = response.json()["return_id"]
    [original] = wait_for_messages_to(smtp_server.api_url, shop.customer_service, 1)

    record = shop.http.get(f"/v1/merchants/{shop.id}/returns/{return_id}").json()
    assert record["defective"] is True

    event = _event_from_outbox(mongodb_url, return_id)
    sentinel = event.model_copy(update={"event_id": uuid.uuid4()})
    topics = Topics()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    await producer.start()
    try:
        for message in (event, event, sentinel):
            # Same key, so the three land on one partition and are handled in this order.
            await producer.send_and_wait(
                topics.for_message(message), message.model_dump_json().encode(), key=message.key()
            )
    finally:
        await producer.stop()

    # The sentinel is a new event, so it brings exactly one new e-mail; once it is there, the
    # two redeliveries before it on the partition have been handled and must have sent nothing.
    emails = wait_for_messages_to(smtp_server.api_url, shop.customer_service, 2)
    assert len(emails) == 2
    assert str(event.event_id) in original["MessageID"]
    assert sum(str(event.event_id) in email["MessageID"] for email in emails) == 1


def _event_from_outbox(mongodb_url: str, return_id: str) -> ReturnSubmitted:
    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_url, tz_aware=True)
    try:
        document = client["declaration"]["returns"].find_one({"_id": return_id})
    finally:
        client.close()
    assert document is not None
    message = parse_message(document["outbox"][0])
    assert isinstance(message, ReturnSubmitted)
    return message


def test_a_malformed_request_gets_the_documented_error_shape(shop: Shop) -> None:
    response = shop.http.post(
        f"/v1/merchants/{shop.id}/returns", json={"order_number": "A-1", "email": "a@b.c"}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [field["field"] for field in error["fields"]] == ["lines"]


def test_another_merchant_gets_404_for_a_return_it_does_not_own(
    shop: Shop, services: RunningServices
) -> None:
    return_id = shop.submit([CLASSIC_LINE]).json()["return_id"]
    other = Shop(services)
    response = other.http.get(f"/v1/merchants/{other.id}/returns/{return_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert shop.http.get(f"/v1/merchants/{shop.id}/returns/{return_id}").status_code == 200
