"""A return crosses the real broker from declaration to notifier and labels.

Everything here is real: Kafka, the MongoDB-protocol store, S3, Mailpit for SMTP, and the four
services as processes. The customer walks the portal's four steps over HTTP, with photos
uploaded to media. Each test uses its own merchant, so tests do not see each other's mail.
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from pymongo import MongoClient

from returns_contracts import (
    LabelGenerated,
    LabelGeneratedPayload,
    LabelRejected,
    LabelRejectedPayload,
    LabelRequested,
    Message,
    ReturnSubmitted,
    Topics,
    parse_message,
)
from returns_contracts.service_kit.access import INTERNAL_TOKEN_HEADER
from returns_contracts.service_kit.settings import ServiceSettings
from returns_declaration.entrypoints.demo import (
    DEMO_ADMIN_TOKEN,
    Declaration,
    LineChoice,
    configure_merchant,
    declare,
    demo_photo,
    put_order,
)
from returns_infra import processes
from returns_infra.fixtures import RunningServices, SmtpServer
from returns_infra.kafka_probe import records_up_to_now
from returns_infra.services import service_env
from returns_infra.testing import eventually, message_detail, messages_to, wait_for_messages_to

pytestmark = pytest.mark.e2e

ADMIN_TOKEN = os.environ.get("ADMIN_API_TOKEN", DEMO_ADMIN_TOKEN)
# The label status of labels is internal (services, support tooling): the internal token.
INTERNAL = {INTERNAL_TOKEN_HEADER: ServiceSettings().internal_api_token}
EMAIL = "ana@example.com"
REASONS = {
    "damaged": {"label_fr": "Article abîmé", "label_en": "Damaged", "defective": True},
    "wrong_size": {"label_fr": "Mauvaise taille", "label_en": "Wrong size", "defective": False},
}


def _merchant(customer_service: str, locale: str) -> dict[str, Any]:
    return {
        "name": "Shop",
        "locale": locale,
        "customer_service_email": customer_service,
        "return_window_days": 30,
        "return_types": ["refund", "exchange"],
    }


def _order() -> dict[str, Any]:
    return {
        "ordered_on": (datetime.now(UTC) - timedelta(days=3)).date().isoformat(),
        "customer": {"name": "Ana Lopez", "email": EMAIL},
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


def setup_shop(declaration_url: str, locale: str = "fr") -> tuple[str, str, dict[str, str]]:
    """A fresh merchant with reasons and order A-1: (merchant id, customer service, key header)."""
    merchant_id = f"shop-{uuid.uuid4().hex[:10]}"
    customer_service = f"cs-{merchant_id}@example.com"
    with httpx.Client(base_url=declaration_url, timeout=15) as http:
        settings = _merchant(customer_service, locale)
        api_key = configure_merchant(http, ADMIN_TOKEN, merchant_id, settings, REASONS)
        put_order(http, api_key, merchant_id, "A-1", _order())
    return merchant_id, customer_service, {"Authorization": f"Bearer {api_key}"}


class Shop:
    """One fresh merchant with one order, configured through the declaration API."""

    def __init__(self, services: RunningServices, locale: str = "fr") -> None:
        self.id, self.customer_service, self.api_key = setup_shop(
            services.urls["declaration"], locale
        )
        self.http = httpx.Client(base_url=services.urls["declaration"], timeout=15)
        self.back_office = httpx.Client(
            base_url=f"{services.urls['declaration']}/v1/merchants/{self.id}",
            headers=self.api_key,
            timeout=15,
        )
        self.media = httpx.Client(base_url=services.urls["media"], timeout=30)
        self.labels = httpx.Client(base_url=services.urls["labels"], timeout=15)

    def declare(self, lines: list[LineChoice], key: str | None = None) -> Declaration:
        return declare(self.http, self.media, self.id, "A-1", EMAIL, lines, key)

    def submit(self, lines: list[LineChoice], key: str | None = None) -> httpx.Response:
        return self.declare(lines, key).submitted

    def record(self, return_id: str) -> dict[str, Any]:
        response = self.back_office.get(f"/returns/{return_id}")
        response.raise_for_status()
        record: dict[str, Any] = response.json()
        return record


COMMENT = "The mug arrived cracked along the handle."


def defective_line() -> LineChoice:
    return LineChoice("1", 1, "damaged", comment=COMMENT, photos=[demo_photo()])


CLASSIC_LINE = LineChoice("2", 1, "wrong_size", return_type="refund")


@pytest.fixture
def shop(services: RunningServices) -> Shop:
    return Shop(services)


def _outbox_state(mongodb_url: str, database: str, return_id: str) -> tuple[int, int, bool]:
    """(events in the return's outbox, how many are marked sent, whether some are pending)."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_url)
    try:
        document = client[database]["returns"].find_one({"_id": return_id})
    finally:
        client.close()
    assert document is not None
    return len(document["outbox"]), document["outbox_sent"], document["outbox_pending"]


async def _published(
    bootstrap: str, topic: str, return_id: str, mongodb_url: str, database: str = "declaration"
) -> list[Message]:
    """Every message of `return_id` on `topic`, read once the relay has marked all the return's
    events sent: it marks only after the broker acknowledged them, and a marked event is never
    published again, so every copy there will ever be is on the topic by then."""

    def all_sent() -> tuple[int, int, bool] | None:
        state = _outbox_state(mongodb_url, database, return_id)
        return state if state[1] == state[0] and not state[2] else None

    eventually(all_sent, 60, f"the relay marking the events of {return_id} sent")
    # Messages are keyed by return id; other tests share the topic (some publish malformed
    # messages on purpose), so only this return's records are parsed.
    records = await records_up_to_now(bootstrap, [topic])
    return [
        parse_message(record.value or b"") for record in records if record.key == return_id.encode()
    ]


# --- the four steps -----------------------------------------------------------------------------


async def test_a_mixed_return_walks_the_four_steps_and_is_one_defective_event(
    shop: Shop, smtp_server: SmtpServer, kafka_bootstrap_servers: str, mongodb_url: str
) -> None:
    done = shop.declare([defective_line(), CLASSIC_LINE])

    # Step 4's summary shows both lines, the photo thumbnail and nothing missing.
    summary = done.summary
    assert summary["ready"] is True and summary["defective"] is True
    [photo] = summary["lines"][0]["photos"]
    assert photo["photo_id"] == done.photo_ids[0] and photo["thumbnail_url"]
    assert summary["lines"][1]["return_type"] == "refund"

    assert done.submitted.status_code == 201, done.submitted.text
    answer = done.submitted.json()
    assert answer["defective"] is True
    assert answer["next_step"] == "merchant_will_contact"
    assert answer["message"].startswith("Merci")
    return_id = answer["return_id"]

    [event] = await _published(
        kafka_bootstrap_servers, Topics().return_submitted, return_id, mongodb_url
    )
    assert isinstance(event, ReturnSubmitted)
    assert event.payload.defective is True
    assert [(item.line_id, item.defective) for item in event.payload.items] == [
        ("1", True),
        ("2", False),
    ]
    assert event.payload.items[0].media_ids == done.photo_ids
    assert event.payload.items[0].comment == COMMENT

    [email] = wait_for_messages_to(smtp_server.api_url, shop.customer_service, 1)
    detail = message_detail(smtp_server.api_url, email["ID"])
    assert COMMENT in detail["Text"]
    assert [reply["Address"] for reply in detail["ReplyTo"]] == [EMAIL]

    # The back-office record: lines, a working photo link, and the timeline (R14).
    record = shop.record(return_id)
    assert record["defective"] is True and record["label_status"] == "awaiting_merchant"
    assert _served_as_image(record["lines"][0]["photos"][0]["url"])

    def notified() -> list[str] | None:
        kinds = [entry["kind"] for entry in shop.record(return_id)["timeline"]]
        return kinds if "customer_service_notified" in kinds else None

    assert eventually(notified, 60, "the notification on the timeline")[0] == "submitted"


def _served_as_image(link: str) -> bool:
    response = httpx.get(link, timeout=15)
    return response.status_code == 200 and response.headers["content-type"].startswith("image/")


def test_the_order_shows_what_is_left_after_a_return(shop: Shop) -> None:
    assert shop.submit([CLASSIC_LINE]).status_code == 201
    auth = _session(shop)
    order = shop.http.get(f"/v1/portal/{shop.id}/order", headers=auth).json()
    left = {line["line_id"]: line["quantity_returnable"] for line in order["lines"]}
    assert left == {"1": 2, "2": 0}
    assert order["lines"][1]["why_not"] == "Cet article a déjà été entièrement retourné."
    refused = shop.http.post(
        f"/v1/portal/{shop.id}/drafts",
        json={"lines": [{"line_id": "2", "quantity": 1}]},
        headers=auth,
    )
    assert refused.status_code == 422
    [problem] = refused.json()["error"]["fields"]
    assert (problem["field"], problem["code"]) == ("lines[0].quantity", "nothing_left_to_return")


async def test_classic_return_is_label_pending_in_labels(
    shop: Shop, smtp_server: SmtpServer, kafka_bootstrap_servers: str, mongodb_url: str
) -> None:
    response = shop.submit([CLASSIC_LINE])
    assert response.status_code == 201, response.text
    assert response.json()["next_step"] == "label_follows"
    return_id = response.json()["return_id"]

    def label_status() -> str | None:
        answer = shop.labels.get(
            f"/internal/v1/merchants/{shop.id}/returns/{return_id}/label", headers=INTERNAL
        )
        return str(answer.json()["status"]) if answer.status_code == 200 else None

    assert eventually(label_status, 60, "labels recording the return") == "pending"

    # No e-mail to customer service for a classic return, checked once the notifier is past
    # the return's event: a copy of it under a new event id, same key, so behind it on the
    # partition, whose confirmation e-mail to the customer shows that it was handled.
    event = _event_from_outbox(mongodb_url, return_id)
    sentinel = event.model_copy(update={"event_id": uuid.uuid4()})
    await _send(kafka_bootstrap_servers, sentinel)
    eventually(lambda: _notified(mongodb_url, sentinel), 60, "the notifier handling the sentinel")
    assert messages_to(smtp_server.api_url, shop.customer_service) == []
    assert _sent_templates(mongodb_url, event) == ["customer_return_confirmation"]


def test_the_merchant_reads_the_label_through_the_return_record(shop: Shop) -> None:
    # Labels' own status is internal; the merchant's API key reads the label in declaration.
    address = {"line1": "1 rue A", "postal_code": "69001", "city": "Lyon", "country": "FR"}
    settings = {**_merchant(shop.customer_service, "fr"), "return_address": address}
    saved = shop.http.put(f"/v1/merchants/{shop.id}", json=settings, headers=shop.api_key)
    assert saved.status_code == 200, saved.text
    return_id = shop.submit([CLASSIC_LINE]).json()["return_id"]

    def generated() -> dict[str, Any] | None:
        record = shop.record(return_id)
        return record if record["label_status"] == "generated" else None

    record = eventually(generated, 60, "the label on the return record")
    label = record["label"]
    assert {"label_id", "tracking_number", "carrier", "download_url"} <= set(label)
    pdf = httpx.get(label["download_url"], timeout=15)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    internal = shop.labels.get(
        f"/internal/v1/merchants/{shop.id}/returns/{return_id}/label", headers=INTERNAL
    ).json()
    assert internal["label"]["label_id"] == label["label_id"]
    anonymous = shop.labels.get(f"/internal/v1/merchants/{shop.id}/returns/{return_id}/label")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "invalid_token"


def test_defective_return_is_awaiting_merchant_in_labels(shop: Shop) -> None:
    return_id = shop.submit([defective_line()]).json()["return_id"]

    def label_status() -> str | None:
        answer = shop.labels.get(
            f"/internal/v1/merchants/{shop.id}/returns/{return_id}/label", headers=INTERNAL
        )
        return str(answer.json()["status"]) if answer.status_code == 200 else None

    assert eventually(label_status, 60, "labels recording the return") == "awaiting_merchant"


def test_repeated_submit_is_one_return(shop: Shop) -> None:
    done = shop.declare([CLASSIC_LINE], key="double-click")
    draft_id = done.draft["draft_id"]
    auth = _session(shop)
    again = shop.http.post(
        f"/v1/portal/{shop.id}/drafts/{draft_id}/submit",
        headers={**auth, "Idempotency-Key": "double-click"},
    )
    plain_again = shop.http.post(f"/v1/portal/{shop.id}/drafts/{draft_id}/submit", headers=auth)
    assert (done.submitted.status_code, again.status_code, plain_again.status_code) == (
        201,
        200,
        200,
    )
    ids = {response.json()["return_id"] for response in (done.submitted, again, plain_again)}
    assert ids == {draft_id}


def _session(shop: Shop) -> dict[str, str]:
    response = shop.http.post(
        f"/v1/portal/{shop.id}/sessions", json={"order_number": "A-1", "email": EMAIL}
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['session_token']}"}


def _draft_with_defective_reason(shop: Shop) -> tuple[dict[str, str], dict[str, Any]]:
    auth = _session(shop)
    draft = shop.http.post(
        f"/v1/portal/{shop.id}/drafts",
        json={"lines": [{"line_id": "1", "quantity": 1}]},
        headers=auth,
    ).json()
    shop.http.put(
        f"/v1/portal/{shop.id}/drafts/{draft['draft_id']}/lines/1/reason",
        json={"reason_code": "damaged"},
        headers=auth,
    ).raise_for_status()
    return auth, draft


def test_defective_line_without_photo_is_refused_in_merchant_language(shop: Shop) -> None:
    auth, draft = _draft_with_defective_reason(shop)
    response = shop.http.put(
        f"/v1/portal/{shop.id}/drafts/{draft['draft_id']}/lines/1/defect",
        json={"comment": COMMENT, "photo_ids": []},
        headers=auth,
    )
    assert response.status_code == 422
    [problem] = response.json()["error"]["fields"]
    assert problem["field"] == "photo_ids"
    assert "photos" in problem["message"] and "Ajoutez" in problem["message"]


def test_a_photo_of_another_draft_is_refused(shop: Shop) -> None:
    earlier = shop.declare([defective_line()])
    auth, draft = _draft_with_defective_reason(shop)
    response = shop.http.put(
        f"/v1/portal/{shop.id}/drafts/{draft['draft_id']}/lines/1/defect",
        json={"comment": COMMENT, "photo_ids": earlier.photo_ids},
        headers=auth,
    )
    assert response.status_code == 422
    assert [p["code"] for p in response.json()["error"]["fields"]] == ["unknown_photo"]


def test_a_wrong_email_is_refused_like_an_unknown_order_then_rate_limited(shop: Shop) -> None:
    def attempt(order_number: str, email: str) -> httpx.Response:
        return shop.http.post(
            f"/v1/portal/{shop.id}/sessions", json={"order_number": order_number, "email": email}
        )

    wrong_email, no_order = attempt("A-1", "someone@example.com"), attempt("Z-9", EMAIL)
    assert wrong_email.status_code == no_order.status_code == 401
    assert wrong_email.json() == no_order.json()
    statuses = [attempt("A-1", "someone@example.com").status_code for _ in range(10)]
    assert statuses[-1] == 429 and 429 not in statuses[:8]
    limited = attempt("A-1", EMAIL)
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert limited.json()["error"]["message"].startswith("Trop de tentatives")


async def test_same_event_delivered_twice_gives_one_email(
    shop: Shop, smtp_server: SmtpServer, kafka_bootstrap_servers: str, mongodb_url: str
) -> None:
    # Take a real ReturnSubmitted off the declaration's output, then deliver it twice more.
    return_id = shop.submit([defective_line()], key="redelivery").json()["return_id"]
    [original] = wait_for_messages_to(smtp_server.api_url, shop.customer_service, 1)

    event = _event_from_outbox(mongodb_url, return_id)
    sentinel = event.model_copy(update={"event_id": uuid.uuid4()})
    # Same key, so the three land on one partition and are handled in this order.
    await _send(kafka_bootstrap_servers, event, event, sentinel)

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


async def _send(bootstrap: str, *messages: Message) -> None:
    """Publish `messages` in this order, as their producer would (topic and key)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for message in messages:
            await producer.send_and_wait(
                Topics().for_message(message), message.model_dump_json().encode(), key=message.key()
            )
    finally:
        await producer.stop()


def _notifier_records(mongodb_url: str, event: Message) -> list[dict[str, Any]]:
    """What the notifier recorded for the e-mails it sent because of `event`."""
    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_url)
    try:
        return list(client["notifier"]["sent_emails"].find({"event_id": str(event.event_id)}))
    finally:
        client.close()


def _notified(mongodb_url: str, event: Message) -> bool | None:
    """Whether the notifier finished with `event`: its e-mails sent and announced."""
    records = _notifier_records(mongodb_url, event)
    done = records and all(record.get("published_at") is not None for record in records)
    return True if done else None


def _sent_templates(mongodb_url: str, event: Message) -> list[str]:
    return sorted(record["template"] for record in _notifier_records(mongodb_url, event))


def test_a_malformed_request_gets_the_documented_error_shape(shop: Shop) -> None:
    auth = _session(shop)
    response = shop.http.post(f"/v1/portal/{shop.id}/drafts", json={}, headers=auth)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [field["field"] for field in error["fields"]] == ["lines"]


# --- the back-office ----------------------------------------------------------------------------


def test_another_merchants_key_gets_404_for_what_it_does_not_own(
    shop: Shop, services: RunningServices
) -> None:
    return_id = shop.submit([CLASSIC_LINE]).json()["return_id"]
    other = Shop(services)
    foreign = httpx.Client(
        base_url=f"{services.urls['declaration']}/v1/merchants/{shop.id}",
        headers=other.api_key,
        timeout=15,
    )
    for response in (
        foreign.get(f"/returns/{return_id}"),
        foreign.get("/returns"),
        foreign.post(f"/returns/{return_id}/label-requests", json={}),
        foreign.put("/reasons/new", json={"label_fr": "x", "label_en": "x"}),
        other.back_office.get(f"/returns/{return_id}"),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    assert shop.back_office.get(f"/returns/{return_id}").status_code == 200
    assert shop.back_office.post("/api-keys").status_code == 403  # keys come from the operator
    assert (
        shop.back_office.get("/returns", headers={"Authorization": "Bearer nope"}).status_code
        == 401
    )


def test_the_list_filters_by_defective_and_order_number(shop: Shop) -> None:
    defective_id = shop.submit([defective_line()]).json()["return_id"]
    classic_id = shop.submit([CLASSIC_LINE]).json()["return_id"]

    def ids(**params: Any) -> list[str]:
        response = shop.back_office.get("/returns", params=params)
        response.raise_for_status()
        return [item["id"] for item in response.json()["returns"]]

    assert ids() == [classic_id, defective_id]  # newest first
    assert ids(defective="true") == [defective_id]
    assert ids(label_status="awaiting_merchant") == [defective_id]
    assert ids(order_number="a-") == [classic_id, defective_id]
    assert ids(order_number="B-") == []
    first = shop.back_office.get("/returns", params={"limit": 1}).json()
    second = shop.back_office.get(
        "/returns", params={"limit": 1, "cursor": first["next_cursor"]}
    ).json()
    assert [item["id"] for item in first["returns"] + second["returns"]] == [
        classic_id,
        defective_id,
    ]


async def test_a_label_request_publishes_who_asked_and_shows_on_the_timeline(
    shop: Shop, kafka_bootstrap_servers: str, mongodb_url: str
) -> None:
    return_id = shop.submit([defective_line()]).json()["return_id"]
    response = shop.back_office.post(
        f"/returns/{return_id}/label-requests", json={"requested_by_name": "Julie"}
    )
    assert response.status_code == 202, response.text
    assert response.json()["label_status"] == "requested"
    [command] = await _published(
        kafka_bootstrap_servers, Topics().label_requested, return_id, mongodb_url
    )
    assert isinstance(command, LabelRequested)
    assert command.merchant_id == shop.id
    assert command.payload.requested_by.kind == "api_key"
    assert command.payload.requested_by.display_name == "Julie"
    kinds = [entry["kind"] for entry in shop.record(return_id)["timeline"]]
    assert kinds[0] == "submitted" and "label_requested" in kinds


async def test_label_events_from_the_broker_fill_the_timeline_once(
    shop: Shop, kafka_bootstrap_servers: str
) -> None:
    # Defective: the labels service makes no label of its own that would join the timeline.
    return_id = shop.submit([defective_line()]).json()["return_id"]
    generated = LabelGenerated(
        merchant_id=shop.id,
        correlation_id="e2e",
        producer="labels",
        payload=LabelGeneratedPayload(
            return_id=return_id,
            label_id="L-1",
            tracking_number="TRK-1",
            carrier="local",
            download_url="http://labels.example/l/L-1.pdf",
        ),
    )
    foreign = generated.model_copy(update={"event_id": uuid.uuid4(), "merchant_id": "intruder"})
    # A new event after the others on the same topic and partition (same key): once it shows,
    # the redelivery and the foreign event before it have been handled. (An event of another
    # topic would not do: each topic has its own consumer, so it could be applied first.)
    sentinel = generated.model_copy(
        update={
            "event_id": uuid.uuid4(),
            "payload": generated.payload.model_copy(
                update={"label_id": "L-2", "tracking_number": "TRK-2"}
            ),
        }
    )
    await _send(kafka_bootstrap_servers, generated, generated, foreign, sentinel)

    def after_sentinel() -> dict[str, Any] | None:
        record = shop.record(return_id)
        label = record.get("label") or {}
        return record if label.get("tracking_number") == "TRK-2" else None

    record = eventually(after_sentinel, 60, "the label events on the timeline")
    label_entries = [
        (entry["kind"], entry["event_id"])
        for entry in record["timeline"]
        if entry["kind"].startswith("label_")
    ]
    assert label_entries == [
        ("label_generated", str(generated.event_id)),
        ("label_generated", str(sentinel.event_id)),
    ]

    rejected = LabelRejected(
        merchant_id=shop.id,
        correlation_id="e2e",
        producer="labels",
        payload=LabelRejectedPayload(return_id=return_id, reason="not_ready", detail="e2e"),
    )
    await _send(kafka_bootstrap_servers, rejected)

    def rejected_shown() -> dict[str, Any] | None:
        record = shop.record(return_id)
        return record if record["label_status"] == "rejected" else None

    record = eventually(rejected_shown, 60, "the label rejection on the timeline")
    last_label_entry = [e for e in record["timeline"] if e["kind"].startswith("label_")][-1]
    assert (last_label_entry["kind"], last_label_entry["event_id"]) == (
        "label_rejected",
        str(rejected.event_id),
    )


async def test_the_record_timeline_is_in_time_order_whatever_order_events_arrive_in(
    shop: Shop, kafka_bootstrap_servers: str
) -> None:
    # R14. Defective: the labels service makes no label of its own that would join the timeline.
    return_id = shop.submit([defective_line()]).json()["return_id"]
    timeline = shop.record(return_id)["timeline"]
    [submitted] = [entry for entry in timeline if entry["kind"] == "submitted"]
    submitted_at = datetime.fromisoformat(submitted["at"])
    later = LabelGenerated(
        merchant_id=shop.id,
        correlation_id="e2e",
        producer="labels",
        occurred_at=submitted_at + timedelta(seconds=2),
        payload=LabelGeneratedPayload(
            return_id=return_id,
            label_id="L-late",
            tracking_number="TRK-late",
            carrier="local",
            download_url="http://labels.example/l/L-late.pdf",
        ),
    )
    # Announced after `later` on the same topic and key, so applied after it, but earlier.
    earlier = later.model_copy(
        update={
            "event_id": uuid.uuid4(),
            "occurred_at": submitted_at + timedelta(seconds=1),
            "payload": later.payload.model_copy(update={"tracking_number": "TRK-early"}),
        }
    )
    await _send(kafka_bootstrap_servers, later, earlier)

    def both_applied() -> dict[str, Any] | None:
        record = shop.record(return_id)
        label = record.get("label") or {}
        return record if label.get("tracking_number") == "TRK-early" else None

    record = eventually(both_applied, 60, "both label events on the timeline")
    ids = [entry["event_id"] for entry in record["timeline"]]
    assert ids.index(str(earlier.event_id)) < ids.index(str(later.event_id))
    times = [datetime.fromisoformat(entry["at"]) for entry in record["timeline"]]
    assert times == sorted(times)
    assert record["timeline"][0]["event_id"] == submitted["event_id"]


# --- a crash between the database write and the publish -------------------------------------------


@dataclass
class CrashableDeclaration:
    """A second declaration process on its own database and topics, to kill and restart."""

    url: str
    database: str
    topics: Topics
    start: Callable[[bool], None]
    stop: Callable[[], object]

    def outbox_state(self, mongodb_url: str, return_id: str) -> tuple[int, int, bool]:
        return _outbox_state(mongodb_url, self.database, return_id)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def crashable_declaration(
    services: RunningServices, tmp_path: Path
) -> Iterator[CrashableDeclaration]:
    database = f"declaration_crash_{uuid.uuid4().hex[:8]}"
    prefix = f"crash-{uuid.uuid4().hex[:8]}"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    pid_path = tmp_path / "declaration.pid"

    def start(relay: bool) -> None:
        env = {
            **service_env("test", services.env),
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(port),
            "MONGODB_DATABASE": database,
            "TOPIC_PREFIX": prefix,
            "OUTBOX_RELAY_ENABLED": "true" if relay else "false",
        }
        spec = processes.ProcessSpec(
            name="declaration-crash",
            command=[str(Path(sys.executable).parent / "returns-declaration")],
            log_path=tmp_path / "declaration.log",
            pid_path=pid_path,
            env=env,
        )

        def ready() -> bool:
            with urllib.request.urlopen(f"{url}/readyz", timeout=3) as answer:
                return bool(answer.status == 200)

        processes.start(spec, ready, 90)

    start(False)
    try:
        yield CrashableDeclaration(
            url, database, Topics(prefix), start, lambda: processes.stop(pid_path)
        )
    finally:
        processes.stop(pid_path)
        client: MongoClient[dict[str, Any]] = MongoClient(services.env["MONGODB_URL"])
        client.drop_database(database)
        client.close()


def _submit_crash_and_retry(
    crashable: CrashableDeclaration, media_url: str, mongodb_url: str
) -> str:
    merchant_id, _, _ = setup_shop(crashable.url)
    with (
        httpx.Client(base_url=crashable.url, timeout=15) as http,
        httpx.Client(base_url=media_url, timeout=30) as media,
    ):
        done = declare(http, media, merchant_id, "A-1", EMAIL, [CLASSIC_LINE], "crash-key")
        assert done.submitted.status_code == 201, done.submitted.text
        return_id = str(done.submitted.json()["return_id"])
        crashable.stop()  # the process dies with the event written but never published
        crashable.start(False)
        auth = {"Authorization": done.submitted.request.headers["Authorization"]}
        retried = http.post(
            f"/v1/portal/{merchant_id}/drafts/{return_id}/submit",
            headers={**auth, "Idempotency-Key": "crash-key"},
        )
        assert retried.status_code == 200 and retried.json()["return_id"] == return_id
        assert crashable.outbox_state(mongodb_url, return_id) == (1, 0, True)
        crashable.stop()
        crashable.start(True)  # a relay at last
    return return_id


async def test_a_submit_retried_after_a_crash_before_the_publish_is_published_once(
    services: RunningServices,
    kafka_bootstrap_servers: str,
    mongodb_url: str,
    crashable_declaration: CrashableDeclaration,
) -> None:
    """Stop the relay, submit, die, retry, then start a relay: exactly one ReturnSubmitted."""
    crashable = crashable_declaration
    return_id = _submit_crash_and_retry(crashable, services.urls["media"], mongodb_url)
    events = await _published(
        kafka_bootstrap_servers,
        crashable.topics.return_submitted,
        return_id,
        mongodb_url,
        crashable.database,
    )
    assert len(events) == 1
    assert isinstance(events[0], ReturnSubmitted) and events[0].payload.defective is False
    assert crashable.outbox_state(mongodb_url, return_id) == (1, 1, False)
