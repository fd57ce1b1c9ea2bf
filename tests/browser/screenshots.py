"""Screenshots of every page, at phone (360x740) and desktop (1280x800) width, for the README.

Not a test: run it against running services (`make run` in another terminal), e.g.

    .venv/bin/python tests/browser/screenshots.py docs/screens

Each width gets its own merchant (so both walks start from a fresh order) and walks the same
path as the browser tests: the customer's mixed return, a refused step, then the merchant's
back-office.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from browser_kit import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Shop,
    choose_items,
    choose_reasons,
    make_photo,
    make_shop,
    merchant_sign_in,
    mixed_return,
    resolve_on_record,
    sign_in,
)
from returns_infra.testing import eventually, messages_to

SIZES = {"phone": (360, 740), "desktop": (1280, 800)}
DECLINED = "La fêlure vient d'une chute après la livraison, comme le montre la photo."


def walk(page: Page, shop: Shop, photo: Path, out: Path, size: str) -> None:
    def shot(name: str) -> None:
        page.screenshot(path=out / f"{size}-{name}.png", full_page=True)

    page.goto(shop.base_url + "/")
    shot("0-landing")
    mixed_return(page, shop, photo, shot)
    eventually(
        lambda: messages_to(shop.mailpit_url, shop.customer_service) or None,
        90,
        "the customer-service e-mail",
    )

    # A defective line without its photo, refused beside the field.
    sign_in(page, shop)
    shot("2b-items-not-returnable")
    choose_items(page, {"1": 1})
    choose_reasons(page, {"1": "damaged"})
    page.get_by_label("Décrivez le défaut").fill("Le second mug est fêlé aussi.")
    page.get_by_role("button", name="Continuer").click()
    expect(page.locator(".field-error").first).to_be_visible()
    shot("4b-details-error")

    merchant_sign_in(page, shop, shot)
    shot("8-returns")
    page.locator("table").first.get_by_role("link", name="A-1001").click()
    photo_element = page.locator(".thumbs img").first
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=photo_element.element_handle()
    )
    shot("9-record")
    page.get_by_role("button", name="Générer l'étiquette et l'envoyer au client").click()
    expect(page.get_by_role("status")).to_be_visible()

    def generated() -> bool | None:
        page.reload()
        return page.locator("#label-status").inner_text() == "Générée" or None

    eventually(generated, 90, "the label")
    shot("10-record-label")
    page.get_by_role("link", name="Réglages").click()
    shot("11-settings")

    # A classic return: the confirmation offers the label once labels has made it.
    sign_in(page, shop)
    choose_items(page, {"1": 1})
    choose_reasons(page, {"1": "wrong_size"})
    page.get_by_label("Échange").check()
    page.get_by_role("button", name="Continuer").click()
    page.get_by_role("button", name="Valider mon retour").click()
    expect(page.get_by_role("status")).to_be_visible()
    shot("6b-confirmation-label-pending")

    def label_link() -> bool | None:
        page.reload()
        return page.locator("#label-link").count() > 0 or None

    eventually(label_link, 90, "the label link")
    shot("6c-confirmation-label")


def walk_resolution(page: Page, shop: Shop, photo: Path, out: Path, size: str) -> None:
    """Issue 15: support resolves a defective return from its record (a fresh merchant)."""

    def shot(name: str) -> None:
        page.screenshot(path=out / f"{size}-{name}.png", full_page=True)

    mixed_return(page, shop, photo)
    merchant_sign_in(page, shop)
    page.locator("table").first.get_by_role("link", name="A-1001").click()
    expect(page.get_by_role("heading", name="Commande A-1001")).to_be_visible()
    resolve_on_record(page, shop, "Refuser le retour", DECLINED, shot)

    def emailed() -> bool | None:
        page.reload()
        return (
            "Client prévenu" in page.locator(".timeline").inner_text().split("Résolution")[-1]
            or None
        )

    eventually(emailed, 90, "the resolution e-mail on the timeline")
    shot("13-record-resolved")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, nargs="?", default=Path("docs/screens"))
    parser.add_argument("--url", default="http://127.0.0.1:8001", help="declaration")
    parser.add_argument("--mailpit-url", default="http://127.0.0.1:8025")
    arguments = parser.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing: `make chromium` installs it")
    arguments.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch, sync_playwright() as playwright:
        photo = make_photo(Path(scratch) / "mug.jpg")
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        for size, (width, height) in SIZES.items():
            shop = make_shop(arguments.url, arguments.mailpit_url)
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale="fr-FR"
            )
            walk(context.new_page(), shop, photo, arguments.out, size)
            context.close()
            context = browser.new_context(
                viewport={"width": width, "height": height}, locale="fr-FR"
            )
            walk_resolution(
                context.new_page(),
                make_shop(arguments.url, arguments.mailpit_url),
                photo,
                arguments.out,
                size,
            )
            context.close()
        browser.close()
    print(f"screenshots written to {arguments.out}")


if __name__ == "__main__":
    main()
