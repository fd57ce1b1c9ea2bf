"""The e-mails of a question to the customer and their answer (issue 15, item 3): who gets
which, and what each shows. Sent once per (event, template) like every other e-mail."""

from __future__ import annotations

from collections.abc import Mapping

from returns_contracts import CustomerAnsweredPayload, InformationRequestedPayload, Locale
from returns_notifier.domain.emails import (
    CUSTOMER_INFORMATION_REQUEST,
    CUSTOMER_SERVICE_ANSWER,
    EmailIntent,
    _brand,
    _format_datetime,
    _photo_view,
)
from returns_notifier.domain.links import safe_link
from returns_notifier.domain.model import Merchant, PhotoLink, ReturnRecord


def intents_for_information_requested() -> list[EmailIntent]:
    return [EmailIntent(CUSTOMER_INFORMATION_REQUEST, "customer")]


def intents_for_customer_answered() -> list[EmailIntent]:
    return [EmailIntent(CUSTOMER_SERVICE_ANSWER, "customer_service")]


def question_context(
    record: ReturnRecord, payload: InformationRequestedPayload, merchant: Merchant, locale: Locale
) -> dict[str, object]:
    """The customer's e-mail: the question, the link to answer it and until when it works."""
    return {
        **_brand(merchant),
        "customer_name": record.customer_name,
        "order_number": record.order_number,
        "question": payload.question,
        "answer_url": safe_link(payload.answer_url),
        "answer_by": _format_datetime(payload.answer_by, locale),
        "customer_service_email": merchant.customer_service_email,
    }


def answer_context(
    record: ReturnRecord,
    payload: CustomerAnsweredPayload,
    merchant: Merchant,
    locale: Locale,
    photos: Mapping[str, PhotoLink],
    inline_thumbnails: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """Customer service's e-mail: the question, the customer's answer, a link (and thumbnail)
    for every new photo, and the return record. A photo media does not know is listed by id."""
    inline = inline_thumbnails or {}
    expiries = [photo.expires_at for photo in photos.values() if photo.expires_at is not None]
    return {
        **_brand(merchant),
        "return_id": record.return_id,
        "order_number": record.order_number,
        "customer": {"name": record.customer_name, "email": record.customer_email},
        "question": payload.question,
        "comment": payload.comment,
        "answered_at": _format_datetime(payload.answered_at, locale),
        "photos": [
            _photo_view(media_id, photos.get(media_id), inline.get(media_id))
            for media_id in payload.media_ids
        ],
        "photos_expire_at": _format_datetime(min(expiries), locale) if expiries else None,
        "back_office_url": safe_link(payload.back_office_url),
    }
