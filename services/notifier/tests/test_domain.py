"""The notifier's rules: which e-mails a return calls for, their identity, subject and steps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from uuid import UUID

import pytest

from returns_contracts.examples import merchant_updated, return_submitted
from returns_notifier.domain.emails import (
    CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT,
    CUSTOMER_RETURN_CONFIRMATION,
    CUSTOMER_SERVICE_DEFECTIVE,
    EmailIntent,
    SentEmail,
    customer_service_context,
    email_key,
    intents_for_return_submitted,
    is_deliverable_address,
    label_filename,
    message_id_for,
    next_step,
    notification_event_id,
    photo_ids_of,
    safe_link,
    sender_for,
    subject_for,
)
from returns_notifier.domain.model import Merchant, PhotoLink, is_newer

EVENT_ID = UUID("11111111-2222-4333-8444-555555555555")
NOW = datetime(2026, 3, 2, 9, 31, tzinfo=UTC)


MERCHANT = Merchant.from_snapshot("m-atelier", merchant_updated().payload)


def test_a_defective_return_acknowledges_the_customer_and_tells_customer_service() -> None:
    payload = return_submitted(defective=True).payload

    assert intents_for_return_submitted(payload) == [
        EmailIntent(CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT, "customer"),
        EmailIntent(CUSTOMER_SERVICE_DEFECTIVE, "customer_service"),
    ]


def test_a_classic_return_is_confirmed_to_the_customer() -> None:
    assert intents_for_return_submitted(return_submitted(defective=False).payload) == [
        EmailIntent(CUSTOMER_RETURN_CONFIRMATION, "customer")
    ]


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
    values = {"order_number": "DEMO-1001", "customer": "Camille Martin", "merchant": "Demo"}

    assert (
        subject_for(CUSTOMER_SERVICE_DEFECTIVE, "fr", **values)
        == "[Retour défectueux] Commande DEMO-1001 - Camille Martin"
    )
    assert (
        subject_for(CUSTOMER_SERVICE_DEFECTIVE, "en", **values)
        == "[Defective return] Order DEMO-1001 - Camille Martin"
    )
    assert (
        subject_for(CUSTOMER_RETURN_CONFIRMATION, "en", **values)
        == "Demo: your return is confirmed (order DEMO-1001)"
    )


def test_a_subject_never_carries_a_line_break() -> None:
    subject = subject_for(
        CUSTOMER_SERVICE_DEFECTIVE,
        "en",
        order_number="A-1",
        customer="Eve\r\nBcc: x@y.z",
        merchant="Demo",
    )

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


def test_mail_goes_out_under_the_merchants_name_from_the_configured_address() -> None:
    sender = sender_for("Returns <returns@demo-shop.example>", "L'Atelier\n")

    assert (sender.address, sender.name) == ("returns@demo-shop.example", "L'Atelier")


def test_the_label_file_name_is_safe_and_in_the_customers_language() -> None:
    assert label_filename("CMD/2026 42", "fr") == "etiquette-retour-CMD-2026-42.pdf"
    assert label_filename("../..", "en") == "return-label-return.pdf"


def test_every_photo_of_the_return_is_looked_up_once() -> None:
    assert photo_ids_of(return_submitted(defective=True).payload) == ["media-1", "media-2"]


def test_a_photo_media_does_not_know_is_listed_without_a_link() -> None:
    payload = return_submitted(defective=True).payload
    photos = {
        "media-1": PhotoLink(
            "media-1",
            "https://media.example/p/media-1/full?sig=a",
            "https://media.example/p/media-1/thumb?sig=a",
            datetime(2026, 4, 1, 12, 0, tzinfo=UTC),
        )
    }

    context = customer_service_context(payload, MERCHANT, "en", photos)

    items = context["items"]
    assert isinstance(items, list)
    assert items[1]["photos"] == [
        {
            "photo_id": "media-1",
            "url": "https://media.example/p/media-1/full?sig=a",
            "thumbnail_src": "https://media.example/p/media-1/thumb?sig=a",
        },
        {"photo_id": "media-2", "url": None, "thumbnail_src": None},
    ]
    inline = customer_service_context(payload, MERCHANT, "en", photos, {"media-1": "t1@x.y"})
    inline_items = inline["items"]
    assert isinstance(inline_items, list)
    assert inline_items[1]["photos"][0]["thumbnail_src"] == "cid:t1@x.y"
    assert context["photos_expire_at"] == "2026-04-01 12:00 UTC"


def test_the_context_carries_the_merchants_branding() -> None:
    context = customer_service_context(return_submitted(defective=True).payload, MERCHANT, "fr", {})

    assert context["merchant_name"] == "L'Atelier"
    assert context["logo_url"] == "https://atelier.example.com/logo.png"
    assert context["signature_lines"] == ["L'équipe"]


def test_the_context_formats_dates_by_locale_and_lists_every_item() -> None:
    payload = return_submitted(defective=True).payload

    french = customer_service_context(payload, MERCHANT, "fr", {})
    english = customer_service_context(payload, MERCHANT, "en", {})

    assert french["order_date"] == "20/02/2026"
    assert english["order_date"] == "2026-02-20"
    assert french["submitted_at"] == "02/03/2026 à 09:30 UTC"
    items = english["items"]
    assert isinstance(items, list)
    assert [item["reason_label"] for item in items] == ["Trop petit", "Arrivé cassé"]
    assert items[0]["return_type"] == "Exchange"
