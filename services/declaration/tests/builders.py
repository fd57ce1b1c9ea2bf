from __future__ import annotations

from datetime import date

from returns_declaration.domain.model import Customer, Merchant, Order, OrderLine, Reason


def merchant(locale: str = "fr", window_days: int = 30) -> Merchant:
    return Merchant.model_validate(
        {
            "id": "shop",
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


def order(ordered_on: date = date(2026, 11, 20)) -> Order:
    return Order(
        merchant_id="shop",
        number="A-1",
        ordered_on=ordered_on,
        customer=Customer(name="Ana", email="Ana@Example.com"),
        lines=(
            OrderLine(line_id="1", sku="MUG", name="Mug", quantity=3, unit_price_cents=900),
            OrderLine(line_id="2", sku="TEE", name="Tee", quantity=1, unit_price_cents=1900),
        ),
    )
