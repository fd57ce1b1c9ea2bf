"""The examples the OpenAPI document shows for each body and answer of the JSON API, one
constant per schema of `schemas.py` (named after it). Data only: what a client sends and reads,
as the demo shop would."""

from __future__ import annotations

from typing import Any

# --- back-office: merchants, reasons, keys, orders, users, labels --------------------------------

MERCHANT_SETTINGS_BODY: dict[str, Any] = {
    "name": "Demo Shop",
    "locale": "fr",
    "customer_service_email": "service-client@demo-shop.example",
    "return_window_days": 30,
    "return_types": ["refund", "exchange", "store_credit"],
    "return_address": {
        "name": "Demo Shop - Retours",
        "line1": "12 rue des Entrepôts",
        "postal_code": "69007",
        "city": "Lyon",
        "country": "FR",
    },
    "branding": {
        "logo_url": "https://demo-shop.example/logo.png",
        "signature": "L'équipe Demo Shop",
    },
}

REASON_BODY: dict[str, Any] = {
    "label_fr": "Article abîmé à la livraison",
    "label_en": "Item damaged on delivery",
    "defective": True,
}

MERCHANT_ANSWER: dict[str, Any] = {
    "id": "demo-shop",
    **MERCHANT_SETTINGS_BODY,
    "reasons": [{"code": "damaged", **REASON_BODY, "retired": False}],
    "revision": 3,
}

API_KEY_ANSWER: dict[str, Any] = {
    "key_id": "3f9c2a7b1d0e4c55",
    "merchant_id": "demo-shop",
    "api_key": "rbk_kq3...shown-once...",
    "created_at": "2026-11-26T09:00:00Z",
}

ORDER_BODY: dict[str, Any] = {
    "ordered_on": "2026-11-21",
    "customer": {
        "name": "Camille Martin",
        "email": "camille.martin@example.com",
        "phone": "+33 6 12 34 56 78",
        "address": {
            "line1": "3 place Bellecour",
            "postal_code": "69002",
            "city": "Lyon",
            "country": "FR",
        },
    },
    "lines": [
        {
            "line_id": "1",
            "sku": "MUG-BLUE",
            "name": "Mug en grès bleu",
            "quantity": 2,
            "unit_price_cents": 1800,
            "image_url": "https://shop.example/img/mug.jpg",
        }
    ],
}

USER_BODY: dict[str, Any] = {"password": "a long passphrase", "display_name": "Julie"}

USER_ANSWER: dict[str, Any] = {
    "email": "julie@demo-shop.example",
    "merchant_id": "demo-shop",
    "display_name": "Julie",
}

LABEL_REQUEST_BODY: dict[str, Any] = {
    "regenerate": False,
    "requested_by_name": "Julie (service client)",
}

# --- back-office: the returns ------------------------------------------------------------------

RETURN_SUMMARY: dict[str, Any] = {
    "id": "0f8e6c1a-3b1e-4a57-9d0c-2f4b8f2b7c11",
    "order_number": "DEMO-1001",
    "customer_name": "Camille Martin",
    "defective": True,
    "label_status": "awaiting_merchant",
    "submitted_at": "2026-11-26T09:12:00Z",
}

RETURN_LIST: dict[str, Any] = {"returns": [RETURN_SUMMARY], "next_cursor": None}

RETURN_RECORD_ANSWER: dict[str, Any] = {
    **RETURN_SUMMARY,
    "merchant_id": "demo-shop",
    "ordered_on": "2026-11-21",
    "locale": "fr",
    "customer": {"name": "Camille Martin", "email": "camille.martin@example.com"},
    "lines": [
        {
            "line_id": "1",
            "sku": "MUG-BLUE",
            "name": "Mug en grès bleu",
            "quantity": 1,
            "reason_code": "damaged",
            "reason_label": "Article abîmé à la livraison",
            "defective": True,
            "return_type": None,
            "comment": "Le mug est arrivé fêlé sur l'anse.",
            "photos": [
                {
                    "photo_id": "ph_7d2e",
                    "url": "http://127.0.0.1:8002/p/ph_7d2e/full?exp=...&sig=...",
                    "thumbnail_url": "http://127.0.0.1:8002/p/ph_7d2e/thumb?exp=...",
                }
            ],
        }
    ],
    "label": None,
    "timeline": [
        {
            "event_id": "5b1d0c9e-8a5f-4a0e-b7f3-0d6e1c2a9b44",
            "kind": "submitted",
            "at": "2026-11-26T09:12:00Z",
            "detail": None,
            "actor": None,
        }
    ],
}

# --- portal ------------------------------------------------------------------------------------

SESSION_BODY: dict[str, Any] = {"order_number": "DEMO-1001", "email": "camille.martin@example.com"}

SESSION_ANSWER: dict[str, Any] = {
    "session_token": "WyJkZW1vLXNob3AiLCJERU1PLTEwMDEiXQ.1764150000.Zx...",
    "expires_at": "2026-11-26T11:00:00Z",
    "locale": "fr",
}

PORTAL_ORDER_ANSWER: dict[str, Any] = {
    "order_number": "DEMO-1001",
    "ordered_on": "2026-11-21",
    "locale": "fr",
    "window_open": True,
    "window_closes_on": "2026-12-21",
    "lines": [
        {
            "line_id": "1",
            "sku": "MUG-BLUE",
            "name": "Mug en grès bleu",
            "image_url": None,
            "unit_price_cents": 1800,
            "quantity_ordered": 2,
            "quantity_returnable": 2,
            "selectable": True,
            "why_not": None,
        }
    ],
    "reasons": [{"code": "damaged", "label": "Article abîmé à la livraison", "defective": True}],
    "return_types": ["refund", "exchange", "store_credit"],
}

DRAFT_BODY: dict[str, Any] = {
    "lines": [{"line_id": "1", "quantity": 1}, {"line_id": "2", "quantity": 1}]
}

REASON_CHOICE: dict[str, Any] = {"reason_code": "damaged"}

RETURN_TYPE_CHOICE: dict[str, Any] = {"return_type": "refund"}

DEFECT_BODY: dict[str, Any] = {
    "comment": "Le mug est arrivé fêlé sur l'anse.",
    "photo_ids": ["ph_7d2e"],
}

DRAFT_ANSWER: dict[str, Any] = {
    "draft_id": "0f8e6c1a-3b1e-4a57-9d0c-2f4b8f2b7c11",
    "draft_token": "eyJkIjoiMGY4ZS4uLiJ9.c2ln...",
    "expires_at": "2026-11-27T09:00:00Z",
    "order_number": "DEMO-1001",
    "locale": "fr",
    "submitted_return_id": None,
    "defective": True,
    "ready": False,
    "lines": [
        {
            "line_id": "1",
            "sku": "MUG-BLUE",
            "name": "Mug en grès bleu",
            "image_url": None,
            "quantity": 1,
            "reason_code": "damaged",
            "reason_label": "Article abîmé à la livraison",
            "defective": True,
            "return_type": None,
            "comment": None,
            "photos": [],
            "missing": ["comment", "photo_ids"],
        }
    ],
}

SUBMISSION_ANSWER: dict[str, Any] = {
    "return_id": "0f8e6c1a-3b1e-4a57-9d0c-2f4b8f2b7c11",
    "defective": True,
    "next_step": "merchant_will_contact",
    "message": "Merci. Le marchand va vous contacter au sujet de votre retour.",
}
