"""The HTML pages (portal, back-office, landing) on in-memory fakes: sign-in, the session and
tenant guards, the portal's steps with photo uploads, the back-office's list, record and label
request, CSRF, and where each error is shown and in which language."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from returns_contracts.service_kit.bounds import TOKEN_MAX
from returns_declaration.entrypoints.demo import DEMO_MERCHANT_ID
from returns_declaration.service.ports import MerchantUser
from returns_declaration.service.sessions import issue_user_token

from .web_world import ATTEMPTS_PER_ORDER, CSRF, SECRET, USER_EMAIL, World, world

NOT_FOUND_FR = "Page introuvable."
CSRF_FAILED_FR = "Ce formulaire a expiré."


@pytest.fixture
async def pages() -> AsyncIterator[World]:
    async with world() as built:
        yield built


def located(response: httpx.Response, status: int = 303) -> str:
    assert response.status_code == status, response.text
    return response.headers["location"]


def error_beside(response: httpx.Response, field: str) -> str:
    """The message shown beside a field (its `<name>-error` element)."""
    found = re.search(rf'id="{re.escape(field)}-error"[^>]*>([^<]*)<', response.text)
    assert found, f"no error beside {field}: {response.text[:2000]}"
    return found.group(1)


async def draft_of_line(pages: World, line_id: str, reason: str) -> str:
    """Steps 1 and 2 through the forms; the draft's base path."""
    await pages.page_sign_in()
    chosen = await pages.client.post(
        "/portal/shop/items", data={"csrf": CSRF, f"qty_{line_id}": "1", "qty_9": "0"}
    )
    reasons = located(chosen)
    assert re.fullmatch(r"/portal/shop/drafts/[^/]+/reasons", reasons), reasons
    draft = reasons.removesuffix("/reasons")
    described = await pages.client.post(reasons, data={"csrf": CSRF, f"reason_{line_id}": reason})
    assert located(described) == f"{draft}/details"
    return draft


# --- landing and the portal's sign-in ---------------------------------------------------------


async def test_the_landing_page_links_the_demo_portal(pages: World) -> None:
    landing = await pages.client.get("/")
    assert landing.status_code == 200
    assert f"/portal/{DEMO_MERCHANT_ID}?order=DEMO-1001" in landing.text


async def test_an_unknown_or_malformed_merchant_is_a_page_not_found(pages: World) -> None:
    for path in ("/portal/nobody", "/portal/Not%20An%20Id", "/portal/nobody/items"):
        answer = await pages.client.get(path)
        assert answer.status_code == 404, path
        assert NOT_FOUND_FR in answer.text


async def test_the_sign_in_form_needs_its_csrf_token(pages: World) -> None:
    forged = await pages.client.post(
        "/portal/other", data={"csrf": "forged", "order_number": "A-1", "email": "ana@example.com"}
    )
    assert forged.status_code == 403
    assert "This form has expired." in forged.text  # the merchant's language (en)
    assert "portal_session" not in forged.headers.get("set-cookie", "")


async def test_a_wrong_pair_is_shown_beside_the_order_number(pages: World) -> None:
    refused = await pages.client.post(
        "/portal/shop", data={"csrf": CSRF, "order_number": "A-1", "email": "eve@example.com"}
    )
    assert refused.status_code == 422
    assert error_beside(refused, "order_number").startswith("Nous ne trouvons pas")
    assert 'value="A-1"' in refused.text


async def test_too_many_attempts_say_when_to_come_back(pages: World) -> None:
    for _ in range(ATTEMPTS_PER_ORDER):
        await pages.client.post(
            "/portal/shop", data={"csrf": CSRF, "order_number": "A-1", "email": "eve@example.com"}
        )
    locked = await pages.client.post(
        "/portal/shop", data={"csrf": CSRF, "order_number": "A-1", "email": "ana@example.com"}
    )
    assert locked.status_code == 429
    assert re.fullmatch(
        r"Trop de tentatives\. Réessayez dans \d+ minutes\.", error_beside(locked, "order_number")
    )


async def test_a_signed_in_customer_gets_a_session_cookie_for_the_portal(pages: World) -> None:
    signed_in = await pages.client.post(
        "/portal/shop", data={"csrf": CSRF, "order_number": " A-1 ", "email": "ANA@example.com"}
    )
    assert located(signed_in) == "/portal/shop/items"
    cookie = signed_in.headers["set-cookie"]
    assert "portal_session=" in cookie and "HttpOnly" in cookie and "Path=/portal/shop" in cookie


async def test_steps_without_a_session_send_back_to_the_sign_in(pages: World) -> None:
    for path in ("/portal/shop/items", "/portal/shop/drafts/d1/summary"):
        assert located(await pages.client.get(path)) == "/portal/shop?expired=1"
    expired = await pages.client.get("/portal/shop?expired=1")
    assert "Votre session a expiré" in expired.text


async def test_another_merchant_s_session_is_no_session(pages: World) -> None:
    await pages.page_sign_in()
    token = pages.client.cookies.get("portal_session")
    assert token
    pages.client.cookies.set("portal_session", token, path="/portal/other")
    assert located(await pages.client.get("/portal/other/items")) == "/portal/other?expired=1"


# --- the portal's steps -----------------------------------------------------------------------


async def test_a_classic_return_through_the_four_steps(pages: World) -> None:
    draft = await draft_of_line(pages, "2", "too_big")

    typed = await pages.client.post(f"{draft}/details", data={"csrf": CSRF, "type_2": "refund"})
    assert located(typed) == f"{draft}/summary"
    summary = await pages.client.get(f"{draft}/summary")
    assert summary.status_code == 200 and "Tee" in summary.text
    key = draft.rsplit("/", 1)[-1]
    submitted = await pages.client.post(
        f"{draft}/submit", data={"csrf": CSRF, "submission_key": key}
    )
    confirmation = located(submitted)
    again = await pages.client.post(f"{draft}/submit", data={"csrf": CSRF, "submission_key": key})

    assert located(again) == confirmation
    assert len(pages.store.returns) == 1
    shown = await pages.client.get(confirmation)
    assert shown.status_code == 200
    # A submitted draft's pages lead to its return.
    assert located(await pages.client.get(f"{draft}/summary")) == confirmation


async def test_a_quantity_beyond_the_order_is_shown_beside_its_line(pages: World) -> None:
    await pages.page_sign_in()
    refused = await pages.client.post("/portal/shop/items", data={"csrf": CSRF, "qty_2": "5"})
    assert refused.status_code == 422
    assert error_beside(refused, "line_2")


async def test_a_missing_return_type_is_shown_beside_the_line(pages: World) -> None:
    draft = await draft_of_line(pages, "2", "too_big")
    refused = await pages.client.post(f"{draft}/details", data={"csrf": CSRF})
    assert refused.status_code == 422
    assert error_beside(refused, "2-return_type")


async def test_a_form_without_its_token_changes_nothing(pages: World) -> None:
    draft = await draft_of_line(pages, "2", "too_big")
    refused = await pages.client.post(f"{draft}/details", data={"type_2": "refund"})
    assert refused.status_code == 403
    assert CSRF_FAILED_FR in refused.text
    assert all(line.return_type is None for d in pages.store.drafts.values() for line in d.lines)


async def test_a_defect_with_a_photo_sent_by_the_form(pages: World) -> None:
    draft = await draft_of_line(pages, "1", "damaged")

    described = await pages.client.post(
        f"{draft}/details",
        data={"csrf": CSRF, "comment_1": "The handle came off."},
        files={"photos_1": ("mug.jpg", b"jpeg bytes", "image/jpeg")},
    )

    assert located(described) == f"{draft}/summary"
    ((_, line_id, sent),) = pages.media.uploads
    assert line_id == "1" and b"jpeg bytes" in sent
    (saved,) = pages.store.drafts.values()
    assert saved.lines[0].photo_ids == ("photo-1",)


async def test_a_photo_media_refuses_is_shown_beside_the_photos(pages: World) -> None:
    draft = await draft_of_line(pages, "1", "damaged")
    pages.media.refuse_with = 413
    refused = await pages.client.post(
        f"{draft}/details",
        data={"csrf": CSRF, "comment_1": "The handle came off."},
        files={"photos_1": ("mug.jpg", b"jpeg bytes", "image/jpeg")},
    )
    assert refused.status_code == 422
    assert "The handle came off." in refused.text  # the comment is kept
    assert "trop" in error_beside(refused, "1-photo_ids").lower()

    pages.media.refuse_with = None
    pages.media.down = True
    down = await pages.client.post(
        f"{draft}/details",
        data={"csrf": CSRF, "comment_1": "The handle came off."},
        files={"photos_1": ("mug.jpg", b"jpeg bytes", "image/jpeg")},
    )
    assert down.status_code == 422
    assert "pour le moment" in error_beside(down, "1-photo_ids")


async def test_the_script_s_upload_needs_its_csrf_header(pages: World) -> None:
    draft = await draft_of_line(pages, "1", "damaged")
    path = f"{draft}/lines/1/photos"
    files = {"file": ("mug.jpg", b"jpeg bytes", "image/jpeg")}

    forged = await pages.client.post(path, files=files)
    sent = await pages.client.post(path, files=files, headers={"X-CSRF-Token": CSRF})
    removed = await pages.client.delete(f"{draft}/photos/photo-1", headers={"X-CSRF-Token": CSRF})
    no_session = await pages.client.post(
        "/portal/other/drafts/x/lines/1/photos", files=files, headers={"X-CSRF-Token": CSRF}
    )

    assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf"
    assert sent.status_code == 201 and sent.json()["photo_id"] == "photo-1"
    assert removed.status_code == 204 and pages.media.removed == ["photo-1"]
    assert no_session.status_code == 401 and no_session.json()["error"]["code"] == "session_refused"


async def test_an_unknown_draft_is_a_page_not_found_in_the_merchant_s_language(
    pages: World,
) -> None:
    await pages.page_sign_in()
    missing = await pages.client.get("/portal/shop/drafts/nope/reasons")
    assert missing.status_code == 404 and NOT_FOUND_FR in missing.text


# --- the back-office --------------------------------------------------------------------------


async def test_the_back_office_asks_to_sign_in_first(pages: World) -> None:
    target = "/back-office/merchants/shop/returns"
    assert located(await pages.client.get(target)) == (
        "/back-office/login?next=%2Fback-office%2Fmerchants%2Fshop%2Freturns"
    )
    assert located(await pages.client.get("/back-office")) == "/back-office/login"


async def test_a_wrong_password_is_refused_in_the_browser_s_language(pages: World) -> None:
    data = {"csrf": CSRF, "email": USER_EMAIL, "password": "wrong password!"}
    english = await pages.client.post("/back-office/login", data=data)
    french = await pages.client.post(
        "/back-office/login", data=data, headers={"Accept-Language": "fr-FR"}
    )
    assert english.status_code == 401 and error_beside(english, "login").startswith("Wrong")
    assert french.status_code == 401 and error_beside(french, "login").startswith("Adresse")
    forged = await pages.client.post("/back-office/login", data={**data, "csrf": "x"})
    assert forged.status_code == 403


async def test_sign_in_goes_to_the_page_asked_for_on_this_merchant_only(pages: World) -> None:
    data = {"csrf": CSRF, "email": USER_EMAIL, "password": "correct horse battery"}
    asked = await pages.client.post(
        "/back-office/login", data={**data, "next": "/back-office/merchants/shop/settings"}
    )
    elsewhere = await pages.client.post(
        "/back-office/login", data={**data, "next": "https://evil.example/"}
    )
    assert located(asked) == "/back-office/merchants/shop/settings"
    assert located(elsewhere) == "/back-office/merchants/shop/returns"


async def test_the_list_the_record_and_a_label_request(pages: World) -> None:
    return_id = await pages.api_return()
    await pages.back_office_sign_in()
    base = "/back-office/merchants/shop/returns"

    listed = await pages.client.get(base)
    record = await pages.client.get(f"{base}/{return_id}")
    refused = await pages.client.post(f"{base}/{return_id}/label", data={"csrf": "x"})
    requested = await pages.client.post(f"{base}/{return_id}/label", data={"csrf": CSRF})

    assert listed.status_code == 200 and return_id in listed.text
    assert record.status_code == 200 and "A-1" in record.text
    assert refused.status_code == 403
    assert located(requested) == f"{base}/{return_id}?requested=1"
    entry = pages.store.returns[return_id].timeline[-1]
    assert entry.kind == "label_requested"
    assert entry.actor is not None
    assert (entry.actor.kind, entry.actor.id, entry.actor.display_name) == (
        "user",
        USER_EMAIL,
        "Julie",
    )


async def test_another_merchant_s_back_office_looks_absent(pages: World) -> None:
    await pages.back_office_sign_in()
    for path in (
        "/back-office/merchants/other/returns",
        "/back-office/merchants/nobody/returns",
        "/back-office/merchants/other/settings",
    ):
        answer = await pages.client.get(path)
        assert answer.status_code == 404, path
        assert "Page not found." in answer.text
    missing = await pages.client.get("/back-office/merchants/shop/returns/nope")
    assert missing.status_code == 404 and NOT_FOUND_FR in missing.text


async def test_settings_errors_are_shown_beside_their_field(pages: World) -> None:
    await pages.back_office_sign_in()
    refused = await pages.client.post(
        "/back-office/merchants/shop/settings",
        data={
            "csrf": CSRF,
            "customer_service_email": "cs@shop.example",
            "locale": "fr",
            "return_window_days": "many",
        },
    )
    assert refused.status_code == 422
    assert error_beside(refused, "return_window_days") == "Valeur invalide."


async def test_logout_ends_the_back_office_session(pages: World) -> None:
    await pages.back_office_sign_in()
    out = await pages.client.post("/back-office/logout", data={"csrf": CSRF})
    assert located(out) == "/back-office/login"
    assert located(await pages.client.get("/back-office/merchants/shop/returns")).startswith(
        "/back-office/login"
    )


# --- where the pages now agree with the API (entrypoints/deps.py) -----------------------------


async def test_too_many_attempts_read_the_same_on_the_page_and_in_the_api(pages: World) -> None:
    for _ in range(ATTEMPTS_PER_ORDER):
        await pages.client.post(
            "/portal/shop", data={"csrf": CSRF, "order_number": "A-1", "email": "eve@example.com"}
        )
    page = await pages.client.post(
        "/portal/shop", data={"csrf": CSRF, "order_number": "A-1", "email": "ana@example.com"}
    )
    api = await pages.client.post(
        "/v1/portal/shop/sessions", json={"order_number": "A-1", "email": "ana@example.com"}
    )
    assert (page.status_code, api.status_code) == (429, 429)
    assert error_beside(page, "order_number") == api.json()["error"]["message"]
    assert page.headers["Retry-After"] == api.headers["Retry-After"]


async def test_the_back_office_session_ends_by_the_injected_clock(pages: World) -> None:
    await pages.back_office_sign_in()
    assert (await pages.client.get("/back-office/merchants/shop/returns")).status_code == 200

    pages.clock.advance(hours=8, seconds=1)

    assert located(await pages.client.get("/back-office/merchants/shop/returns")).startswith(
        "/back-office/login"
    )


async def test_a_cursor_the_service_did_not_give_shows_the_first_page_and_says_so(
    pages: World,
) -> None:
    return_id = await pages.api_return()
    await pages.back_office_sign_in()
    base = "/back-office/merchants/shop/returns"

    plain = await pages.client.get(base)
    for cursor in ("not-ours", "9" * (TOKEN_MAX + 1)):
        reset = await pages.client.get(base, params={"cursor": cursor})
        assert reset.status_code == 200
        assert return_id in reset.text
        assert "Ce lien de page n'est plus valable" in reset.text.replace("&#39;", "'")
    assert "Ce lien de page" not in plain.text


async def test_a_user_whose_merchant_is_gone_gets_a_page_not_found(pages: World) -> None:
    ghost = MerchantUser("ghost@shop.example", "ghost", None, "x", "00")
    await pages.users.save_user(ghost)
    pages.client.cookies.set(
        "back_office_session",
        issue_user_token(SECRET, ghost.email, pages.clock() + timedelta(hours=1)),
        path="/back-office",
    )
    answer = await pages.client.get("/back-office/merchants/ghost/returns")
    assert answer.status_code == 404 and "Page not found." in answer.text
