"""Malformed back-office requests are refused in the one error shape before any storage."""

from __future__ import annotations

import httpx
import pytest

OPERATOR = {"Authorization": "Bearer operator-token-of-this-test"}


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        (
            "PUT",
            "/v1/merchants/Not_An_Id",
            {"name": "x", "customer_service_email": "a@b.co"},
            "path.merchant_id",
        ),
        (
            "PUT",
            "/v1/merchants/shop/reasons/bad code",
            {"label_fr": "x", "label_en": "x"},
            "path.code",
        ),
        (
            "PUT",
            "/v1/merchants/shop",
            {"name": "x", "customer_service_email": "nope"},
            "customer_service_email",
        ),
        ("PUT", f"/v1/merchants/shop/orders/{'9' * 65}", {}, "path.order_number"),
    ],
)
async def test_malformed_requests_name_their_field(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, str], field: str
) -> None:
    response = await client.request(method, path, json=body, headers=OPERATOR)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in [problem["field"] for problem in error["fields"]]


async def test_the_back_office_needs_a_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/merchants/shop/returns")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def _order_with_line(**line: object) -> dict[str, object]:
    return {
        "ordered_on": "2026-11-21",
        "customer": {"name": "Ana Lopez", "email": "ana@example.com"},
        "lines": [
            {
                "line_id": "1",
                "sku": "MUG",
                "name": "Mug",
                "quantity": 1,
                "unit_price_cents": 900,
                **line,
            }
        ],
    }


@pytest.mark.parametrize(
    ("line", "field"),
    [
        # One past what MongoDB can hold (8-byte integers): it once reached the store (500).
        ({"quantity": 2**63}, "lines.0.quantity"),
        ({"quantity": 10_001}, "lines.0.quantity"),
        ({"unit_price_cents": 100_000_001}, "lines.0.unit_price_cents"),
        ({"name": "x" * 201}, "lines.0.name"),
        ({"sku": "   "}, "lines.0.sku"),
        ({"image_url": "javascript:alert(1)"}, "lines.0.image_url"),
    ],
)
async def test_an_order_out_of_business_ranges_is_refused_before_storage(
    client: httpx.AsyncClient, line: dict[str, object], field: str
) -> None:
    response = await client.put(
        "/v1/merchants/shop/orders/A-1", json=_order_with_line(**line), headers=OPERATOR
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in [problem["field"] for problem in error["fields"]]
