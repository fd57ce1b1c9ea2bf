"""Which e-mails a message causes, how each is named and worded, and when it is sent.

An e-mail is identified by the message that caused it and its template: at most one e-mail per
(event_id, template), whatever the redeliveries. Its Message-ID is derived from that identity,
so a resend after a crash carries the same Message-ID and mail clients show one e-mail.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from uuid import UUID

from returns_contracts import Address, Locale, ReturnSubmittedPayload

CUSTOMER_SERVICE_DEFECTIVE = "customer_service_defective"
"""To the merchant's customer service, about a defective return (R9)."""

TEMPLATES: frozenset[str] = frozenset({CUSTOMER_SERVICE_DEFECTIVE})

RecipientRole = Literal["customer_service", "customer"]
SendStatus = Literal["sending", "sent"]
NextStep = Literal["send", "publish", "done"]

# Fixed namespace: the NotificationSent about one e-mail always has the same event_id, so a
# republish after a crash is a duplicate its consumers drop.
_NOTIFICATION_NAMESPACE = uuid.UUID("5d0f1b7e-9a43-4f0e-8f55-2b6c1e7a9c31")

_SUBJECTS: Mapping[tuple[str, Locale], str] = {
    (CUSTOMER_SERVICE_DEFECTIVE, "fr"): "[Retour défectueux] Commande {order_number} - {customer}",
    (CUSTOMER_SERVICE_DEFECTIVE, "en"): "[Defective return] Order {order_number} - {customer}",
}

# Deliberately narrower than RFC 5321: ASCII addresses with a dotted domain. Anything else is
# refused before it reaches the SMTP server, where it would fail on every retry.
_ADDRESS = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_MAX_ADDRESS_LENGTH = 254


@dataclass(frozen=True, slots=True)
class EmailIntent:
    """An e-mail a message calls for, before its recipient is resolved."""

    template: str
    recipient: RecipientRole


def intents_for_return_submitted(payload: ReturnSubmittedPayload) -> list[EmailIntent]:
    """A defective return tells customer service, once (R9); a classic one sends nothing yet.

    The customer's acknowledgement (R9) and label e-mail (R10) come with later messages.
    """
    if payload.defective:
        return [EmailIntent(CUSTOMER_SERVICE_DEFECTIVE, "customer_service")]
    return []


def email_key(event_id: UUID, template: str) -> str:
    """The identity of one e-mail: the message that caused it and its template."""
    return f"{event_id}:{template}"


def message_id_for(event_id: UUID, template: str, domain: str) -> str:
    """The e-mail's Message-ID header, the same on every attempt."""
    return f"<{event_id}.{template}@{domain}>"


def notification_event_id(event_id: UUID, template: str) -> UUID:
    """The event_id of the NotificationSent about this e-mail, the same on every attempt."""
    return uuid.uuid5(_NOTIFICATION_NAMESPACE, email_key(event_id, template))


def is_deliverable_address(address: str) -> bool:
    return len(address) <= _MAX_ADDRESS_LENGTH and _ADDRESS.match(address) is not None


def one_line(text: str) -> str:
    """Collapse whitespace, line breaks included: header values must not contain any."""
    return " ".join(text.split())


def subject_for(template: str, locale: Locale, payload: ReturnSubmittedPayload) -> str:
    wording = _SUBJECTS[(template, locale)]
    return one_line(
        wording.format(order_number=payload.order_number, customer=payload.customer.name)
    )


@dataclass(frozen=True, slots=True)
class Mailbox:
    address: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One e-mail, ready for the SMTP adapter."""

    message_id: str
    sender: str
    """The From header, e.g. `Returns <returns@demo-shop.example>`."""
    recipient: str
    reply_to: Mailbox | None
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class SentEmail:
    """What the notifier records about one e-mail, written before it is handed to SMTP."""

    key: str
    event_id: UUID
    template: str
    merchant_id: str
    return_id: str
    recipient: str
    message_id: str
    status: SendStatus
    created_at: datetime
    sent_at: datetime | None = None
    published_at: datetime | None = None


def next_step(record: SentEmail) -> NextStep:
    """What remains to do for a recorded e-mail.

    "sending" means an earlier attempt may or may not have reached the server (a crash between
    the two writes): send again, with the same Message-ID. "sent" without `published_at` means
    the NotificationSent may not have left: publish it (again). Otherwise there is nothing to do.
    """
    if record.status == "sending":
        return "send"
    if record.published_at is None:
        return "publish"
    return "done"


# --- What the templates show -----------------------------------------------------------------


def _format_date(value: date, locale: Locale) -> str:
    return value.strftime("%d/%m/%Y") if locale == "fr" else value.isoformat()


def _format_datetime(value: datetime, locale: Locale) -> str:
    if locale == "fr":
        return value.strftime("%d/%m/%Y à %H:%M UTC")
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _address_lines(address: Address | None) -> list[str]:
    if address is None:
        return []
    lines = [address.name, address.line1, address.line2]
    lines.append(f"{address.postal_code} {address.city}")
    lines.append(address.country)
    return [line for line in lines if line]


def safe_link(url: str | None) -> str | None:
    """A URL fit for an href: http(s) only, so a payload cannot smuggle `javascript:` in."""
    if url is None:
        return None
    stripped = url.strip()
    return stripped if stripped.lower().startswith(("https://", "http://")) else None


def customer_service_context(
    payload: ReturnSubmittedPayload, merchant_name: str, locale: Locale
) -> dict[str, object]:
    """The values the customer-service e-mail shows: plain data, formatted for `locale`."""
    customer = payload.customer
    return {
        "merchant_name": merchant_name,
        "return_id": payload.return_id,
        "order_number": payload.order_number,
        "order_date": None
        if payload.order_date is None
        else _format_date(payload.order_date, locale),
        "submitted_at": _format_datetime(payload.submitted_at, locale),
        "customer": {
            "name": customer.name,
            "email": customer.email,
            "phone": customer.phone,
            "address_lines": _address_lines(customer.address),
        },
        "items": [
            {
                "name": item.name,
                "sku": item.sku,
                "quantity": item.quantity,
                "reason_label": item.reason_label,
                "defective": item.defective,
                "comment": item.comment,
                "media_ids": list(item.media_ids),
            }
            for item in payload.items
        ],
        "back_office_url": safe_link(payload.back_office_url),
    }
