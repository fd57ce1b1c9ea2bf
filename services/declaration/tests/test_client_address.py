"""Behind a reverse proxy, the sign-in limit counts each client, not the proxy (pages and API).

Over ASGI on in-memory fakes: every request reaches the app from the proxy's address, and the
proxy appends the client's address to `X-Forwarded-For`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from returns_declaration.adapters.media import MediaPhotoUploader
from returns_declaration.domain.model import MerchantSettings
from returns_declaration.entrypoints.web.forms import CSRF_COOKIE

from .builders import NOW, merchant, order
from .fakes import FakePhotoCatalog, InMemoryRateLimiter, InMemoryStore
from .test_users import InMemoryUsers
from .web_app import build_test_app

SECRET = "test-portal-secret"
FAILURES_PER_CLIENT = 100
ATTACKER = "203.0.113.7"
CUSTOMER = "198.51.100.9"
CSRF = "csrf-of-this-test"


@dataclass
class Portal:
    client: httpx.AsyncClient

    async def page_sign_in(self, forwarded_for: str, order_number: str) -> httpx.Response:
        return await self.client.post(
            "/portal/shop",
            data={"csrf": CSRF, "order_number": order_number, "email": "ana@example.com"},
            headers={"X-Forwarded-For": forwarded_for},
        )

    async def api_sign_in(self, forwarded_for: str, order_number: str) -> httpx.Response:
        return await self.client.post(
            "/v1/portal/shop/sessions",
            json={"order_number": order_number, "email": "ana@example.com"},
            headers={"X-Forwarded-For": forwarded_for},
        )


@pytest.fixture
async def behind_proxy() -> AsyncIterator[Portal]:
    """The portal (pages and JSON API) with `trust_forwarded_for` on."""
    media = httpx.AsyncClient(base_url="http://media.invalid")
    app, container = build_test_app(
        store=InMemoryStore(),
        catalog=FakePhotoCatalog(),
        limiter=InMemoryRateLimiter(),
        users=InMemoryUsers(),
        uploader=MediaPhotoUploader(media),
        clock=lambda: NOW,
        secret=SECRET,
        operator_token="operator-token-of-this-test",
        attempts_per_order=10,
        failures_per_client=FAILURES_PER_CLIENT,
        trust_forwarded_for=True,
    )
    service = container
    shop = merchant()
    settings = MerchantSettings.model_validate(
        shop.model_dump(include=set(MerchantSettings.model_fields))
    )
    await service.merchants.configure_merchant("shop", settings, "c")
    await service.merchants.save_order(order())
    # Every request comes from the proxy's own address.
    transport = httpx.ASGITransport(app=app, client=("10.0.0.2", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
        client.cookies.set(CSRF_COOKIE, CSRF)
        yield Portal(client)
    await media.aclose()


async def test_one_client_s_failures_do_not_lock_another_client_s_page_sign_in(
    behind_proxy: Portal,
) -> None:
    # The attacker forges a new first X-Forwarded-For entry every time; the proxy appends the
    # address it really saw, which is what counts.
    for attempt in range(FAILURES_PER_CLIENT):
        failed = await behind_proxy.page_sign_in(f"10.9.{attempt}.1, {ATTACKER}", f"NO-{attempt}")
        assert failed.status_code == 422, failed.text

    locked = await behind_proxy.page_sign_in(f"10.8.0.1, {ATTACKER}", "A-1")
    customer = await behind_proxy.page_sign_in(CUSTOMER, "A-1")

    assert locked.status_code == 429
    assert customer.status_code == 303, customer.text
    assert customer.headers["location"] == "/portal/shop/items"


async def test_pages_and_api_count_the_same_client(behind_proxy: Portal) -> None:
    # Failures through the pages lock the same client out of the JSON API, and the reverse:
    # one client address, whichever door it knocks on.
    for attempt in range(FAILURES_PER_CLIENT // 2):
        assert (await behind_proxy.page_sign_in(ATTACKER, f"P-{attempt}")).status_code == 422
        assert (await behind_proxy.api_sign_in(ATTACKER, f"Q-{attempt}")).status_code == 401

    assert (await behind_proxy.api_sign_in(ATTACKER, "A-1")).status_code == 429
    assert (await behind_proxy.page_sign_in(ATTACKER, "A-1")).status_code == 429
    assert (await behind_proxy.api_sign_in(CUSTOMER, "A-1")).status_code == 201
