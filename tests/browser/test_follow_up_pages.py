"""Issue 15 in a real browser, on the real services: support asks a question from the return
record, the customer answers from the e-mail's link on a phone with a photo, the record shows
the exchange; the acknowledgement's link opens the customer's status page.

With `RETURNS_SCREENSHOTS=<folder>` set, the pages are also saved there as the README's
pictures (`docs/screens/`, phone and desktop).
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from browser_kit import Shop, check_basics, merchant_sign_in, mixed_return
from returns_infra.testing import eventually, message_detail, messages_to

pytestmark = pytest.mark.e2e

QUESTION = "Pourriez-vous photographier l'étiquette collée sous le mug ?"
ANSWER = "Voici l'étiquette : le numéro de lot est sur la photo."


def shot(page: Page, name: str) -> None:
    folder = os.environ.get("RETURNS_SCREENSHOTS")
    if folder:
        page.screenshot(path=Path(folder) / f"{name}.png", full_page=True)


def _mail_text(shop: Shop, to: str, subject: str) -> str:
    def found() -> str | None:
        for message in messages_to(shop.mailpit_url, to):
            if subject in str(message.get("Subject", "")):
                return str(message_detail(shop.mailpit_url, message["ID"])["Text"])
        return None

    return eventually(found, 90, f"the e-mail '{subject}' to {to}")


def _link(text: str, pattern: str) -> str:
    match = re.search(pattern, text)
    assert match, text[:2000]
    return html.unescape(match.group(0))


def test_support_asks_and_the_customer_answers_with_a_photo(
    phone: Page, desktop: Page, shop: Shop, photo_file: Path
) -> None:
    return_id = mixed_return(phone, shop, photo_file)
    record_url = f"{shop.base_url}/back-office/merchants/{shop.merchant_id}/returns/{return_id}"

    merchant_sign_in(desktop, shop)
    desktop.goto(record_url)
    desktop.get_by_label("Question au client").fill("?")
    desktop.get_by_role("button", name="Envoyer la question").click()
    expect(desktop.locator("#question-error")).to_be_visible()  # too short, said beside it
    desktop.get_by_label("Question au client").fill(QUESTION)
    desktop.get_by_role("button", name="Envoyer la question").click()
    expect(desktop.get_by_role("status")).to_contain_text("Question envoyée au client.")
    expect(desktop.locator("#exchange")).to_contain_text("En attente de réponse")
    check_basics(desktop)
    shot(desktop, "desktop-13-record-question")

    text = _mail_text(shop, shop.customer_email, "une question sur votre retour")
    answer_url = _link(text, r"https?://\S+/questions/\S+\?exp=\d+&sig=\S+")
    phone.goto(answer_url)
    expect(phone.get_by_role("heading", name="Le marchand a une question")).to_be_visible()
    expect(phone.locator("#question")).to_have_text(QUESTION)
    check_basics(phone)
    shot(phone, "phone-13-question")
    phone.get_by_label("Votre réponse").fill(ANSWER)
    phone.get_by_label("Photos (jusqu'à 5)").set_input_files(photo_file)
    phone.get_by_role("button", name="Envoyer ma réponse").click()
    expect(phone.get_by_role("heading", name="Merci, votre réponse")).to_be_visible()
    check_basics(phone)
    shot(phone, "phone-14-answered")

    # The link works once: a second visit says so, in the merchant's language.
    again = phone.goto(answer_url)
    assert again is not None and again.status == 409
    expect(phone.get_by_role("heading")).to_contain_text("Vous avez déjà répondu")
    shot(phone, "phone-14b-link-used")

    cs_text = _mail_text(shop, shop.customer_service, "Réponse du client")
    assert ANSWER in cs_text and "/p/" in cs_text

    desktop.goto(record_url)
    exchange = desktop.locator("#exchange")
    expect(exchange).to_contain_text(ANSWER)
    thumbnail = exchange.locator(".answer-photos img").first
    expect(thumbnail).to_be_visible()
    desktop.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )
    timeline = desktop.locator("ol.timeline")
    expect(timeline).to_contain_text("Question au client")
    expect(timeline).to_contain_text("Réponse du client")
    check_basics(desktop)
    shot(desktop, "desktop-15-record-exchange")


def test_the_acknowledgement_opens_the_status_page_on_a_phone(
    phone: Page, desktop: Page, shop: Shop, photo_file: Path
) -> None:
    return_id = mixed_return(phone, shop, photo_file)
    text = _mail_text(shop, shop.customer_email, "nous avons bien reçu votre retour")
    status_url = _link(text, r"https?://\S+/returns/" + return_id + r"/status\?\S+")

    for page, size in ((phone, "phone"), (desktop, "desktop")):
        page.goto(status_url)
        expect(page.get_by_role("heading", name="Suivi de votre retour")).to_be_visible()
        expect(page.locator("#status-kind")).to_have_text("Retour reçu")
        expect(page.locator("#next-step")).to_contain_text("le marchand va vous contacter")
        expect(page.locator("main")).to_contain_text("Mug en grès")
        expect(page.locator("main")).to_contain_text("T-shirt coton (M)")
        check_basics(page)
        shot(page, f"{size}-12-status")

    altered = status_url.replace("sig=", "sig=A")
    answer = phone.goto(altered)
    assert answer is not None and answer.status == 403
    expect(phone.get_by_role("heading")).to_contain_text("Ce lien n'est pas valable")
    shot(phone, "phone-12b-status-link-invalid")
