"""Issue 15, items 3 and 4, end to end on the real servers: a defective return is submitted
through the portal API, support asks a question through the back-office API, the customer's
e-mail arrives in Mailpit with its signed link, the customer follows it and answers with a photo
(uploaded to media by the page), and customer service's e-mail arrives with a working link to
that photo. The acknowledgement's status link opens the status page; the answer link works
once."""

from __future__ import annotations

import html
import re
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from returns_declaration.entrypoints.demo import (
    LineChoice,
    configure_merchant,
    declare,
    demo_photo,
    put_order,
)
from returns_infra.fixtures import RunningServices, SmtpServer
from returns_infra.testing import eventually, message_detail, messages_to, wait_for_messages_to

from .test_walking_skeleton import ADMIN_TOKEN, REASONS, Shop, _merchant, _order, defective_line

pytestmark = pytest.mark.e2e

QUESTION = "Pourriez-vous photographier l'étiquette sous le mug ?"
ANSWER = "Voici l'étiquette, le numéro de lot est bien lisible."
WAIT = 90.0


def _with_subject(emails: list[dict[str, object]], fragment: str) -> list[dict[str, object]]:
    return [email for email in emails if fragment in str(email.get("Subject", ""))]


def _link(text: str, pattern: str) -> str:
    found = re.search(pattern, text)
    assert found, f"no link like {pattern} in:\n{text[:3000]}"
    return html.unescape(found.group(0))


class OwnCustomerShop(Shop):
    """A fresh merchant whose order's customer has an address of its own: the question e-mail
    is found by its recipient, whatever other tests send to theirs."""

    def __init__(self, services: RunningServices) -> None:
        self.id = f"shop-{uuid.uuid4().hex[:10]}"
        self.customer_service = f"cs-{self.id}@example.com"
        self.customer = f"customer-{self.id}@example.com"
        url = services.urls["declaration"]
        order = _order()
        order["customer"]["email"] = self.customer
        with httpx.Client(base_url=url, timeout=15) as http:
            settings = _merchant(self.customer_service, "fr")
            api_key = configure_merchant(http, ADMIN_TOKEN, self.id, settings, REASONS)
            put_order(http, api_key, self.id, "A-1", order)
        self.api_key = {"Authorization": f"Bearer {api_key}"}
        self.http = httpx.Client(base_url=url, timeout=15)
        self.back_office = httpx.Client(
            base_url=f"{url}/v1/merchants/{self.id}", headers=self.api_key, timeout=15
        )
        self.media = httpx.Client(base_url=services.urls["media"], timeout=30)
        self.labels = httpx.Client(base_url=services.urls["labels"], timeout=15)

    def declare_lines(self, lines: list[LineChoice]) -> httpx.Response:
        return declare(self.http, self.media, self.id, "A-1", self.customer, lines).submitted


def _page(http: httpx.Client, url: str) -> httpx.Response:
    parts = urlsplit(url)
    return http.get(f"{parts.path}?{parts.query}")


def test_a_question_and_its_answer_cross_every_service(
    services: RunningServices, smtp_server: SmtpServer
) -> None:
    shop = OwnCustomerShop(services)
    submitted = shop.declare_lines([defective_line()])
    assert submitted.status_code == 201, submitted.text
    return_id = submitted.json()["return_id"]
    api = smtp_server.api_url
    customer = shop.customer

    # The acknowledgement links the status page, which says the merchant will be in touch.
    [acknowledgement] = _with_subject(wait_for_messages_to(api, customer, 1, WAIT), "bien reçu")
    ack = message_detail(api, str(acknowledgement["ID"]))
    status_url = _link(ack["Text"], r"https?://\S+/returns/" + return_id + r"/status\?\S+")
    status = _page(shop.http, status_url)
    assert status.status_code == 200
    assert 'data-status="merchant_will_contact"' in status.text

    # Support asks through the back-office API; the customer gets the question once.
    asked = shop.back_office.post(
        f"/returns/{return_id}/questions", json={"question": QUESTION, "asked_by_name": "Julie"}
    )
    assert asked.status_code == 202, asked.text

    def question_mail() -> dict[str, object] | None:
        found = _with_subject(messages_to(api, customer), "une question sur votre retour")
        return found[0] if found else None

    question_email = eventually(question_mail, WAIT, "the customer's question e-mail")
    question = message_detail(api, str(question_email["ID"]))
    assert QUESTION in question["Text"]
    answer_url = _link(question["Text"], r"https?://\S+/questions/\S+\?exp=\d+&sig=\S+")

    # The customer follows the link and answers with a photo, as the page's form posts it.
    page = _page(shop.http, answer_url)
    assert page.status_code == 200 and QUESTION in html.unescape(page.text)
    csrf = shop.http.cookies.get("csrf")
    assert csrf
    parts = urlsplit(answer_url)
    answered = shop.http.post(
        f"{parts.path}?{parts.query}",
        data={"csrf": csrf, "comment": ANSWER},
        files={"photos": ("label.png", demo_photo(), "image/png")},
    )
    assert answered.status_code == 200, answered.text
    assert "Merci, votre réponse a été transmise" in answered.text
    # Once: the same link now says it was used, and nothing more is recorded.
    again = _page(shop.http, answer_url)
    assert again.status_code == 409

    # Customer service gets the answer with a working link to the new photo.
    def answer_mail() -> dict[str, object] | None:
        found = _with_subject(messages_to(api, shop.customer_service), "Réponse du client")
        return found[0] if found else None

    cs_email = eventually(answer_mail, WAIT, "customer service's answer e-mail")
    detail = message_detail(api, str(cs_email["ID"]))
    assert ANSWER in detail["Text"] and QUESTION in detail["Text"]
    photo_url = _link(detail["Text"], r"https?://\S+/p/\S+/full\?\S+")
    with httpx.Client(timeout=15) as plain:
        photo = plain.get(photo_url)
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"

    # The record shows the exchange in time order, the answer's photo among its links.
    def answered_record() -> dict[str, object] | None:
        record = shop.record(return_id)
        kinds = [step["kind"] for step in record["timeline"]]
        return record if "customer_answered" in kinds else None

    record = eventually(answered_record, WAIT, "the answer on the record")
    steps = record["timeline"]
    assert isinstance(steps, list)
    kinds = [step["kind"] for step in steps]
    assert kinds.index("information_requested") < kinds.index("customer_answered")
    assert [step["at"] for step in steps] == sorted(step["at"] for step in steps)
    # Exactly one question e-mail and one answer e-mail, whatever the redeliveries.
    assert len(_with_subject(messages_to(api, customer), "une question")) == 1
    assert len(_with_subject(messages_to(api, shop.customer_service), "Réponse du client")) == 1
    status = _page(shop.http, status_url)
    assert 'data-status="answer_received"' in status.text
