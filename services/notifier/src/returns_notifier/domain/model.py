"""The notifier's own copy of a merchant: what it needs to address and word e-mails."""

from __future__ import annotations

from dataclasses import dataclass

from returns_contracts import Locale, MerchantUpdatedPayload


@dataclass(frozen=True, slots=True)
class Merchant:
    merchant_id: str
    revision: int
    name: str
    locale: Locale
    customer_service_email: str

    @classmethod
    def from_snapshot(cls, merchant_id: str, snapshot: MerchantUpdatedPayload) -> Merchant:
        return cls(
            merchant_id=merchant_id,
            revision=snapshot.revision,
            name=snapshot.name,
            locale=snapshot.locale,
            customer_service_email=snapshot.customer_service_email,
        )


def is_newer(incoming_revision: int, stored_revision: int | None) -> bool:
    """Whether a merchant snapshot replaces the stored one: only a strictly newer revision does.

    An equal revision is a redelivery; an older one arrived late and must not undo a change.
    """
    return stored_revision is None or incoming_revision > stored_revision
