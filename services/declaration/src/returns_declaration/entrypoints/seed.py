"""Load the demo merchant, its reasons and orders through the public back-office API.

Going through the API (rather than writing to MongoDB) means the demo exercises the same path
as a real merchant: validation, the outbox and MerchantUpdated for the other services. The
operator token creates the merchant and issues it a back-office API key, printed once.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from returns_declaration.entrypoints.demo import (
    DEMO_ADMIN_TOKEN,
    DEMO_BACK_OFFICE_PASSWORD,
    DEMO_BACK_OFFICE_USER,
    DEMO_CUSTOMER_EMAIL,
    DEMO_MERCHANT_ID,
    add_back_office_user,
    configure_merchant,
    put_order,
)


def demo_merchant(customer_service_email: str) -> dict[str, Any]:
    return {
        "name": "Demo Shop",
        "locale": "fr",
        "customer_service_email": customer_service_email,
        "return_window_days": 30,
        "return_types": ["refund", "exchange", "store_credit"],
        "return_address": {
            "name": "Demo Shop - Retours",
            "line1": "12 rue des Entrepôts",
            "postal_code": "69007",
            "city": "Lyon",
            "country": "FR",
        },
        "branding": {"signature": "L'équipe Demo Shop"},
    }


DEMO_REASONS: list[dict[str, Any]] = [
    {
        "code": "damaged",
        "label_fr": "Article abîmé à la livraison",
        "label_en": "Item damaged on delivery",
        "defective": True,
    },
    {
        "code": "faulty",
        "label_fr": "Article défectueux",
        "label_en": "Faulty item",
        "defective": True,
    },
    {
        "code": "wrong_size",
        "label_fr": "Taille ne convient pas",
        "label_en": "Wrong size",
        "defective": False,
    },
    {
        "code": "changed_mind",
        "label_fr": "Changement d'avis",
        "label_en": "Changed my mind",
        "defective": False,
    },
]


def demo_orders(today: datetime, base_url: str) -> list[dict[str, Any]]:
    # Product pictures the declaration service serves itself, so the demo needs no shop.
    assets = f"{base_url.rstrip('/')}/static/demo"
    customer = {
        "name": "Camille Martin",
        "email": DEMO_CUSTOMER_EMAIL,
        "phone": "+33 6 12 34 56 78",
        "address": {
            "line1": "3 place Bellecour",
            "postal_code": "69002",
            "city": "Lyon",
            "country": "FR",
        },
    }
    return [
        {
            "merchant_id": DEMO_MERCHANT_ID,
            "number": "DEMO-1001",
            "ordered_on": (today - timedelta(days=5)).date().isoformat(),
            "customer": customer,
            "lines": [
                {
                    "line_id": "1",
                    "sku": "MUG-BLUE",
                    "name": "Mug en grès bleu",
                    "quantity": 2,
                    "unit_price_cents": 1800,
                    "image_url": f"{assets}/mug.svg",
                },
                {
                    "line_id": "2",
                    "sku": "TSHIRT-M",
                    "name": "T-shirt coton bio (M)",
                    "quantity": 1,
                    "unit_price_cents": 2500,
                    "image_url": f"{assets}/tshirt.svg",
                },
            ],
        },
        {
            "merchant_id": DEMO_MERCHANT_ID,
            "number": "DEMO-1002",
            "ordered_on": (today - timedelta(days=2)).date().isoformat(),
            "customer": customer,
            "lines": [
                {
                    "line_id": "1",
                    "sku": "LAMP-OAK",
                    "name": "Lampe de chevet en chêne",
                    "quantity": 1,
                    "unit_price_cents": 6900,
                    "image_url": f"{assets}/lamp.svg",
                },
            ],
        },
    ]


def seed(
    base_url: str,
    customer_service_email: str,
    admin_token: str,
    back_office_password: str = DEMO_BACK_OFFICE_PASSWORD,
) -> str:
    """Load the demo data; the demo merchant's new back-office API key."""
    reasons = {
        reason["code"]: {key: value for key, value in reason.items() if key != "code"}
        for reason in DEMO_REASONS
    }
    with httpx.Client(base_url=base_url, timeout=10.0) as client:
        api_key = configure_merchant(
            client, admin_token, DEMO_MERCHANT_ID, demo_merchant(customer_service_email), reasons
        )
        add_back_office_user(
            client,
            admin_token,
            DEMO_MERCHANT_ID,
            DEMO_BACK_OFFICE_USER,
            back_office_password,
            "Support Demo Shop",
        )
        for order in demo_orders(datetime.now(UTC), base_url):
            body = {k: v for k, v in order.items() if k not in ("merchant_id", "number")}
            put_order(client, api_key, DEMO_MERCHANT_ID, order["number"], body)
    return api_key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8001", help="declaration API")
    parser.add_argument("--customer-service-email", default="service-client@demo-shop.example")
    parser.add_argument(
        "--admin-token", default=os.environ.get("ADMIN_API_TOKEN", DEMO_ADMIN_TOKEN)
    )
    parser.add_argument(
        "--back-office-password",
        default=os.environ.get("DEMO_BACK_OFFICE_PASSWORD", DEMO_BACK_OFFICE_PASSWORD),
    )
    arguments = parser.parse_args()
    try:
        api_key = seed(
            arguments.url,
            arguments.customer_service_email,
            arguments.admin_token,
            arguments.back_office_password,
        )
    except httpx.HTTPError as error:
        print(f"demo seed failed: {error}", file=sys.stderr)
        raise SystemExit(1) from error
    print(
        f"demo merchant '{DEMO_MERCHANT_ID}' and 2 orders loaded (customer {DEMO_CUSTOMER_EMAIL});"
        f"\nits back-office API key (shown once): {api_key}"
        f"\nback-office login: {DEMO_BACK_OFFICE_USER} / {arguments.back_office_password}"
    )


if __name__ == "__main__":
    main()
