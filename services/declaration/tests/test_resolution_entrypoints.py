"""Issue 15 through the doors, on in-memory fakes: the API's resolutions route (merchant API
keys, the tenant guard, the one error shape) and the record page's resolution form (the
merchant's user, errors beside the field in the merchant's language)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from returns_contracts import ReturnResolved
from returns_contracts.service_kit.testing import error_of
from returns_declaration.domain.model import TimelineEntry
from returns_declaration.service.ports import TimelineChange

from .builders import NOW, returned
from .test_api_on_fakes import OPERATOR, merchant_key
from .test_pages_on_fakes import error_beside, located
from .web_world import CSRF, USER_EMAIL, World, world


@pytest.fixture
async def app() -> AsyncIterator[World]:
    async with world() as built:
        yield built


async def defective_return(app: World, merchant_id: str = "shop") -> str:
    declared = returned(merchant_id, 1, defective=True)
    first = TimelineEntry(event_id=f"submitted-{declared.id}", kind="submitted", at=NOW)
    await app.store.add_return(declared, TimelineChange(entry=first))
    return declared.id


def resolutions(app: World) -> list[ReturnResolved]:
    return [event for event in app.store.outbox if isinstance(event, ReturnResolved)]


def path(return_id: str, merchant_id: str = "shop") -> str:
    return f"/v1/merchants/{merchant_id}/returns/{return_id}/resolutions"


# --- the API ---------------------------------------------------------------------------------


async def test_an_api_key_resolves_its_merchant_s_defective_return(app: World) -> None:
    return_id = await defective_return(app)
    key = await merchant_key(app)

    answer = await app.client.post(
        path(return_id),
        json={"resolution": "replacement", "note": "A new mug.", "resolved_by_name": "Bot"},
        headers=key,
    )

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["resolution"]["kind"] == "replacement"
    assert body["resolution"]["note"] == "A new mug."
    assert body["resolution"]["actor"]["kind"] == "api_key"
    assert body["resolution"]["actor"]["display_name"] == "Bot"
    assert [entry["kind"] for entry in body["timeline"]] == ["submitted", "resolved_replacement"]
    [event] = resolutions(app)
    assert event.payload.resolution == "replacement"


async def test_the_operator_reads_but_does_not_resolve(app: World) -> None:
    return_id = await defective_return(app)

    answer = await app.client.post(
        path(return_id), json={"resolution": "replacement"}, headers=OPERATOR
    )

    error_of(answer, 403, "not_allowed")
    assert resolutions(app) == []


async def test_another_merchant_s_key_finds_nothing(app: World) -> None:
    theirs = await defective_return(app, "other")
    key = await merchant_key(app)

    on_their_path = await app.client.post(
        path(theirs, "other"), json={"resolution": "replacement"}, headers=key
    )
    on_my_path = await app.client.post(
        path(theirs), json={"resolution": "replacement"}, headers=key
    )
    nobody = await app.client.post(path(theirs, "other"), json={"resolution": "replacement"})

    error_of(on_their_path, 404, "not_found")
    error_of(on_my_path, 404, "not_found")
    error_of(nobody, 401, "not_authenticated")
    assert resolutions(app) == []


async def test_bad_input_gets_the_one_error_shape(app: World) -> None:
    return_id = await defective_return(app)
    classic = returned("shop", 2)
    await app.store.add_return(
        classic, TimelineChange(entry=TimelineEntry(event_id="c", kind="submitted", at=NOW))
    )
    key = await merchant_key(app)

    unknown = await app.client.post(path(return_id), json={"resolution": "exchange"}, headers=key)
    no_reason = await app.client.post(path(return_id), json={"resolution": "declined"}, headers=key)
    missing = await app.client.post(path("r-nope"), json={"resolution": "label"}, headers=key)
    not_defective = await app.client.post(
        path(classic.id), json={"resolution": "label"}, headers=key
    )

    # The validation shape is the operations kit's (installed by the process, e2e tests).
    assert unknown.status_code == 422
    fields = error_of(no_reason, 422, "rule_broken")["fields"]
    assert [(item["field"], item["code"]) for item in fields] == [
        ("note", "decline_reason_required")
    ]
    assert "pourquoi" in fields[0]["message"]  # the shop's language: French
    error_of(missing, 404, "not_found")
    assert error_of(not_defective, 422, "rule_broken")["fields"][0]["code"] == "not_defective"
    assert resolutions(app) == []


async def test_an_older_decision_is_a_conflict(app: World) -> None:
    return_id = await defective_return(app)
    key = await merchant_key(app)
    first = await app.client.post(path(return_id), json={"resolution": "replacement"}, headers=key)
    assert first.status_code == 201, first.text

    # The clock stands still: a different decision at the same time is not newer.
    same_time = await app.client.post(
        path(return_id), json={"resolution": "refund_without_return"}, headers=key
    )

    error_of(same_time, 409, "resolution_outdated")
    assert len(resolutions(app)) == 1


# --- the record page ---------------------------------------------------------------------------


async def test_the_record_page_offers_the_resolutions_of_a_defective_return(app: World) -> None:
    return_id = await defective_return(app)
    await app.back_office_sign_in()

    page = await app.client.get(f"/back-office/merchants/shop/returns/{return_id}")

    assert page.status_code == 200
    assert 'name="resolution" value="refund_without_return"' in page.text
    assert "Aucune résolution pour l&#39;instant" in page.text


async def test_the_form_resolves_and_the_record_shows_it(app: World) -> None:
    return_id = await defective_return(app)
    await app.back_office_sign_in()
    record = f"/back-office/merchants/shop/returns/{return_id}"

    forged = await app.client.post(
        f"{record}/resolution", data={"csrf": "x", "resolution": "replacement"}
    )
    sent = await app.client.post(
        f"{record}/resolution",
        data={"csrf": CSRF, "resolution": "declined", "note": "Dropped after delivery."},
    )
    shown = await app.client.get(located(sent))

    assert forged.status_code == 403
    assert located(sent) == f"{record}?resolved=1"
    [event] = resolutions(app)
    assert event.payload.resolution == "declined"
    assert event.payload.resolved_by.id == USER_EMAIL
    assert "Résolution : refusé" in shown.text
    assert "Dropped after delivery." in shown.text
    assert "le client est prévenu par e-mail" in shown.text


async def test_a_refused_decision_is_shown_beside_its_field_in_the_merchant_s_language(
    app: World,
) -> None:
    return_id = await defective_return(app)
    await app.back_office_sign_in()
    record = f"/back-office/merchants/shop/returns/{return_id}"

    no_reason = await app.client.post(
        f"{record}/resolution", data={"csrf": CSRF, "resolution": "declined", "note": " "}
    )
    no_choice = await app.client.post(f"{record}/resolution", data={"csrf": CSRF})

    assert no_reason.status_code == 422
    assert "pourquoi" in error_beside(no_reason, "note")
    assert no_choice.status_code == 422
    assert error_beside(no_choice, "resolution").startswith("Choisissez une résolution")
    assert resolutions(app) == []


async def test_the_settings_page_turns_the_mixed_returns_setting_on_and_off(app: World) -> None:
    await app.back_office_sign_in()
    settings = "/back-office/merchants/shop/settings"
    form = {
        "csrf": CSRF,
        "customer_service_email": "cs@shop.example",
        "locale": "fr",
        "return_window_days": "30",
    }

    on = await app.client.post(settings, data={**form, "split_mixed_returns": "1"})
    shown = await app.client.get(settings)
    turned_on = app.store.merchants["shop"].split_mixed_returns
    off = await app.client.post(settings, data=form)

    assert located(on) == f"{settings}?saved=1" and located(off) == f"{settings}?saved=1"
    assert turned_on is True
    assert 'name="split_mixed_returns" value="1" checked' in shown.text
    assert app.store.merchants["shop"].split_mixed_returns is False


async def test_the_api_reads_and_writes_the_mixed_returns_setting(app: World) -> None:
    key = await merchant_key(app)
    current = (await app.client.get("/v1/merchants/shop", headers=key)).json()
    settings = {
        name: current[name]
        for name in ("name", "locale", "customer_service_email", "return_window_days")
    }

    put = await app.client.put(
        "/v1/merchants/shop", json={**settings, "split_mixed_returns": True}, headers=key
    )
    wrong = await app.client.put(
        "/v1/merchants/shop", json={**settings, "split_mixed_returns": "maybe"}, headers=key
    )

    assert current["split_mixed_returns"] is False
    assert put.status_code == 200, put.text
    assert put.json()["split_mixed_returns"] is True
    assert wrong.status_code == 422
