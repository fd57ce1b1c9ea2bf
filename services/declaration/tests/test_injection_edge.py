"""Text that would end up in an e-mail header (Subject, From, To, Reply-To) or in a link is
refused where it comes in, in the one error shape, naming its field: a line break in a name or
an order number, an address that is a list or carries a display name, a non-http(s) image link.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import httpx
import pytest

from returns_declaration.domain.model import (
    SINGLE_LINE_PATTERN,
    Customer,
    MerchantSettings,
    Order,
    OrderLine,
)

from .conftest import OPERATOR_TOKEN

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
MERCHANT = {"name": "Shop", "customer_service_email": "cs@shop.example"}
CUSTOMER = {"name": "Camille Martin", "email": "camille@example.com"}
LINE = {"line_id": "1", "sku": "MUG", "name": "Mug", "quantity": 1, "unit_price_cents": 1800}


def _order(customer: dict[str, Any] | None = None, line: dict[str, Any] | None = None) -> Any:
    return {
        "ordered_on": "2026-11-21",
        "customer": {**CUSTOMER, **(customer or {})},
        "lines": [{**LINE, **(line or {})}],
    }


BREAKS = ["Léa\r\nBcc: spy@evil.example", "Léa\nBcc: spy@evil.example", "Léa\x00", "Léa\u2028x"]
NOT_ONE_ADDRESS = [
    "a@shop.example, spy@evil.example",
    "a@shop.example,spy@evil.example",
    "a@shop.example;spy@evil.example",
    "Spy <spy@evil.example>",
    "<spy@evil.example>",
    '"spy"@evil.example',
    "a@shop.example\r\nBcc: spy@evil.example",
    "a@shop.example\x00",
]


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        *[("/v1/merchants/shop", {**MERCHANT, "name": name}, "name") for name in BREAKS],
        *[
            ("/v1/merchants/shop", {**MERCHANT, "customer_service_email": address}, "c")
            for address in NOT_ONE_ADDRESS
        ],
        *[("/v1/merchants/shop/orders/A-1", _order({"name": name}), "n") for name in BREAKS],
        *[
            ("/v1/merchants/shop/orders/A-1", _order({"email": address}), "e")
            for address in NOT_ONE_ADDRESS
        ],
        *[
            ("/v1/merchants/shop/orders/A-1", _order(line={"image_url": url}), "i")
            for url in ("javascript:alert(1)", "data:image/svg+xml,<svg onload=alert(1)>", "//x")
        ],
        ("/v1/merchants/shop/orders/A-1%0D%0ABcc:%20spy@evil.example", _order(), "p"),
        ("/v1/merchants/shop/orders/A-1%0A", _order(), "p"),
    ],
)
async def test_header_and_link_injection_is_refused_naming_the_field(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], field: str
) -> None:
    expected = {
        "name": "name",
        "c": "customer_service_email",
        "n": "customer.name",
        "e": "customer.email",
        "i": "lines.0.image_url",
        "p": "path.order_number",
    }[field]

    response = await client.put(path, json=body, headers=OPERATOR)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert expected in [problem["field"] for problem in error["fields"]], error


def test_ordinary_names_addresses_and_links_are_accepted() -> None:
    customer = Customer(
        name="Zoë O'Brien-Łukasiewicz (née Dupont) & fils ‍", email="zoe+shop@ex.example"
    )
    settings = MerchantSettings(name="L'Atelier <3 & Co", customer_service_email="sav@a.example")
    line = OrderLine(**{**LINE, "image_url": "https://shop.example/img/mug.jpg?w=72&h=72"})
    order = Order(
        merchant_id="shop",
        number="CMD 2026-42 n°1",
        ordered_on=date(2026, 11, 21),
        customer=customer,
        lines=(line,),
    )

    assert (customer.name, settings.name, order.number) == (
        "Zoë O'Brien-Łukasiewicz (née Dupont) & fils ‍",
        "L'Atelier <3 & Co",
        "CMD 2026-42 n°1",
    )
    assert re.match(SINGLE_LINE_PATTERN, order.number)
    assert not re.match(SINGLE_LINE_PATTERN, "CMD\r\n1")
