"""Which e-mails a message causes, how each is named and worded, and when it is sent.

An e-mail is identified by the message that caused it and its template: at most one e-mail per
(event_id, template), whatever the redeliveries. Its Message-ID is derived from that identity,
so a resend after a crash carries the same Message-ID and mail clients show one e-mail.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parseaddr
from typing import Literal
from uuid import UUID

from returns_contracts import (
    Address,
    LabelGeneratedPayload,
    Locale,
    ReturnSubmittedPayload,
    ReturnType,
)
from returns_notifier.domain.links import safe_link as safe_link
from returns_notifier.domain.model import (
    Attachment,
    InlineImage,
    Merchant,
    PhotoLink,
    ReturnRecord,
)
from returns_notifier.domain.resolution_emails import CUSTOMER_RESOLUTION, RESOLUTION_SUBJECTS

CUSTOMER_SERVICE_DEFECTIVE = "customer_service_defective"
"""To the merchant's customer service, about a defective return (R9)."""
CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT = "customer_defective_acknowledgement"
"""To the customer: the defective return is received, the merchant will get in touch (R9)."""
CUSTOMER_RETURN_CONFIRMATION = "customer_return_confirmation"
"""To the customer: the classic return is confirmed, the label follows (R10)."""
CUSTOMER_LABEL = "customer_label"
"""To the customer: the label, attached and linked (R10, R11)."""
CUSTOMER_INFORMATION_REQUEST = "customer_information_request"
"""To the customer: support's question, with the signed link to answer it (issue 15)."""
CUSTOMER_SERVICE_ANSWER = "customer_service_answer"
"""To the merchant's customer service: the customer's answer and its photos (issue 15)."""

TEMPLATES: frozenset[str] = frozenset(
    {
        CUSTOMER_SERVICE_DEFECTIVE,
        CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT,
        CUSTOMER_RETURN_CONFIRMATION,
        CUSTOMER_LABEL,
        CUSTOMER_RESOLUTION,
        CUSTOMER_INFORMATION_REQUEST,
        CUSTOMER_SERVICE_ANSWER,
    }
)

RecipientRole = Literal["customer_service", "customer"]
SendStatus = Literal["sending", "sent"]
NextStep = Literal["send", "publish", "done"]

# Fixed namespace: the NotificationSent about one e-mail always has the same event_id, so a
# republish after a crash is a duplicate its consumers drop.
_NOTIFICATION_NAMESPACE = uuid.UUID("5d0f1b7e-9a43-4f0e-8f55-2b6c1e7a9c31")

_SUBJECTS: Mapping[tuple[str, Locale], str] = {
    (CUSTOMER_SERVICE_DEFECTIVE, "fr"): "[Retour défectueux] Commande {order_number} - {customer}",
    (CUSTOMER_SERVICE_DEFECTIVE, "en"): "[Defective return] Order {order_number} - {customer}",
    (CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT, "fr"): (
        "{merchant} : nous avons bien reçu votre retour (commande {order_number})"
    ),
    (CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT, "en"): (
        "{merchant}: we received your return (order {order_number})"
    ),
    (CUSTOMER_RETURN_CONFIRMATION, "fr"): (
        "{merchant} : votre retour est confirmé (commande {order_number})"
    ),
    (CUSTOMER_RETURN_CONFIRMATION, "en"): (
        "{merchant}: your return is confirmed (order {order_number})"
    ),
    (CUSTOMER_LABEL, "fr"): "{merchant} : votre étiquette de retour (commande {order_number})",
    (CUSTOMER_LABEL, "en"): "{merchant}: your return label (order {order_number})",
    **RESOLUTION_SUBJECTS,
    (CUSTOMER_INFORMATION_REQUEST, "fr"): (
        "{merchant} : une question sur votre retour (commande {order_number})"
    ),
    (CUSTOMER_INFORMATION_REQUEST, "en"): (
        "{merchant}: a question about your return (order {order_number})"
    ),
    (CUSTOMER_SERVICE_ANSWER, "fr"): "[Réponse du client] Commande {order_number} - {customer}",
    (CUSTOMER_SERVICE_ANSWER, "en"): "[Customer's answer] Order {order_number} - {customer}",
}

_RETURN_TYPES: Mapping[tuple[ReturnType, Locale], str] = {
    ("refund", "fr"): "Remboursement",
    ("refund", "en"): "Refund",
    ("exchange", "fr"): "Échange",
    ("exchange", "en"): "Exchange",
    ("store_credit", "fr"): "Avoir",
    ("store_credit", "en"): "Store credit",
}

# Deliberately narrower than RFC 5321: ASCII addresses with a dotted domain. Anything else is
# refused before it reaches the SMTP server, where it would fail on every retry.
_ADDRESS = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
)
_MAX_ADDRESS_LENGTH = 254
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class EmailIntent:
    """An e-mail a message calls for, before its recipient is resolved."""

    template: str
    recipient: RecipientRole


def intents_for_return_submitted(payload: ReturnSubmittedPayload) -> list[EmailIntent]:
    """A defective return tells customer service and acknowledges the customer (R9); a classic
    one confirms the return to the customer, whose label comes with LabelGenerated (R10).

    The notifier sends them side by side: neither waits for the other, and a broken
    customer-service address does not keep the customer from theirs.
    """
    if payload.defective:
        return [
            EmailIntent(CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT, "customer"),
            EmailIntent(CUSTOMER_SERVICE_DEFECTIVE, "customer_service"),
        ]
    return [EmailIntent(CUSTOMER_RETURN_CONFIRMATION, "customer")]


def intents_for_label_generated() -> list[EmailIntent]:
    return [EmailIntent(CUSTOMER_LABEL, "customer")]


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


def subject_for(
    template: str, locale: Locale, *, order_number: str, customer: str, merchant: str
) -> str:
    wording = _SUBJECTS[(template, locale)]
    return one_line(wording.format(order_number=order_number, customer=customer, merchant=merchant))


@dataclass(frozen=True, slots=True)
class Mailbox:
    address: str
    name: str | None = None


def sender_for(mail_from: str, merchant_name: str) -> Mailbox:
    """The configured sending address, shown under the merchant's name: customers know the
    shop, not this service."""
    _, address = parseaddr(mail_from)
    return Mailbox(address=address or mail_from, name=one_line(merchant_name) or None)


def thumbnail_content_id(event_id: UUID, index: int, domain: str) -> str:
    """The Content-ID of the n-th photo thumbnail of an e-mail, the same on every attempt."""
    return f"thumb-{index}.{event_id}@{domain}"


def label_filename(order_number: str, locale: Locale) -> str:
    stem = "etiquette-retour" if locale == "fr" else "return-label"
    safe_order = _FILENAME_UNSAFE.sub("-", order_number).strip("-.") or "return"
    return f"{stem}-{safe_order}.pdf"


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One e-mail, ready for the SMTP adapter."""

    message_id: str
    sender: Mailbox
    recipient: str
    reply_to: Mailbox | None
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = field(default=())
    inline_images: tuple[InlineImage, ...] = field(default=())


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


def _brand(merchant: Merchant) -> dict[str, object]:
    """What every e-mail shows of the merchant: its name, logo and signature."""
    signature = (merchant.signature or "").strip()
    return {
        "merchant_name": merchant.name,
        "logo_url": safe_link(merchant.logo_url),
        "signature_lines": signature.splitlines() if signature else [],
    }


def with_brand(merchant: Merchant, context: Mapping[str, object]) -> dict[str, object]:
    """`context` with what every e-mail shows of the merchant, for e-mails built elsewhere."""
    return {**_brand(merchant), **context}


def photo_ids_of(payload: ReturnSubmittedPayload) -> list[str]:
    """Every photo of the return, each once, in the order the customer added them."""
    return list(dict.fromkeys(media_id for item in payload.items for media_id in item.media_ids))


def customer_service_context(
    payload: ReturnSubmittedPayload,
    merchant: Merchant,
    locale: Locale,
    photos: Mapping[str, PhotoLink],
    inline_thumbnails: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """The values the customer-service e-mail shows: plain data, formatted for `locale`.

    A photo media does not know (deleted, or another merchant's) is listed by id, without link.
    A thumbnail carried in the e-mail (`inline_thumbnails`: photo id -> Content-ID) is shown
    from there; otherwise from media's signed thumbnail link.
    """
    inline = inline_thumbnails or {}
    customer = payload.customer
    expiries = [photo.expires_at for photo in photos.values() if photo.expires_at is not None]
    return {
        **_brand(merchant),
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
                "return_type": None
                if item.return_type is None
                else _RETURN_TYPES[(item.return_type, locale)],
                "comment": item.comment,
                "photos": [
                    _photo_view(media_id, photos.get(media_id), inline.get(media_id))
                    for media_id in item.media_ids
                ],
            }
            for item in payload.items
        ],
        "photos_expire_at": _format_datetime(min(expiries), locale) if expiries else None,
        "back_office_url": safe_link(payload.back_office_url),
    }


def _photo_view(
    photo_id: str, photo: PhotoLink | None, content_id: str | None
) -> dict[str, object]:
    if photo is None:
        return {"photo_id": photo_id, "url": None, "thumbnail_src": None}
    return {
        "photo_id": photo_id,
        "url": safe_link(photo.url),
        "thumbnail_src": f"cid:{content_id}" if content_id else safe_link(photo.thumbnail_url),
    }


def customer_return_context(
    payload: ReturnSubmittedPayload, merchant: Merchant, locale: Locale
) -> dict[str, object]:
    """The values of the customer's acknowledgement or confirmation of their return."""
    return {
        **_brand(merchant),
        "customer_name": payload.customer.name,
        "order_number": payload.order_number,
        "submitted_at": _format_datetime(payload.submitted_at, locale),
        "customer_service_email": merchant.customer_service_email,
        "status_url": safe_link(payload.status_url),
        # Issue 15: the merchant's setting for mixed returns was on, so the classic lines get
        # their label at once and only the defective ones wait for the merchant.
        "split_mixed": payload.split_mixed,
        "items": [
            {
                "name": item.name,
                "quantity": item.quantity,
                "reason_label": item.reason_label,
                "defective": item.defective,
                "return_type": None
                if item.return_type is None
                else _RETURN_TYPES[(item.return_type, locale)],
                "photo_count": len(item.media_ids),
            }
            for item in payload.items
        ],
    }


def label_context(
    record: ReturnRecord, label: LabelGeneratedPayload, merchant: Merchant
) -> dict[str, object]:
    return {
        **_brand(merchant),
        "customer_name": record.customer_name,
        "order_number": record.order_number,
        "carrier": label.carrier,
        "tracking_number": label.tracking_number,
        "download_url": safe_link(label.download_url),
        "regenerated": label.regenerated,
        "filename": label_filename(record.order_number, record.locale),
        "customer_service_email": merchant.customer_service_email,
        # Item 4 of issue 15: every e-mail about the return links to its status page.
        "status_url": safe_link(record.status_url),
    }
