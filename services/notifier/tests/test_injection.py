"""Hostile text from customers and merchants in the e-mails: the HTML body shows it escaped, the
headers carry it on one line without adding a header, and an address never adds a recipient.

Every assertion reads the message as it would be written to the SMTP server (its bytes), parsed
back the way a mail client would."""

from __future__ import annotations

import email.policy
from datetime import UTC, datetime
from email import message_from_bytes
from email.headerregistry import Address as HeaderAddress
from email.message import EmailMessage

import pytest

from returns_contracts import Address, Branding, Customer
from returns_contracts.examples import merchant_updated, return_submitted
from returns_notifier.adapters import mime, smtp
from returns_notifier.adapters.rendering import JinjaRenderer
from returns_notifier.adapters.smtp import check_written, checked_wire, header_text, to_mime
from returns_notifier.domain.emails import (
    CUSTOMER_SERVICE_DEFECTIVE,
    Mailbox,
    OutgoingEmail,
    customer_service_context,
    sender_for,
    subject_for,
)
from returns_notifier.domain.model import Merchant, PhotoLink
from returns_notifier.service.errors import InvalidRecipient, UnsafeHeaders

NOW = datetime(2026, 3, 2, 9, 31, tzinfo=UTC)
# What a customer or a merchant could type to add a header or a recipient.
HEADER_PAYLOADS = [
    "Léa\r\nBcc: spy@evil.example",
    "Léa\nBcc: spy@evil.example",
    "Léa\rBcc: spy@evil.example",
    "Léa =?utf-8?q?=0D=0ABcc:_spy@evil.example?=",
    "=?utf-8?b?DQpCY2M6IHNweUBldmlsLmV4YW1wbGU=?=",
    "Léa\u2028Bcc: spy@evil.example\u2029",
    "Léa\x00\x0b\x0c\x1b\x85Bcc: spy@evil.example",
    'Léa, "Spy" <spy@evil.example>',
    # Long enough to be folded: Python 3.11 then drops the quotes around the name.
    "Shop, spy@evil.example, " + "x" * 80,
    "Shop <script>alert(1)</script>\" onmouseover=\"alert(2)' onfocus='alert(3) and more text",
]
SET_HEADERS = ["Message-ID", "Date", "From", "To", "Reply-To", "Subject", "MIME-Version"]


def _email(name: str, recipient: str = "sav@atelier.example.com") -> OutgoingEmail:
    return OutgoingEmail(
        message_id="<e1.customer_service_defective@returns.invalid>",
        sender=sender_for("Returns <returns@demo-shop.example>", name),
        recipient=recipient,
        reply_to=Mailbox("lea.dupont@example.com", name),
        subject=subject_for(
            CUSTOMER_SERVICE_DEFECTIVE,
            "fr",
            order_number="CMD-1\r\nBcc: spy@evil.example",
            customer=name,
            merchant=name,
        ),
        text="Bonjour\n",
        html="<p>Bonjour</p>",
    )


def _written(outgoing: OutgoingEmail) -> EmailMessage:
    """The message as the SMTP server receives it (the checked bytes), read back by a mail
    client."""
    parsed = message_from_bytes(checked_wire(outgoing, now=NOW), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


@pytest.mark.parametrize("name", HEADER_PAYLOADS)
def test_a_hostile_name_stays_in_its_header_and_adds_none(name: str) -> None:
    written = _written(_email(name))

    assert sorted(written.keys()) == sorted([*SET_HEADERS, "Content-Type"])
    assert written.get_all("Bcc") is None
    [sender] = written["From"].addresses
    assert sender.addr_spec == "returns@demo-shop.example"
    assert sender.display_name == header_text(name)  # the whole name, in the name
    assert "\r" not in sender.display_name and "\n" not in sender.display_name
    [to] = written["To"].addresses
    assert to.addr_spec == "sav@atelier.example.com"
    [reply_to] = written["Reply-To"].addresses
    assert reply_to.addr_spec == "lea.dupont@example.com"
    assert reply_to.display_name == header_text(name)
    subject = str(written["Subject"])
    assert subject.startswith("[Retour défectueux] Commande CMD-1 Bcc: spy@evil.example - ")
    assert not any(character in subject for character in "\r\n\x00\x0b\x0c\x1b\x85\u2028")
    assert "spy@evil.example" in subject  # the text is shown, harmlessly, not dropped


def test_header_text_keeps_ordinary_names_as_they_are() -> None:
    assert header_text("L'Atelier d'Émilie & Fils (Lyon) <3") == (
        "L'Atelier d'Émilie & Fils (Lyon) <3"
    )
    assert header_text("a =?utf-8?q?x?= b") == "a = ?utf-8?q?x?= b"
    assert header_text(" Zoë\t\u202eevil ") == "Zoë evil"


@pytest.mark.parametrize(
    "recipient",
    [
        "sav@atelier.example.com, spy@evil.example",
        "sav@atelier.example.com;spy@evil.example",
        "Spy <spy@evil.example>",
        '"Spy" <spy@evil.example>',
        "sav@atelier.example.com\r\nBcc: spy@evil.example",
        "sav@atelier.example.com spy@evil.example",
    ],
)
def test_a_recipient_that_is_not_one_plain_address_is_refused(recipient: str) -> None:
    with pytest.raises(InvalidRecipient):
        to_mime(_email("Léa", recipient=recipient), now=NOW)


def test_headers_or_mailboxes_added_by_a_value_are_caught_before_sending() -> None:
    # What Python's e-mail package writes for values it was handed raw: the guard of last resort.
    message = EmailMessage()
    message["From"] = "returns@demo-shop.example"
    message["Subject"] = "=?utf-8?q?=0D=0ABcc:_spy@evil.example?="
    sender = [("returns@demo-shop.example", "")]
    with pytest.raises(UnsafeHeaders):
        check_written(message.as_bytes(policy=email.policy.SMTP), {"From": sender, "Subject": None})

    folded = EmailMessage()
    name = "Shop, spy@evil.example, " + "x" * 80
    folded["Reply-To"] = HeaderAddress(display_name=name, addr_spec="cs@shop.example")
    reply_to = {"Reply-To": [("cs@shop.example", name)]}
    with pytest.raises(UnsafeHeaders):  # folded by the SMTP policy: three addresses
        check_written(folded.as_bytes(policy=email.policy.SMTP), reply_to)
    ours = mime.header("Reply-To", [mime.mailbox("cs@shop.example", name)])
    check_written(ours.encode("ascii") + b"\r\n\r\n", reply_to)  # our writer's: one


def test_the_written_message_is_checked_even_if_a_value_escaped_header_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The read-back is the guard of last resort: were `header_text` to let a line break
    # through, the header it would add is caught before anything is sent.
    monkeypatch.setattr(smtp, "header_text", lambda value, limit=200: value)
    with pytest.raises(UnsafeHeaders):
        checked_wire(_email("Shop\r\nBcc: spy@evil.example"), now=NOW)


def test_the_html_body_escapes_every_text_and_drops_unsafe_links() -> None:
    hostile = '<script>alert(1)</script>" onmouseover="alert(2)'
    snapshot = merchant_updated().payload.model_copy(
        update={
            "name": f"Atelier {hostile}",
            "branding": Branding(logo_url="javascript:alert(3)", signature=f"Sig {hostile}"),
        }
    )
    merchant = Merchant.from_snapshot("m-atelier", snapshot)
    payload = return_submitted(defective=True).payload
    customer = Customer(
        name=f"Léa {hostile}",
        email="lea?bcc=spy@evil.example",
        phone=hostile,
        address=Address(line1=hostile, postal_code="69002", city=hostile, country="FR"),
    )
    items = [
        item.model_copy(update={"comment": f"Cassé {hostile}", "reason_label": f"Abîmé {hostile}"})
        for item in payload.items
    ]
    payload = payload.model_copy(
        update={
            "customer": customer,
            "items": items,
            "back_office_url": "javascript:alert(4)",
        }
    )
    photos = {
        media_id: PhotoLink(media_id, "javascript:alert(5)", "data:text/html,<script>")
        for item in payload.items
        for media_id in item.media_ids
    }
    context = customer_service_context(payload, merchant, "fr", photos)

    body = JinjaRenderer().render(CUSTOMER_SERVICE_DEFECTIVE, "fr", context)

    assert "<script" not in body.html
    assert '" onmouseover="' not in body.html
    assert "javascript:" not in body.html and "data:text" not in body.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34; onmouseover=&#34;alert(2)" in body.html
    for shown in ("Léa", "Cassé", "Abîmé", "Atelier", "Sig"):
        assert f"{shown} &lt;script&gt;" in body.html
    # The customer's address is one mailto recipient: its "?" cannot start a bcc= query.
    assert 'href="mailto:lea%3Fbcc%3Dspy%40evil.example"' in body.html
    # The plain-text part shows what was typed, as typed: it is never interpreted.
    assert f"Cassé {hostile}" in body.text
