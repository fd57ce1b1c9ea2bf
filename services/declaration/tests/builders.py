from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from returns_declaration.domain.model import (
    Customer,
    Draft,
    DraftLine,
    Merchant,
    Order,
    OrderLine,
    Reason,
    Return,
    ReturnLine,
)

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def merchant(locale: str = "fr", window_days: int = 30, merchant_id: str = "shop") -> Merchant:
    return Merchant.model_validate(
        {
            "id": merchant_id,
            "name": "Shop",
            "locale": locale,
            "customer_service_email": "cs@shop.example",
            "return_window_days": window_days,
            "return_types": ["refund", "exchange"],
            "reasons": [
                Reason(code="damaged", label_fr="Abîmé", label_en="Damaged", defective=True),
                Reason(code="too_big", label_fr="Trop grand", label_en="Too big"),
                Reason(code="old", label_fr="Ancien", label_en="Old", retired=True),
            ],
        }
    )


def order(
    ordered_on: date = date(2026, 11, 20), merchant_id: str = "shop", number: str = "A-1"
) -> Order:
    return Order(
        merchant_id=merchant_id,
        number=number,
        ordered_on=ordered_on,
        customer=Customer(name="Ana", email="Ana@Example.com"),
        lines=(
            OrderLine(line_id="1", sku="MUG", name="Mug", quantity=3, unit_price_cents=900),
            OrderLine(line_id="2", sku="TEE", name="Tee", quantity=1, unit_price_cents=1900),
        ),
    )


DEFECTIVE_LINE = DraftLine(
    line_id="1",
    quantity=1,
    reason_code="damaged",
    comment="  Cracked handle, see photo.  ",
    photo_ids=("p1",),
)
CLASSIC_LINE = DraftLine(line_id="2", quantity=1, reason_code="too_big", return_type="refund")


def draft(*lines: DraftLine, draft_id: str = "d1") -> Draft:
    return Draft(
        id=draft_id,
        merchant_id="shop",
        order_number="A-1",
        lines=lines,
        created_at=NOW,
        expires_at=NOW + timedelta(hours=24),
    )


def returned(
    merchant_id: str,
    n: int,
    defective: bool = False,
    *,
    order_number: str | None = None,
    submitted_at: datetime | None = None,
) -> Return:
    """The `n`-th return of a merchant, one mug, submitted `n` minutes after NOW; a fresh id."""
    return Return(
        id=f"r-{merchant_id}-{n}-{uuid.uuid4().hex[:6]}",
        merchant_id=merchant_id,
        order_number=order_number or f"A-{n}",
        ordered_on=NOW.date(),
        customer=Customer(name="Ana", email="ana@example.com"),
        locale="en",
        lines=(
            ReturnLine(
                line_id="1",
                sku="MUG",
                name="Mug",
                quantity=1,
                reason_code="damaged" if defective else "too_big",
                reason_label="r",
                defective=defective,
                return_type=None if defective else "refund",
                comment=None,
                media_ids=(),
            ),
        ),
        submitted_at=submitted_at or NOW + timedelta(minutes=n),
    )
