"""The notifier's own copies: each merchant (to address and brand e-mails) and each return (so a
later label e-mail knows whom to write to and in which language)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from returns_contracts import Locale, MerchantUpdatedPayload, ReturnSubmittedPayload


@dataclass(frozen=True, slots=True)
class Merchant:
    merchant_id: str
    revision: int
    name: str
    locale: Locale
    customer_service_email: str
    logo_url: str | None = None
    signature: str | None = None

    @classmethod
    def from_snapshot(cls, merchant_id: str, snapshot: MerchantUpdatedPayload) -> Merchant:
        branding = snapshot.branding
        return cls(
            merchant_id=merchant_id,
            revision=snapshot.revision,
            name=snapshot.name,
            locale=snapshot.locale,
            customer_service_email=snapshot.customer_service_email,
            logo_url=None if branding is None else branding.logo_url,
            signature=None if branding is None else branding.signature,
        )


def is_newer(incoming_revision: int, stored_revision: int | None) -> bool:
    """Whether a merchant snapshot replaces the stored one: only a strictly newer revision does.

    An equal revision is a redelivery; an older one arrived late and must not undo a change.
    """
    return stored_revision is None or incoming_revision > stored_revision


@dataclass(frozen=True, slots=True)
class ReturnRecord:
    """What the notifier keeps of a submitted return, for the e-mails that come after it."""

    return_id: str
    merchant_id: str
    order_number: str
    locale: Locale
    customer_name: str
    customer_email: str
    status_url: str | None = None
    """The customer's signed link to the return's status page (issue 15); records saved before
    it existed have none."""

    @classmethod
    def from_payload(cls, merchant_id: str, payload: ReturnSubmittedPayload) -> ReturnRecord:
        return cls(
            return_id=payload.return_id,
            merchant_id=merchant_id,
            order_number=payload.order_number,
            locale=payload.locale,
            customer_name=payload.customer.name,
            customer_email=payload.customer.email,
            status_url=payload.status_url,
        )


@dataclass(frozen=True, slots=True)
class PhotoLink:
    """A photo as media describes it: signed links to the image and its thumbnail."""

    photo_id: str
    url: str
    thumbnail_url: str
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class InlineImage:
    """An image carried inside the e-mail and shown by `cid:` reference: mail clients that
    block remote images still show it, and it outlives the expiry of the signed links."""

    content_id: str
    content_type: str
    data: bytes
