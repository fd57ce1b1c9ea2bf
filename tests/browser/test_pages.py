"""The portal and the back-office in a real browser (headless Chromium), against the four
services and the real servers: what a customer and a merchant's support team do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from browser_kit import (
    Shop,
    check_basics,
    choose_items,
    choose_reasons,
    make_shop,
    merchant_sign_in,
    mixed_return,
    sign_in,
)
from returns_infra.fixtures import RunningServices
from returns_infra.testing import eventually, message_detail, messages_to, wait_for_messages_to

pytestmark = pytest.mark.e2e


def _with_attachment(shop: Shop) -> dict[str, Any] | None:
    for message in messages_to(shop.mailpit_url, shop.customer_email):
        if message.get("Attachments", 0) > 0:
            return message
    return None


def test_a_mixed_return_reaches_customer_service_and_the_merchant_sends_the_label(
    phone: Page, desktop: Page, shop: Shop, photo_file: Path
) -> None:
    return_id = mixed_return(phone, shop, photo_file, shot=lambda _: check_basics(phone))
    expect(phone.get_by_role("status")).to_contain_text("Le marchand va vous contacter")
    check_basics(phone)

    [to_service] = wait_for_messages_to(shop.mailpit_url, shop.customer_service, 1, timeout=90)
    detail = message_detail(shop.mailpit_url, to_service["ID"])
    assert "A-1001" in detail["Text"]
    assert return_id in detail["Text"]

    merchant_sign_in(desktop, shop, shot=lambda _: check_basics(desktop))
    check_basics(desktop)
    # A defective return waits for the merchant: it is listed first, under "to handle".
    desktop.locator("table").first.get_by_role("link", name="A-1001").click()
    expect(desktop.get_by_role("heading", name="Commande A-1001")).to_be_visible()
    expect(desktop.get_by_text("L'anse du mug est fêlée")).to_be_visible()
    photo = desktop.locator(".thumbs img").first
    expect(photo).to_be_visible()
    desktop.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=photo.element_handle()
    )
    check_basics(desktop)
    full_image = desktop.locator(".thumbs a").first.get_attribute("href")
    assert full_image is not None
    assert httpx.get(full_image, timeout=15).headers["content-type"].startswith("image/")

    desktop.get_by_role("button", name="Générer l'étiquette et l'envoyer au client").click()
    expect(desktop.get_by_role("status")).to_contain_text("Étiquette demandée")
    label_mail = eventually(lambda: _with_attachment(shop), 90, "the customer's label e-mail")
    assert label_mail["To"][0]["Address"] == shop.customer_email

    def generated() -> bool | None:
        desktop.reload()
        return desktop.locator("#label-status").inner_text() == "Générée" or None

    eventually(generated, 30, "the label shown as generated on the record")
    expect(desktop.get_by_role("button", name="Régénérer l'étiquette")).to_be_visible()

    # The filters of the list: by defective, by submission day.
    listed = desktop.locator("table").last
    desktop.get_by_role("link", name="Retours", exact=True).click()
    desktop.get_by_label("Défectueux").select_option("no")
    desktop.get_by_role("button", name="Filtrer").click()
    expect(listed).to_contain_text("Aucun retour.")
    desktop.get_by_label("Défectueux").select_option("yes")
    desktop.get_by_label("Déclaré à partir du").fill(datetime.now(UTC).date().isoformat())
    desktop.get_by_role("button", name="Filtrer").click()
    expect(listed.get_by_role("link", name="A-1001")).to_be_visible()
    desktop.get_by_label("Déclaré jusqu'au").fill(
        (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    )
    desktop.get_by_role("button", name="Filtrer").click()
    expect(listed).to_contain_text("Aucun retour.")


def test_a_defective_line_without_a_photo_is_refused_beside_the_field(
    phone: Page, shop: Shop
) -> None:
    sign_in(phone, shop)
    choose_items(phone, {"1": 1})
    choose_reasons(phone, {"1": "damaged"})
    phone.get_by_label("Décrivez le défaut").fill("Le mug est arrivé fêlé, voyez l'anse.")
    phone.get_by_role("button", name="Continuer").click()

    expect(phone.get_by_role("heading", name="Détails")).to_be_visible()
    error = phone.locator("#\\31 -photo_ids-error")
    expect(error).to_have_text("Ajoutez entre 1 et 5 photos.")
    expect(phone.locator("#photos_1")).to_have_attribute("aria-invalid", "true")
    # What the customer typed is still there.
    expect(phone.get_by_label("Décrivez le défaut")).to_have_value(
        "Le mug est arrivé fêlé, voyez l'anse."
    )


def test_a_classic_return_offers_its_label_on_the_confirmation_page(
    phone: Page, shop: Shop
) -> None:
    sign_in(phone, shop)
    choose_items(phone, {"2": 1})
    choose_reasons(phone, {"2": "wrong_size"})
    phone.get_by_label("Échange").check()
    phone.get_by_role("button", name="Continuer").click()
    phone.get_by_role("button", name="Valider mon retour").click()
    expect(phone.get_by_role("status")).to_contain_text("étiquette de retour")

    def label_link() -> str | None:
        phone.reload()
        link = phone.locator("#label-link")
        return link.get_attribute("href") if link.count() else None

    href = eventually(label_link, 90, "the label link on the confirmation page")
    answer = httpx.get(href, timeout=15)
    assert answer.status_code == 200
    assert answer.content.startswith(b"%PDF")


def test_an_english_merchant_s_portal_speaks_english(
    phone: Page, services: RunningServices
) -> None:
    shop = make_shop(services.urls["declaration"], services.env["MAILPIT_URL"], locale="en")
    phone.goto(shop.portal)
    phone.get_by_label("Order number").fill("A-1001")
    phone.get_by_label("E-mail address").fill("someone-else@example.com")
    phone.get_by_role("button", name="Continue").click()
    expect(phone.locator("#order_number-error")).to_contain_text("We cannot find an order")
    expect(phone.get_by_label("Order number")).to_have_value("A-1001")


def test_without_javascript_the_photo_goes_with_the_form(
    phone_without_js: Page, shop: Shop, photo_file: Path
) -> None:
    mixed_return(phone_without_js, shop, photo_file, scripted=False)
    expect(phone_without_js.get_by_role("status")).to_contain_text("Le marchand va vous contacter")


def test_with_javascript_photos_show_as_they_upload_and_one_can_be_removed(
    phone: Page, shop: Shop, photo_file: Path
) -> None:
    sign_in(phone, shop)
    choose_items(phone, {"1": 1})
    choose_reasons(phone, {"1": "damaged"})
    phone.get_by_label("Décrivez le défaut").fill("Fêlure visible sur le bord du mug.")
    phone.locator("#photos_1").set_input_files([photo_file, photo_file])
    uploaded = phone.locator("#uploads_1 li[data-photo]")
    expect(uploaded).to_have_count(2)
    removed = uploaded.first.get_attribute("data-photo")
    kept = uploaded.last.get_attribute("data-photo")
    assert removed is not None and kept is not None and removed != kept
    uploaded.first.get_by_role("button", name="Retirer").click()
    expect(uploaded).to_have_count(1)
    phone.get_by_role("button", name="Continuer").click()

    expect(phone.get_by_role("heading", name="Récapitulatif")).to_be_visible()
    thumbnails = phone.locator(".thumbs img")
    expect(thumbnails).to_have_count(1)
    source = thumbnails.first.get_attribute("src") or ""
    assert kept in source and removed not in source


def test_the_portal_works_with_the_keyboard_alone(phone: Page, shop: Shop) -> None:
    phone.goto(shop.portal)
    phone.keyboard.press("Tab")  # the first control of the page
    phone.keyboard.type("A-1001")
    phone.keyboard.press("Tab")
    phone.keyboard.type(shop.customer_email)
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("heading", name="Articles à retourner")).to_be_visible()

    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.id") == "qty_1"
    phone.keyboard.press("ArrowDown")
    for _ in range(3):
        if phone.evaluate("document.activeElement.tagName") == "BUTTON":
            break
        phone.keyboard.press("Tab")
    phone.keyboard.press("Enter")
    expect(phone.get_by_role("heading", name="Motif du retour")).to_be_visible()
    check_basics(phone)


def test_the_back_office_fits_a_phone(phone: Page, shop: Shop) -> None:
    merchant_sign_in(phone, shop)
    check_basics(phone)
    phone.get_by_role("link", name="Réglages").click()
    expect(phone.get_by_role("heading", name="Réglages")).to_be_visible()
    check_basics(phone)
