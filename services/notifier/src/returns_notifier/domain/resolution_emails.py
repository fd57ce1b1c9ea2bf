"""The customer's e-mail about the merchant's resolution of a defective return (issue 15).

One e-mail per ReturnResolved, to the customer, in the return's language (the merchant's, as
every e-mail about the return). A `label` resolution sends none of its own: its LabelRequested
makes a label, and the label e-mail (CUSTOMER_LABEL, with the PDF attached) is the one the
customer gets, so they never receive two e-mails for one decision.
"""

from __future__ import annotations

from collections.abc import Mapping

from returns_contracts import Locale, ResolutionKind, ReturnResolvedPayload
from returns_notifier.domain.links import safe_link
from returns_notifier.domain.model import Merchant, ReturnRecord

CUSTOMER_RESOLUTION = "customer_resolution"
"""To the customer: what the merchant decided for their defective return."""

SENT_BY_THE_LABEL_EMAIL: frozenset[ResolutionKind] = frozenset({"label"})
"""Resolutions whose customer e-mail is the label e-mail (sent on LabelGenerated)."""

RESOLUTION_SUBJECTS: Mapping[tuple[str, Locale], str] = {
    (
        CUSTOMER_RESOLUTION,
        "fr",
    ): "{merchant} : suite donnée à votre retour (commande {order_number})",
    (CUSTOMER_RESOLUTION, "en"): "{merchant}: what happens with your return (order {order_number})",
}


def resolution_email_templates(payload: ReturnResolvedPayload) -> list[str]:
    """The e-mails a resolution calls for: one to the customer, except for a label."""
    if payload.resolution in SENT_BY_THE_LABEL_EMAIL:
        return []
    return [CUSTOMER_RESOLUTION]


def resolution_context(
    record: ReturnRecord, payload: ReturnResolvedPayload, merchant: Merchant
) -> dict[str, object]:
    """The values of the resolution e-mail; the template words each resolution."""
    note = (payload.note or "").strip()
    return {
        "customer_name": record.customer_name,
        "order_number": record.order_number,
        "resolution": payload.resolution,
        "note_lines": note.splitlines() if note else [],
        "customer_service_email": merchant.customer_service_email,
        "status_url": safe_link(record.status_url),
    }
