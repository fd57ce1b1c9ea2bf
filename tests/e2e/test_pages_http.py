"""The pages' guards over plain HTTP against the running services: CSRF on every form,
sign-in required, another merchant's pages answer like pages that do not exist."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest

from returns_declaration.entrypoints.demo import (
    DEMO_ADMIN_TOKEN,
    add_back_office_user,
    configure_merchant,
)
from returns_infra.fixtures import RunningServices

pytestmark = pytest.mark.e2e
PASSWORD = "pages-test-password"


def _merchant(client: httpx.Client) -> tuple[str, str]:
    merchant_id = f"pages-{uuid.uuid4().hex[:10]}"
    settings = {"name": "Shop", "locale": "en", "customer_service_email": "cs@shop.example"}
    configure_merchant(client, DEMO_ADMIN_TOKEN, merchant_id, settings, {})
    user = f"user-{merchant_id}@shop.example"
    add_back_office_user(client, DEMO_ADMIN_TOKEN, merchant_id, user, PASSWORD)
    return merchant_id, user


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def _sign_in(client: httpx.Client, user: str) -> httpx.Response:
    token = _csrf(client.get("/back-office/login"))
    return client.post(
        "/back-office/login", data={"csrf": token, "email": user, "password": PASSWORD}
    )


def test_a_form_without_its_csrf_token_is_refused(services: RunningServices) -> None:
    with httpx.Client(base_url=services.urls["declaration"], timeout=15) as client:
        merchant_id, user = _merchant(client)
        client.get("/back-office/login")  # the csrf cookie is set
        refused = client.post(
            "/back-office/login", data={"csrf": "forged", "email": user, "password": PASSWORD}
        )
        assert refused.status_code == 403
        assert "back_office_session" not in client.cookies

        portal = client.post(
            f"/portal/{merchant_id}", data={"order_number": "A-1", "email": "a@b.example"}
        )
        assert portal.status_code == 403
        assert "portal_session" not in client.cookies


def test_the_back_office_needs_a_sign_in_and_keeps_merchants_apart(
    services: RunningServices,
) -> None:
    with httpx.Client(base_url=services.urls["declaration"], timeout=15) as client:
        merchant_id, user = _merchant(client)
        other_id, _ = _merchant(client)

        anonymous = client.get(f"/back-office/merchants/{merchant_id}/returns")
        assert anonymous.status_code == 303
        assert anonymous.headers["location"].startswith("/back-office/login")

        token = _csrf(client.get("/back-office/login"))
        wrong = client.post(
            "/back-office/login", data={"csrf": token, "email": user, "password": "not-it-at-all"}
        )
        assert wrong.status_code == 401
        assert "Wrong e-mail address or password." in wrong.text

        signed_in = _sign_in(client, user)
        assert signed_in.status_code == 303
        assert signed_in.headers["location"] == f"/back-office/merchants/{merchant_id}/returns"
        cookie = signed_in.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie

        assert client.get(f"/back-office/merchants/{merchant_id}/returns").status_code == 200
        assert client.get(f"/back-office/merchants/{other_id}/returns").status_code == 404
        assert client.get(f"/back-office/merchants/{other_id}/settings").status_code == 404


def test_settings_saved_from_the_page_reach_the_api(services: RunningServices) -> None:
    with httpx.Client(base_url=services.urls["declaration"], timeout=15) as client:
        merchant_id, user = _merchant(client)
        _sign_in(client, user)
        page = client.get(f"/back-office/merchants/{merchant_id}/settings")
        token = _csrf(page)
        saved = client.post(
            f"/back-office/merchants/{merchant_id}/settings",
            data={
                "csrf": token,
                "customer_service_email": "help@shop.example",
                "locale": "fr",
                "return_window_days": "45",
            },
        )
        assert saved.status_code == 303
        added = client.post(
            f"/back-office/merchants/{merchant_id}/reasons",
            data={
                "csrf": token,
                "new": "1",
                "code": "broken",
                "label_fr": "Cassé",
                "label_en": "Broken",
                "defective": "1",
            },
        )
        assert added.status_code == 303
        retired = client.post(
            f"/back-office/merchants/{merchant_id}/reasons/broken/retire", data={"csrf": token}
        )
        assert retired.status_code == 303
        bad = client.post(
            f"/back-office/merchants/{merchant_id}/settings",
            data={
                "csrf": token,
                "customer_service_email": "nope",
                "locale": "fr",
                "return_window_days": "45",
            },
        )
        assert bad.status_code == 422
        assert "Valeur invalide." in bad.text

        merchant = client.get(
            f"/v1/merchants/{merchant_id}",
            headers={"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"},
        ).json()
        assert merchant["customer_service_email"] == "help@shop.example"
        assert merchant["locale"] == "fr"
        assert merchant["return_window_days"] == 45
        [reason] = merchant["reasons"]
        assert reason == {
            "code": "broken",
            "label_fr": "Cassé",
            "label_en": "Broken",
            "defective": True,
            "retired": True,
        }


def test_the_landing_page_links_the_demo(services: RunningServices) -> None:
    page = httpx.get(services.urls["declaration"] + "/", timeout=15)
    assert page.status_code == 200
    assert 'href="/portal/demo-shop?order=DEMO-1001&amp;email=camille.martin%40example.com"' in (
        page.text
    )
    for link in ('href="/back-office/login"', 'href="/docs"', services.env["MAILPIT_URL"]):
        assert link in page.text


def test_a_portal_page_without_a_session_goes_back_to_sign_in(services: RunningServices) -> None:
    with httpx.Client(base_url=services.urls["declaration"], timeout=15) as client:
        merchant_id, _ = _merchant(client)
        answer = client.get(f"/portal/{merchant_id}/items")
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/portal/{merchant_id}?expired=1"
        client.cookies.set("portal_session", "forged.1.2", path=f"/portal/{merchant_id}")
        assert client.get(f"/portal/{merchant_id}/items").status_code == 303
        notice = client.get(f"/portal/{merchant_id}?expired=1")
        assert "Your session has expired; please sign in again." in notice.text
        assert client.get("/portal/no-such-shop").status_code == 404
