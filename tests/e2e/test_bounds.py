"""Input out of bounds, against the running services: refused in the one error shape by the APIs
and in the merchant's language by the pages, never a 5xx and never stored."""

from __future__ import annotations

import re
import socket
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from returns_declaration.entrypoints.demo import (
    DEMO_ADMIN_TOKEN,
    add_back_office_user,
    configure_merchant,
    put_order,
)
from returns_infra.fixtures import RunningServices

pytestmark = pytest.mark.e2e
PASSWORD = "bounds-test-password"
EMAIL = "camille@example.com"


def _order(quantity: int = 1) -> dict[str, Any]:
    return {
        "ordered_on": (datetime.now(UTC) - timedelta(days=2)).date().isoformat(),
        "customer": {"name": "Camille Martin", "email": EMAIL},
        "lines": [
            {
                "line_id": "1",
                "sku": "MUG",
                "name": "Mug",
                "quantity": quantity,
                "unit_price_cents": 1800,
            }
        ],
    }


def _shop(client: httpx.Client) -> tuple[str, dict[str, str], str]:
    """A French merchant with order B-1 and a back-office user: (id, key header, user)."""
    merchant_id = f"bounds-{uuid.uuid4().hex[:10]}"
    settings = {"name": "Boutique", "locale": "fr", "customer_service_email": "cs@shop.example"}
    api_key = configure_merchant(client, DEMO_ADMIN_TOKEN, merchant_id, settings, {})
    put_order(client, api_key, merchant_id, "B-1", _order())
    user = f"user-{merchant_id}@shop.example"
    add_back_office_user(client, DEMO_ADMIN_TOKEN, merchant_id, user, PASSWORD)
    return merchant_id, {"Authorization": f"Bearer {api_key}"}, user


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def _refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in [problem["field"] for problem in error["fields"]], error


@pytest.mark.parametrize("quantity", [2**63, 2**63 - 1, 10_001])
def test_an_order_line_quantity_beyond_business_range_is_refused_not_a_500(
    services: RunningServices, quantity: int
) -> None:
    # Issue 10: 9223372036854775808 reached MongoDB and answered 500 internal_error.
    with httpx.Client(base_url=services.urls["declaration"], timeout=15) as client:
        merchant_id, key, _ = _shop(client)
        path = f"/v1/merchants/{merchant_id}/orders/B-2"
        _refused(client.put(path, json=_order(quantity), headers=key), "lines.0.quantity")
        assert client.put(path, json=_order(10_000), headers=key).status_code == 204


def test_values_out_of_bounds_are_refused_by_each_api(services: RunningServices) -> None:
    declaration = services.urls["declaration"]
    with (
        httpx.Client(base_url=declaration, timeout=15) as shop,
        httpx.Client(timeout=15) as client,
    ):
        merchant_id, key, _ = _shop(shop)
        back_office = f"{declaration}/v1/merchants/{merchant_id}"
        settings = {"name": "x" * 201, "customer_service_email": "cs@shop.example"}
        _refused(client.put(back_office, json=settings, headers=key), "name")
        repeated: dict[str, Any] = {"name": "Shop", "customer_service_email": "cs@shop.example"}
        repeated["return_types"] = ["refund", "refund"]
        _refused(client.put(back_office, json=repeated, headers=key), "return_types")
        _refused(
            client.get(f"{back_office}/returns", params={"cursor": "c" * 5000}, headers=key),
            "query.cursor",
        )
        _refused(client.get(f"{back_office}/returns/{'r' * 65}", headers=key), "path.return_id")
        # A signed link answers 404 whatever is wrong with it, its length included.
        for link in (
            f"{services.urls['media']}/p/{'p' * 65}/full?exp=1&sig=s",
            f"{services.urls['media']}/p/photo/full?exp=1&sig={'s' * 5000}",
            f"{services.urls['labels']}/l/label.pdf?exp={'1' * 100}&sig=s",
        ):
            assert client.get(link).status_code == 404, link


def test_the_pages_refuse_oversized_input_in_the_merchants_language(
    services: RunningServices,
) -> None:
    with httpx.Client(base_url=services.urls["declaration"], timeout=30) as client:
        merchant_id, _, user = _shop(client)

        token = _csrf(client.get(f"/portal/{merchant_id}"))
        sign_in = client.post(
            f"/portal/{merchant_id}",
            data={"csrf": token, "order_number": "B" * 100_000, "email": EMAIL},
        )
        assert sign_in.status_code == 422, sign_in.text
        assert "Nous ne trouvons pas de commande" in sign_in.text

        token = _csrf(client.get("/back-office/login"))
        login = client.post(
            "/back-office/login",
            data={"csrf": token, "email": user, "password": "p" * 100_000},
            headers={"Accept-Language": "fr"},
        )
        assert login.status_code == 401, login.text
        assert "Adresse e-mail ou mot de passe incorrect." in login.text

        odd_id = client.get(f"/portal/{merchant_id}/drafts/{'d' * 300}/reasons")
        assert odd_id.status_code == 404, odd_id.text
        assert "Page introuvable." in odd_id.text

        token = _csrf(client.get(f"/portal/{merchant_id}"))
        signed = client.post(
            f"/portal/{merchant_id}",
            data={"csrf": token, "order_number": "B-1", "email": EMAIL},
        )
        assert signed.status_code == 303, signed.text
        # A body announced larger than any form of photos is refused before it is read.
        url = httpx.URL(services.urls["declaration"])
        cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
        with socket.create_connection((url.host, url.port or 80), timeout=15) as sock:
            sock.sendall(
                (
                    f"POST /portal/{merchant_id}/items HTTP/1.1\r\nHost: {url.host}\r\n"
                    f"Cookie: {cookies}\r\n"
                    "Content-Type: application/x-www-form-urlencoded\r\n"
                    f"Content-Length: {200 * 1024 * 1024}\r\nConnection: close\r\n\r\n"
                ).encode()
            )
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 413"), head
        assert "trop volumineux" in body.decode()
