"""Issue 15 end to end on the real servers: a defective return submitted through the portal API
is resolved through the back-office API, and the customer's e-mail arrives in Mailpit, once.

Each test has its own merchant and its own customer address, so it reads only its own mail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from returns_declaration.entrypoints.demo import (
    DEMO_ADMIN_TOKEN,
    LineChoice,
    configure_merchant,
    declare,
    demo_photo,
    put_order,
)
from returns_infra.fixtures import RunningServices, SmtpServer
from returns_infra.testing import eventually, message_detail, messages_to, wait_for_messages_to

pytestmark = pytest.mark.e2e

ADMIN_TOKEN = os.environ.get("ADMIN_API_TOKEN", DEMO_ADMIN_TOKEN)
WAIT = 60.0
REASONS = {
    "damaged": {"label_fr": "Article abîmé", "label_en": "Damaged", "defective": True},
    "wrong_size": {"label_fr": "Mauvaise taille", "label_en": "Wrong size", "defective": False},
}
DEFECT = "The mug arrived cracked along the handle."
DECLINED = "The crack comes from a fall after delivery, as the photo shows."


class Shop:
    """A fresh English-speaking merchant, its API key and one order of a customer of its own."""

    def __init__(self, services: RunningServices, *, split_mixed: bool = False) -> None:
        self.id = f"shop-{uuid.uuid4().hex[:10]}"
        self.customer = f"ana-{self.id}@example.com"
        self.http = httpx.Client(base_url=services.urls["declaration"], timeout=15)
        self.media = httpx.Client(base_url=services.urls["media"], timeout=30)
        settings = {
            "name": "Shop",
            "locale": "en",
            "customer_service_email": f"cs-{self.id}@example.com",
            "return_window_days": 30,
            "return_types": ["refund", "exchange"],
            "split_mixed_returns": split_mixed,
            "return_address": {
                "line1": "1 rue A",
                "postal_code": "69001",
                "city": "Lyon",
                "country": "FR",
            },
        }
        api_key = configure_merchant(self.http, ADMIN_TOKEN, self.id, settings, REASONS)
        self.key = {"Authorization": f"Bearer {api_key}"}
        order = {
            "ordered_on": (datetime.now(UTC) - timedelta(days=3)).date().isoformat(),
            "customer": {"name": "Ana Lopez", "email": self.customer},
            "lines": [
                {"line_id": "1", "sku": "MUG", "name": "Mug", "quantity": 2, "unit_price_cents": 9},
                {"line_id": "2", "sku": "TEE", "name": "Tee", "quantity": 1, "unit_price_cents": 9},
            ],
        }
        put_order(self.http, api_key, self.id, "A-1", order)

    def submit(self, *lines: LineChoice) -> str:
        done = declare(self.http, self.media, self.id, "A-1", self.customer, list(lines))
        assert done.submitted.status_code == 201, done.submitted.text
        return str(done.submitted.json()["return_id"])

    def resolve(self, return_id: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post(
            f"/v1/merchants/{self.id}/returns/{return_id}/resolutions", json=body, headers=self.key
        )

    def record(self, return_id: str) -> dict[str, Any]:
        answer = self.http.get(f"/v1/merchants/{self.id}/returns/{return_id}", headers=self.key)
        answer.raise_for_status()
        record: dict[str, Any] = answer.json()
        return record

    def close(self) -> None:
        self.http.close()
        self.media.close()


@pytest.fixture
def shop(services: RunningServices) -> Iterator[Shop]:
    built = Shop(services)
    yield built
    built.close()


def defective_line() -> LineChoice:
    return LineChoice("1", 1, "damaged", comment=DEFECT, photos=[demo_photo()])


def _subjects(smtp_server: SmtpServer, address: str) -> list[str]:
    return sorted(str(message["Subject"]) for message in messages_to(smtp_server.api_url, address))


def _with_subject(emails: list[dict[str, Any]], fragment: str) -> list[dict[str, Any]]:
    return [email for email in emails if fragment in email["Subject"]]


def test_a_defective_return_resolved_through_the_api_reaches_the_customer_once(
    shop: Shop, smtp_server: SmtpServer
) -> None:
    return_id = shop.submit(defective_line())
    wait_for_messages_to(smtp_server.api_url, shop.customer, 1, WAIT)  # the acknowledgement

    declined = shop.resolve(return_id, {"resolution": "declined", "note": DECLINED})
    again = shop.resolve(return_id, {"resolution": "declined", "note": DECLINED})

    assert declined.status_code == 201, declined.text
    assert declined.json()["resolution"]["kind"] == "declined"
    assert declined.json()["resolution"]["actor"]["kind"] == "api_key"
    assert again.status_code == 201, again.text
    emails = wait_for_messages_to(smtp_server.api_url, shop.customer, 2, WAIT)
    [resolution] = _with_subject(emails, "what happens with your return (order A-1)")
    detail = message_detail(smtp_server.api_url, resolution["ID"])
    assert "cannot accept it" in detail["Text"] and DECLINED in detail["Text"]
    assert [reply["Address"] for reply in detail["ReplyTo"]] == [f"cs-{shop.id}@example.com"]

    # The timeline: every step in time order, the e-mail included; the same decision once.
    def emailed() -> list[dict[str, Any]] | None:
        timeline: list[dict[str, Any]] = shop.record(return_id)["timeline"]
        kinds = [entry["kind"] for entry in timeline]
        return timeline if kinds.count("customer_notified") >= 2 else None

    timeline = eventually(emailed, WAIT, "the resolution e-mail on the timeline")
    kinds = [entry["kind"] for entry in timeline]
    assert kinds[0] == "submitted" and kinds.count("resolved_declined") == 1
    assert kinds.index("resolved_declined") < len(kinds) - 1  # its e-mail came after it
    assert [entry["at"] for entry in timeline] == sorted(entry["at"] for entry in timeline)
    assert len(_with_subject(messages_to(smtp_server.api_url, shop.customer), "what happens")) == 1


def test_bad_input_gets_the_one_error_shape_in_the_merchant_s_language(shop: Shop) -> None:
    return_id = shop.submit(defective_line())

    no_reason = shop.resolve(return_id, {"resolution": "declined"})
    unknown = shop.resolve(return_id, {"resolution": "exchange"})
    elsewhere = shop.http.post(
        f"/v1/merchants/{shop.id}/returns/r-unknown/resolutions",
        json={"resolution": "replacement"},
        headers=shop.key,
    )
    operator = shop.http.post(
        f"/v1/merchants/{shop.id}/returns/{return_id}/resolutions",
        json={"resolution": "replacement"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )

    assert no_reason.status_code == 422
    [problem] = no_reason.json()["error"]["fields"]
    assert (problem["field"], problem["code"]) == ("note", "decline_reason_required")
    assert problem["message"].startswith("Tell the customer why")
    assert unknown.status_code == 422 and set(unknown.json()) == {"error"}
    assert unknown.json()["error"]["fields"][0]["field"].endswith("resolution")
    assert elsewhere.status_code == 404 and elsewhere.json()["error"]["code"] == "not_found"
    assert operator.status_code == 403 and operator.json()["error"]["code"] == "not_allowed"
    assert shop.record(return_id)["resolution"] is None


def test_a_label_resolution_sends_the_label_email_and_no_other(
    shop: Shop, smtp_server: SmtpServer
) -> None:
    return_id = shop.submit(defective_line())
    wait_for_messages_to(smtp_server.api_url, shop.customer, 1, WAIT)

    labelled = shop.resolve(return_id, {"resolution": "label", "note": "Send it back to us."})

    assert labelled.status_code == 201, labelled.text
    emails = wait_for_messages_to(smtp_server.api_url, shop.customer, 2, WAIT)
    [label_email] = _with_subject(emails, "your return label")
    [attachment] = message_detail(smtp_server.api_url, label_email["ID"])["Attachments"]
    assert attachment["ContentType"] == "application/pdf"
    # A later resolution of the same return is consumed after the label's (same key, same
    # partition): once its e-mail is here, a second e-mail of the label's would be here too.
    shop.http.post(  # a newer decision, so that its e-mail is the sentinel
        f"/v1/merchants/{shop.id}/returns/{return_id}/resolutions",
        json={"resolution": "replacement"},
        headers=shop.key,
    ).raise_for_status()
    emails = wait_for_messages_to(smtp_server.api_url, shop.customer, 3, WAIT)
    assert len(_with_subject(emails, "what happens with your return")) == 1
    assert len(emails) == 3, _subjects(smtp_server, shop.customer)


def test_with_the_setting_a_mixed_return_gets_its_label_at_once_and_waits_for_a_resolution(
    services: RunningServices, smtp_server: SmtpServer
) -> None:
    shop = Shop(services, split_mixed=True)
    try:
        return_id = shop.submit(defective_line(), LineChoice("2", 1, "wrong_size", "refund"))

        emails = wait_for_messages_to(smtp_server.api_url, shop.customer, 2, WAIT)
        assert len(_with_subject(emails, "your return label")) == 1
        waiting = shop.http.get(
            f"/v1/merchants/{shop.id}/returns",
            params={"label_status": "awaiting_merchant"},
            headers=shop.key,
        ).json()
        assert [found["id"] for found in waiting["returns"]] == [return_id]
        record = shop.record(return_id)
        assert record["split_mixed"] is True and record["resolution"] is None
        assert record["label_status"] in ("pending", "generated")
    finally:
        shop.close()
