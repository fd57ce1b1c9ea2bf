"""The JSON API (entrypoints/http.py) on in-memory fakes: who may call what, the portal's steps,
the back-office's list, record and label request, and how every refusal is answered (the one
error shape, its status code, the merchant's language)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from returns_contracts.service_kit.testing import error_of

from .web_world import ATTEMPTS_PER_ORDER, OPERATOR_TOKEN, World, world

OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


@pytest.fixture
async def api() -> AsyncIterator[World]:
    async with world() as built:
        yield built


async def merchant_key(api: World, merchant_id: str = "shop") -> dict[str, str]:
    issued = await api.client.post(f"/v1/merchants/{merchant_id}/api-keys", headers=OPERATOR)
    assert issued.status_code == 201, issued.text
    return {"Authorization": f"Bearer {issued.json()['api_key']}"}


# --- the back-office: callers and the tenant guard -------------------------------------------


async def test_no_credentials_and_unknown_keys_are_not_authenticated(api: World) -> None:
    missing = await api.client.get("/v1/merchants/shop")
    wrong = await api.client.get("/v1/merchants/shop", headers={"Authorization": "Bearer rbk_x"})

    error_of(missing, 401, "not_authenticated")
    error_of(wrong, 401, "not_authenticated")
    assert missing.headers["WWW-Authenticate"] == "Bearer"


async def test_a_key_reaches_its_merchant_only_and_another_looks_absent(api: World) -> None:
    key = await merchant_key(api)

    own = await api.client.get("/v1/merchants/shop", headers=key)
    other = await api.client.get("/v1/merchants/other", headers=key)
    absent = await api.client.get("/v1/merchants/nobody", headers=key)
    other_list = await api.client.get("/v1/merchants/other/returns", headers=key)

    assert own.status_code == 200 and own.json()["id"] == "shop"
    assert error_of(other, 404, "not_found") == error_of(absent, 404, "not_found")
    error_of(other_list, 404, "not_found")


async def test_only_the_operator_issues_keys_and_creates_users(api: World) -> None:
    key = await merchant_key(api)

    issued = await api.client.post("/v1/merchants/shop/api-keys", headers=key)
    user = await api.client.put(
        "/v1/merchants/shop/users/marc@shop.example",
        json={"password": "long enough password"},
        headers=key,
    )

    error_of(issued, 403, "operator_only")
    error_of(user, 403, "operator_only")


async def test_a_revoked_key_is_refused(api: World) -> None:
    issued = await api.client.post("/v1/merchants/shop/api-keys", headers=OPERATOR)
    key = {"Authorization": f"Bearer {issued.json()['api_key']}"}
    revoked = await api.client.delete(
        f"/v1/merchants/shop/api-keys/{issued.json()['key_id']}", headers=OPERATOR
    )

    assert revoked.status_code == 204
    error_of(await api.client.get("/v1/merchants/shop", headers=key), 401, "not_authenticated")


async def test_a_merchant_key_cannot_create_a_merchant(api: World) -> None:
    key = await merchant_key(api)
    created = await api.client.put(
        "/v1/merchants/newshop",
        json={"name": "New", "customer_service_email": "cs@new.example"},
        headers=key,
    )
    error_of(created, 404, "not_found")


# --- the back-office: list, record, label request -------------------------------------------


async def test_list_and_record_of_the_merchant_s_returns(api: World) -> None:
    return_id = await api.api_return()
    key = await merchant_key(api)

    listed = await api.client.get("/v1/merchants/shop/returns", headers=key)
    record = await api.client.get(f"/v1/merchants/shop/returns/{return_id}", headers=key)
    elsewhere = await api.client.get(f"/v1/merchants/other/returns/{return_id}", headers=OPERATOR)

    assert [item["id"] for item in listed.json()["returns"]] == [return_id]
    assert record.status_code == 200 and record.json()["order_number"] == "A-1"
    assert error_of(elsewhere, 404, "not_found")["message"] == "No such return."


async def test_an_invalid_cursor_is_a_422_in_the_one_shape(api: World) -> None:
    listed = await api.client.get("/v1/merchants/shop/returns?cursor=not-ours", headers=OPERATOR)
    error_of(listed, 422, "invalid_cursor")


async def test_a_label_request_records_who_asked(api: World) -> None:
    return_id = await api.api_return()
    issued = await api.client.post("/v1/merchants/shop/api-keys", headers=OPERATOR)
    key = {"Authorization": f"Bearer {issued.json()['api_key']}"}
    path = f"/v1/merchants/shop/returns/{return_id}/label-requests"

    by_key = await api.client.post(path, json={"requested_by_name": "Julie"}, headers=key)
    by_operator = await api.client.post(path, json={"regenerate": True}, headers=OPERATOR)

    assert by_key.status_code == 202, by_key.text
    actors = [
        entry["actor"]
        for entry in by_operator.json()["timeline"]
        if entry["kind"] == "label_requested"
    ]
    assert {"kind": "api_key", "id": issued.json()["key_id"], "display_name": "Julie"} in actors
    assert {"kind": "user", "id": "operator", "display_name": None} in actors
    assert by_operator.json()["label_status"] == "requested"


async def test_an_order_whose_body_names_another_order_is_refused_beside_the_field(
    api: World,
) -> None:
    put = await api.client.put(
        "/v1/merchants/shop/orders/A-2",
        json={
            "number": "A-3",
            "ordered_on": "2026-11-21",
            "customer": {"name": "Ana", "email": "ana@example.com"},
            "lines": [
                {"line_id": "1", "sku": "MUG", "name": "Mug", "quantity": 1, "unit_price_cents": 1}
            ],
        },
        headers=OPERATOR,
    )
    error = error_of(put, 422, "rule_broken")
    assert [field["field"] for field in error["fields"]] == ["number"]


# --- the portal ------------------------------------------------------------------------------


async def test_a_wrong_pair_is_refused_in_the_merchant_s_language(api: World) -> None:
    shop = await api.client.post(
        "/v1/portal/shop/sessions", json={"order_number": "A-1", "email": "eve@example.com"}
    )
    other = await api.client.post(
        "/v1/portal/other/sessions", json={"order_number": "NOPE", "email": "ana@example.com"}
    )

    assert "Nous ne trouvons pas" in error_of(shop, 401, "session_refused")["message"]
    assert "We cannot find" in error_of(other, 401, "session_refused")["message"]
    assert error_of(other, 401, "session_refused")["fields"][0]["field"] == "order_number"


async def test_too_many_attempts_answer_429_with_retry_after(api: World) -> None:
    for _ in range(ATTEMPTS_PER_ORDER):
        await api.client.post(
            "/v1/portal/shop/sessions", json={"order_number": "A-1", "email": "eve@example.com"}
        )
    locked = await api.client.post(
        "/v1/portal/shop/sessions", json={"order_number": "A-1", "email": "ana@example.com"}
    )

    error = error_of(locked, 429, "too_many_attempts")
    assert error["message"].startswith("Trop de tentatives.")
    assert int(locked.headers["Retry-After"]) > 0


async def test_portal_calls_need_the_session_of_that_merchant(api: World) -> None:
    session = await api.api_session()

    missing = await api.client.get("/v1/portal/shop/order")
    forged = await api.client.get("/v1/portal/shop/order", headers={"Authorization": "Bearer x"})
    elsewhere = await api.client.get("/v1/portal/other/order", headers=session)
    own = await api.client.get("/v1/portal/shop/order", headers=session)

    for refused in (missing, forged):
        assert "session" in error_of(refused, 401, "session_refused")["fields"][0]["field"]
    assert "expired" in error_of(elsewhere, 401, "session_refused")["message"]
    assert own.status_code == 200 and own.json()["order_number"] == "A-1"


async def test_the_session_expires_by_the_injected_clock(api: World) -> None:

    session = await api.api_session()
    api.clock.advance(hours=3)

    error_of(await api.client.get("/v1/portal/shop/order", headers=session), 401, "session_refused")


async def test_the_portal_steps_and_an_idempotent_submit(api: World) -> None:
    session = await api.api_session()
    draft = await api.client.post(
        "/v1/portal/shop/drafts", json={"lines": [{"line_id": "2", "quantity": 1}]}, headers=session
    )
    draft_id = draft.json()["draft_id"]
    line = f"/v1/portal/shop/drafts/{draft_id}/lines/2"
    await api.client.put(f"{line}/reason", json={"reason_code": "too_big"}, headers=session)
    typed = await api.client.put(
        f"{line}/return-type", json={"return_type": "refund"}, headers=session
    )
    read = await api.client.get(f"/v1/portal/shop/drafts/{draft_id}", headers=session)
    first = await api.client.post(f"/v1/portal/shop/drafts/{draft_id}/submit", headers=session)
    again = await api.client.post(f"/v1/portal/shop/drafts/{draft_id}/submit", headers=session)

    assert typed.json()["ready"] is True and read.json()["ready"] is True
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["return_id"] == again.json()["return_id"]
    assert first.json()["next_step"] == "label_follows"


async def test_a_broken_rule_names_its_field_in_the_merchant_s_language(api: World) -> None:
    session = await api.api_session()
    too_many = await api.client.post(
        "/v1/portal/shop/drafts", json={"lines": [{"line_id": "2", "quantity": 5}]}, headers=session
    )
    unknown = await api.client.get("/v1/portal/shop/drafts/nope", headers=session)

    error = error_of(too_many, 422, "rule_broken")
    assert error["fields"][0]["field"].startswith("lines[0]")
    assert error_of(unknown, 404, "not_found")["message"] == "No such draft."


async def test_a_defect_with_a_photo_media_does_not_know_is_refused(api: World) -> None:
    session = await api.api_session()
    draft = await api.client.post(
        "/v1/portal/shop/drafts", json={"lines": [{"line_id": "1", "quantity": 1}]}, headers=session
    )
    line = f"/v1/portal/shop/drafts/{draft.json()['draft_id']}/lines/1"
    await api.client.put(f"{line}/reason", json={"reason_code": "damaged"}, headers=session)

    unknown = await api.client.put(
        f"{line}/defect", json={"comment": "Cracked handle.", "photo_ids": ["p9"]}, headers=session
    )
    api.media.catalog.down = True
    down = await api.client.put(
        f"{line}/defect", json={"comment": "Cracked handle.", "photo_ids": ["p9"]}, headers=session
    )

    assert error_of(unknown, 422, "rule_broken")["fields"][0]["field"].startswith("photo_ids")
    error_of(down, 503, "media_unavailable")
