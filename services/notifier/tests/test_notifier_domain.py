"""The notifier's rules: which e-mails a return calls for, their identity, subject and steps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID

import pytest

from returns_contracts.examples import return_submitted
from returns_notifier.domain.emails import (
    CUSTOMER_SERVICE_DEFECTIVE,
    EmailIntent,
    SentEmail,
    customer_service_context,
    email_key,
    intents_for_return_submitted,
    is_deliverable_address,
    message_id_for,
    next_step,
    notification_event_id,
    safe_link,
    subject_for,
)
from returns_notifier.domain.model import is_newer

EVENT_ID = UUID("11111111-2222-4333-8444-555555555555")
NOW = datetime(2026, 3, 2, 9, 31, tzinfo=UTC)


def test_a_defective_return_calls_for_one_email_to_customer_service() -> None:
    payload = return_submitted(defective=True).payload

    assert intents_for_return_submitted(payload) == [
        EmailIntent(CUSTOMER_SERVICE_DEFECTIVE, "customer_service")
    ]


def test_a_classic_return_calls_for_no_email_yet() -> None:
    assert intents_for_return_submitted(return_submitted(defective=False).payload) == []


def test_an_email_is_identified_by_its_event_and_template() -> None:
    assert email_key(EVENT_ID, "t") == f"{EVENT_ID}:t"
    assert message_id_for(EVENT_ID, "t", "mail.example") == f"<{EVENT_ID}.t@mail.example>"
    assert notification_event_id(EVENT_ID, "t") == notification_event_id(EVENT_ID, "t")
    assert notification_event_id(EVENT_ID, "t") != notification_event_id(EVENT_ID, "u")


@pytest.mark.parametrize(
    ("revision", "stored", "expected"),
    [(1, None, True), (3, 2, True), (2, 2, False), (1, 2, False)],
)
def test_only_a_strictly_newer_merchant_revision_replaces_the_stored_one(
    revision: int, stored: int | None, expected: bool
) -> None:
    assert is_newer(revision, stored) is expected


_SENDING = SentEmail(
    key=email_key(EVENT_ID, CUSTOMER_SERVICE_DEFECTIVE),
    event_id=EVENT_ID,
    template=CUSTOMER_SERVICE_DEFECTIVE,
    merchant_id="m-atelier",
    return_id="r-1",
    recipient="sav@atelier.example.com",
    message_id="<x@y.z>",
    status="sending",
    created_at=NOW,
)


def test_next_step_of_a_recorded_email() -> None:
    sent = replace(_SENDING, status="sent", sent_at=NOW)

    assert next_step(_SENDING) == "send"
    assert next_step(sent) == "publish"
    assert next_step(replace(sent, published_at=NOW)) == "done"


def test_subject_in_french_and_in_english() -> None:
    payload = return_submitted(defective=True).payload
    payload = payload.model_copy(
        update={
            "order_number": "DEMO-1001",
            "customer": payload.customer.model_copy(update={"name": "Camille Martin"}),
        }
    )

    assert (
        subject_for(CUSTOMER_SERVICE_DEFECTIVE, "fr", payload)
        == "[Retour défectueux] Commande DEMO-1001 - Camille Martin"
    )
    assert (
        subject_for(CUSTOMER_SERVICE_DEFECTIVE, "en", payload)
        == "[Defective return] Order DEMO-1001 - Camille Martin"
    )


def test_a_subject_never_carries_a_line_break() -> None:
    payload = return_submitted(defective=True).payload
    payload = payload.model_copy(
        update={"customer": payload.customer.model_copy(update={"name": "Eve\r\nBcc: x@y.z"})}
    )

    subject = subject_for(CUSTOMER_SERVICE_DEFECTIVE, "en", payload)

    assert "\n" not in subject and "\r" not in subject
    assert subject.endswith("Eve Bcc: x@y.z")


@pytest.mark.parametrize(
    ("address", "deliverable"),
    [
        ("sav@atelier.example.com", True),
        ("first.last+returns@shop.co.uk", True),
        ("sav@localhost", False),
        ("not-an-address", False),
        ("a@b@c.example", False),
        ("sav@-bad.example", False),
        ("with space@shop.example", False),
        ("a" * 250 + "@shop.example", False),
    ],
)
def test_deliverable_addresses(address: str, deliverable: bool) -> None:
    assert is_deliverable_address(address) is deliverable


def test_only_http_links_are_kept() -> None:
    assert safe_link("https://bo.example/r/1") == "https://bo.example/r/1"
    assert safe_link("javascript:alert(1)") is None
    assert safe_link(None) is None


def test_the_context_formats_dates_by_locale_and_lists_every_item() -> None:
    payload = return_submitted(defective=True).payload

    french = customer_service_context(payload, "L'Atelier", "fr")
    english = customer_service_context(payload, "L'Atelier", "en")

    assert french["order_date"] == "20/02/2026"
    assert english["order_date"] == "2026-02-20"
    assert french["submitted_at"] == "02/03/2026 à 09:30 UTC"
    items = english["items"]
    assert isinstance(items, list)
    assert [item["reason_label"] for item in items] == ["Trop petit", "Arrivé cassé"]
    assert items[1]["media_ids"] == ["media-1", "media-2"]
