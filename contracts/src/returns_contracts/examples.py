"""Valid sample messages, for the tests of any service and for documentation.

Every factory returns a fresh message with fixed, readable values; keyword arguments change the
few values tests usually vary.
"""

from datetime import UTC, date, datetime
from uuid import UUID

from returns_contracts.envelope import Locale, Message
from returns_contracts.information import (
    CustomerAnswered,
    CustomerAnsweredPayload,
    InformationRequested,
    InformationRequestedPayload,
)
from returns_contracts.messages import (
    Actor,
    Address,
    Branding,
    Customer,
    LabelGenerated,
    LabelGeneratedPayload,
    LabelRejected,
    LabelRejectedPayload,
    LabelRequested,
    LabelRequestedPayload,
    MerchantUpdated,
    MerchantUpdatedPayload,
    NotificationSent,
    NotificationSentPayload,
    Reason,
    ReturnedItem,
    ReturnSubmitted,
    ReturnSubmittedPayload,
)
from returns_contracts.resolution import ResolutionKind, ReturnResolved, ReturnResolvedPayload

MERCHANT_ID = "m-atelier"
RETURN_ID = "r-000123"
SUBMITTED_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

WAREHOUSE = Address(
    name="L'Atelier - retours",
    line1="12 rue des Entrepôts",
    postal_code="69007",
    city="Lyon",
    country="FR",
)
BACK_OFFICE_USER = Actor(kind="user", id="u-42", display_name="Camille Martin")


def classic_item(line_id: str = "line-1") -> ReturnedItem:
    return ReturnedItem(
        line_id=line_id,
        sku="TSHIRT-BLUE-M",
        name="T-shirt bleu M",
        quantity=1,
        reason_code="too_small",
        reason_label="Trop petit",
        defective=False,
        return_type="exchange",
    )


def defective_item(line_id: str = "line-2") -> ReturnedItem:
    return ReturnedItem(
        line_id=line_id,
        sku="MUG-RED",
        name="Mug rouge",
        quantity=2,
        reason_code="broken",
        reason_label="Arrivé cassé",
        defective=True,
        comment="L'anse est cassée et le carton était écrasé.",
        media_ids=["media-1", "media-2"],
    )


def return_submitted(
    *,
    defective: bool = False,
    merchant_id: str = MERCHANT_ID,
    return_id: str = RETURN_ID,
    locale: Locale = "fr",
) -> ReturnSubmitted:
    """A classic one-line return, or, with `defective=True`, a classic and a defective line."""
    items = [classic_item(), defective_item()] if defective else [classic_item()]
    return ReturnSubmitted(
        merchant_id=merchant_id,
        producer="declaration",
        occurred_at=SUBMITTED_AT,
        payload=ReturnSubmittedPayload(
            return_id=return_id,
            order_number="CMD-2026-0042",
            order_date=date(2026, 2, 20),
            submitted_at=SUBMITTED_AT,
            locale=locale,
            defective=defective,
            customer=Customer(
                name="Léa Dupont",
                email="lea.dupont@example.com",
                phone="+33 6 12 34 56 78",
                address=Address(
                    line1="3 place Bellecour", postal_code="69002", city="Lyon", country="FR"
                ),
            ),
            items=items,
            back_office_url=f"https://backoffice.example.com/returns/{return_id}",
            status_url=f"https://portal.example.com/portal/{merchant_id}/returns/{return_id}"
            "/status?exp=1775000000&sig=demo",
        ),
    )


QUESTION_ID = "q-0001"
QUESTION = "Pourriez-vous envoyer une photo de l'étiquette sous le mug ?"
ASKED_AT = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)


def information_requested(
    *, merchant_id: str = MERCHANT_ID, return_id: str = RETURN_ID, question_id: str = QUESTION_ID
) -> InformationRequested:
    return InformationRequested(
        merchant_id=merchant_id,
        producer="declaration",
        occurred_at=ASKED_AT,
        payload=InformationRequestedPayload(
            return_id=return_id,
            question_id=question_id,
            question=QUESTION,
            asked_by=BACK_OFFICE_USER,
            answer_url=f"https://portal.example.com/portal/{merchant_id}/returns/{return_id}"
            f"/questions/{question_id}?exp=1773050400&sig=demo",
            answer_by=datetime(2026, 3, 10, 10, 0, tzinfo=UTC),
        ),
    )


def customer_answered(
    *, merchant_id: str = MERCHANT_ID, return_id: str = RETURN_ID, question_id: str = QUESTION_ID
) -> CustomerAnswered:
    return CustomerAnswered(
        merchant_id=merchant_id,
        producer="declaration",
        occurred_at=datetime(2026, 3, 3, 18, 15, tzinfo=UTC),
        payload=CustomerAnsweredPayload(
            return_id=return_id,
            question_id=question_id,
            question=QUESTION,
            comment="Voici l'étiquette : le numéro de lot est visible sur la deuxième photo.",
            media_ids=["media-3", "media-4"],
            answered_at=datetime(2026, 3, 3, 18, 15, tzinfo=UTC),
            back_office_url=f"https://backoffice.example.com/returns/{return_id}",
        ),
    )


def label_requested(
    *, merchant_id: str = MERCHANT_ID, return_id: str = RETURN_ID, regenerate: bool = False
) -> LabelRequested:
    return LabelRequested(
        merchant_id=merchant_id,
        producer="declaration",
        payload=LabelRequestedPayload(
            return_id=return_id, requested_by=BACK_OFFICE_USER, regenerate=regenerate
        ),
    )


def label_generated(
    *, merchant_id: str = MERCHANT_ID, return_id: str = RETURN_ID, requested: bool = False
) -> LabelGenerated:
    """The automatic label of a classic return, or one requested from the back-office."""
    return LabelGenerated(
        merchant_id=merchant_id,
        producer="labels",
        payload=LabelGeneratedPayload(
            return_id=return_id,
            label_id="lbl-0001",
            tracking_number="6A12345678901",
            carrier="colissimo",
            download_url=f"https://labels.example.com/{return_id}/lbl-0001.pdf",
            regenerated=False,
            requested_by=BACK_OFFICE_USER if requested else None,
        ),
    )


def label_rejected(*, merchant_id: str = MERCHANT_ID, return_id: str = RETURN_ID) -> LabelRejected:
    return LabelRejected(
        merchant_id=merchant_id,
        producer="labels",
        payload=LabelRejectedPayload(
            return_id=return_id,
            reason="unknown_return",
            detail=f"no return {return_id} for merchant {merchant_id}",
            requested_by=BACK_OFFICE_USER,
        ),
    )


def notification_sent(
    *,
    merchant_id: str = MERCHANT_ID,
    return_id: str = RETURN_ID,
    caused_by_event_id: UUID | None = None,
) -> NotificationSent:
    return NotificationSent(
        merchant_id=merchant_id,
        producer="notifier",
        payload=NotificationSentPayload(
            return_id=return_id,
            template="customer_service_defective",
            recipient="sav@atelier.example.com",
            message_id="<20260302093001.1@notifier.example.com>",
            caused_by_event_id=caused_by_event_id or UUID("6f1c1c1e-2b1a-4c55-9d0e-0a3c2b1d4e5f"),
        ),
    )


def merchant_updated(*, merchant_id: str = MERCHANT_ID, revision: int = 1) -> MerchantUpdated:
    return MerchantUpdated(
        merchant_id=merchant_id,
        producer="declaration",
        payload=MerchantUpdatedPayload(
            revision=revision,
            name="L'Atelier",
            locale="fr",
            customer_service_email="sav@atelier.example.com",
            return_window_days=30,
            return_types=["refund", "exchange"],
            reasons=[
                Reason(
                    code="too_small",
                    label_fr="Trop petit",
                    label_en="Too small",
                    defective=False,
                ),
                Reason(
                    code="broken",
                    label_fr="Arrivé cassé",
                    label_en="Arrived broken",
                    defective=True,
                ),
                Reason(
                    code="changed_mind",
                    label_fr="Changement d'avis",
                    label_en="Changed my mind",
                    defective=False,
                    retired=True,
                ),
            ],
            return_address=WAREHOUSE,
            branding=Branding(
                logo_url="https://atelier.example.com/logo.png", signature="L'équipe"
            ),
            back_office_base_url="https://backoffice.example.com",
        ),
    )


RESOLVED_AT = datetime(2026, 3, 3, 14, 5, tzinfo=UTC)


def return_resolved(
    *,
    resolution: ResolutionKind = "refund_without_return",
    note: str | None = "Nous vous remboursons ; inutile de nous renvoyer le mug.",
    merchant_id: str = MERCHANT_ID,
    return_id: str = RETURN_ID,
) -> ReturnResolved:
    """Support's decision on the defective return of `return_submitted(defective=True)`."""
    return ReturnResolved(
        merchant_id=merchant_id,
        producer="declaration",
        occurred_at=RESOLVED_AT,
        payload=ReturnResolvedPayload(
            return_id=return_id,
            resolution=resolution,
            note=note,
            resolved_by=BACK_OFFICE_USER,
            resolved_at=RESOLVED_AT,
        ),
    )


def all_examples() -> list[Message]:
    """One message of every type, the defective and classic returns both."""
    return [
        return_submitted(),
        return_submitted(defective=True, return_id="r-000124"),
        label_requested(),
        label_generated(),
        label_generated(requested=True),
        label_rejected(),
        notification_sent(),
        merchant_updated(),
        return_resolved(),
        information_requested(),
        customer_answered(),
    ]
