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
