"""Issue 15 in a real browser (headless Chromium) against the four services and the real
servers: a defective return goes from the customer's submission to the customer's resolution
e-mail through the pages alone."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from browser_kit import (
    Shop,
    check_basics,
    merchant_sign_in,
    mixed_return,
    resolve_on_record,
)
from returns_infra.testing import eventually, message_detail, messages_to

pytestmark = pytest.mark.e2e

DECLINED = "La fêlure vient d'une chute après la livraison, comme le montre la photo."


def _resolution_email(shop: Shop) -> dict[str, object] | None:
    found = [
        message
        for message in messages_to(shop.mailpit_url, shop.customer_email)
        if "suite donnée à votre retour" in str(message["Subject"])
    ]
    return found[0] if found else None


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_support_declines_a_defective_return_from_its_record_and_the_customer_is_told(
    size: str, shop: Shop, photo_file: Path, request: pytest.FixtureRequest
) -> None:
    page: Page = request.getfixturevalue(size)
    mixed_return(page, shop, photo_file)
    merchant_sign_in(page, shop)
    page.locator("table").first.get_by_role("link", name="A-1001").click()
    expect(page.get_by_role("heading", name="Commande A-1001")).to_be_visible()
    check_basics(page)

    resolve_on_record(page, shop, "Refuser le retour", DECLINED, lambda _: check_basics(page))

    check_basics(page)
    expect(page.locator("#current-resolution")).to_contain_text("Refuser le retour")
    expect(page.locator("#current-resolution")).to_contain_text(DECLINED)
    expect(page.locator(".timeline")).to_contain_text("Résolution : refusé")
    email = eventually(lambda: _resolution_email(shop), 90, "the customer's resolution e-mail")
    detail = message_detail(shop.mailpit_url, str(email["ID"]))
    assert "ne peut pas l'accepter" in detail["Text"] and DECLINED in detail["Text"]

    # The record's timeline shows the e-mail after the decision, each step in time order.
    def told() -> list[str] | None:
        page.reload()
        steps = page.locator(".timeline li").all_inner_texts()
        decided = [i for i, step in enumerate(steps) if "Résolution : refusé" in step]
        after = [i for i, step in enumerate(steps) if "Client prévenu" in step]
        return steps if decided and after and max(after) > decided[0] else None

    steps = eventually(told, 60, "the resolution e-mail on the timeline")
    times = [step.split(" — ")[0] for step in steps]
    assert times == sorted(times)
    # No second "to handle": the resolved return left the merchant's queue.
    page.get_by_role("link", name="Retours", exact=True).click()
    expect(page.locator("table").first).to_contain_text("Aucun retour.")
    expect(page.locator("table").last.get_by_role("link", name="A-1001")).to_be_visible()

    # The e-mail links to the customer's status page, which shows the decision and its reason.
    found = re.search(r"Suivre votre retour : (https?://\S+/status\?\S+)", str(detail["Text"]))
    assert found, detail["Text"]
    page.goto(html.unescape(found.group(1)))
    expect(page.locator("#status-kind")).to_have_text("Retour refusé")
    expect(page.locator("#next-step")).to_contain_text("ne peut pas accepter ce retour")
    expect(page.locator("#resolution-note")).to_have_text(DECLINED)
    check_basics(page)


def test_a_label_chosen_on_the_record_reaches_the_customer_as_the_label_email(
    desktop: Page, shop: Shop, photo_file: Path
) -> None:
    page = desktop
    mixed_return(page, shop, photo_file)
    merchant_sign_in(page, shop)
    page.locator("table").first.get_by_role("link", name="A-1001").click()

    page.get_by_label("Étiquette de retour (envoyée au client par e-mail)").check()
    page.get_by_role("button", name="Enregistrer et prévenir le client").click()

    expect(page.get_by_role("status")).to_contain_text("Résolution enregistrée")
    expect(page.locator("#label-status")).to_have_text("Demandée")

    def label_email() -> dict[str, object] | None:
        for message in messages_to(shop.mailpit_url, shop.customer_email):
            if int(str(message.get("Attachments", 0))) > 0:
                return message
        return None

    eventually(label_email, 90, "the customer's label e-mail")
    assert _resolution_email(shop) is None
