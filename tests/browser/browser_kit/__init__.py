"""What the browser tests and the screenshot script share: Debian's Chromium launched through
Playwright (never a downloaded browser), a merchant of its own with a back-office login, a real
photo file, and the customer's walk through the portal's pages."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, expect, sync_playwright

from returns_declaration.entrypoints.demo import (
    DEMO_ADMIN_TOKEN,
    add_back_office_user,
    configure_merchant,
    put_order,
)

CHROMIUM = Path(os.environ.get("RETURNS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
ADMIN_TOKEN = os.environ.get("ADMIN_API_TOKEN", DEMO_ADMIN_TOKEN)
PASSWORD = "browser-test-password"
REASONS = {
    "damaged": {
        "label_fr": "Article abîmé à la livraison",
        "label_en": "Item damaged on delivery",
        "defective": True,
    },
    "wrong_size": {
        "label_fr": "Taille ne convient pas",
        "label_en": "Wrong size",
        "defective": False,
    },
}


@dataclass(frozen=True)
class Shop:
    merchant_id: str
    base_url: str
    customer_service: str
    customer_email: str
    user_email: str
    password: str
    mailpit_url: str

    @property
    def portal(self) -> str:
        return f"{self.base_url}/portal/{self.merchant_id}"


def make_shop(base_url: str, mailpit_url: str, locale: str = "fr") -> Shop:
    suffix = uuid.uuid4().hex[:10]
    merchant_id = f"browser-{suffix}"
    customer_service = f"cs-{suffix}@shop.example"
    customer_email = f"client-{suffix}@example.com"
    user_email = f"support-{suffix}@shop.example"
    settings: dict[str, Any] = {
        "name": "Boutique Test",
        "locale": locale,
        "customer_service_email": customer_service,
        "return_window_days": 30,
        "return_types": ["refund", "exchange"],
        "return_address": {
            "name": "Boutique Test - Retours",
            "line1": "1 rue du Port",
            "postal_code": "44000",
            "city": "Nantes",
            "country": "FR",
        },
    }
    order = {
        "ordered_on": (datetime.now(UTC) - timedelta(days=3)).date().isoformat(),
        "customer": {
            "name": "Léa Bernard",
            "email": customer_email,
            "address": {
                "line1": "5 rue Crébillon",
                "postal_code": "44000",
                "city": "Nantes",
                "country": "FR",
            },
        },
        "lines": [
            {
                "line_id": "1",
                "sku": "MUG",
                "name": "Mug en grès",
                "quantity": 2,
                "unit_price_cents": 1800,
                "image_url": f"{base_url}/static/demo/mug.svg",
            },
            {
                "line_id": "2",
                "sku": "TEE",
                "name": "T-shirt coton (M)",
                "quantity": 1,
                "unit_price_cents": 2500,
                "image_url": f"{base_url}/static/demo/tshirt.svg",
            },
        ],
    }
    with httpx.Client(base_url=base_url, timeout=15) as client:
        api_key = configure_merchant(client, ADMIN_TOKEN, merchant_id, settings, REASONS)
        put_order(client, api_key, merchant_id, "A-1001", order)
        add_back_office_user(client, ADMIN_TOKEN, merchant_id, user_email, PASSWORD, "Julie")
    return Shop(
        merchant_id=merchant_id,
        base_url=base_url,
        customer_service=customer_service,
        customer_email=customer_email,
        user_email=user_email,
        password=PASSWORD,
        mailpit_url=mailpit_url,
    )


def make_photo(path: Path) -> Path:
    """A real JPEG as a phone would send it (pillow draws it)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (1200, 900), (214, 222, 230))
    draw = ImageDraw.Draw(image)
    draw.ellipse((350, 200, 850, 700), fill=(40, 90, 170))
    draw.line((500, 250, 640, 640), fill=(250, 250, 250), width=14)
    image.save(path, "JPEG", quality=88)
    return path


Shot = Callable[[str], None]


def _no_shot(name: str) -> None:
    pass


def sign_in(page: Page, shop: Shop, order_number: str = "A-1001", shot: Shot = _no_shot) -> None:
    page.goto(shop.portal)
    page.get_by_label("Numéro de commande").fill(order_number)
    page.get_by_label("Adresse e-mail").fill(shop.customer_email)
    shot("1-identify")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", name="Articles à retourner")).to_be_visible()


def choose_items(page: Page, quantities: dict[str, int], shot: Shot = _no_shot) -> None:
    for line_id, quantity in quantities.items():
        page.locator(f"#qty_{line_id}").select_option(str(quantity))
    shot("2-items")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", name="Motif du retour")).to_be_visible()


def choose_reasons(page: Page, reasons: dict[str, str], shot: Shot = _no_shot) -> None:
    for line_id, code in reasons.items():
        page.locator(f"#reason_{line_id}").select_option(code)
    shot("3-reasons")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", name="Détails")).to_be_visible()


def mixed_return(
    page: Page, shop: Shop, photo: Path, shot: Shot = _no_shot, scripted: bool = True
) -> str:
    """One damaged mug with a comment and a photo, one T-shirt refunded; the return id.

    With JavaScript the photo goes up as soon as it is chosen (a thumbnail replaces the
    progress bar); without, it goes with the form."""
    sign_in(page, shop, shot=shot)
    choose_items(page, {"1": 1, "2": 1}, shot=shot)
    choose_reasons(page, {"1": "damaged", "2": "wrong_size"}, shot=shot)
    page.get_by_label("Décrivez le défaut").fill("L'anse du mug est fêlée sur toute sa hauteur.")
    page.locator("#photos_1").set_input_files(photo)
    if scripted:
        # The first upload of a run also warms media's image pool: on a busy 2-core machine
        # it has taken longer than Playwright's default 5 s.
        expect(page.locator("#uploads_1 li[data-photo]")).to_have_count(1, timeout=30_000)
    page.get_by_label("Remboursement").check()
    shot("4-details")
    page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("heading", name="Récapitulatif")).to_be_visible()
    thumbnail = page.locator(".thumbs img").first
    expect(thumbnail).to_be_visible()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )
    shot("5-summary")
    page.get_by_role("button", name="Valider mon retour").click()
    expect(page.get_by_role("heading", name="Retour enregistré")).to_be_visible()
    shot("6-confirmation")
    return page.locator("code").first.inner_text()


def merchant_sign_in(page: Page, shop: Shop, shot: Shot = _no_shot) -> None:
    page.goto(f"{shop.base_url}/back-office/login")
    page.get_by_label("Adresse e-mail").fill(shop.user_email)
    page.get_by_label("Mot de passe").fill(shop.password)
    shot("7-login")
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", name="Retours", exact=True)).to_be_visible()


_UNLABELLED = """() => [...document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button')]
  .filter(e => !((e.labels && e.labels.length) || e.getAttribute('aria-label')
                 || (e.tagName === 'BUTTON' && e.textContent.trim())))
  .map(e => e.outerHTML)"""


def check_basics(page: Page) -> None:
    """Every control has a name a screen reader reads, and nothing is wider than the screen."""
    assert page.evaluate(_UNLABELLED) == [], page.url
    viewport = page.viewport_size
    assert viewport is not None
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{page.url} is {width} px wide"


@contextmanager
def launched_chromium() -> Iterator[Browser]:
    """Debian's Chromium through Playwright, for a test module's `browser` fixture (module
    scope: while Playwright's sync driver runs, its event loop counts as running in the
    thread, and the asyncio tests of other modules could not start theirs)."""
    if not CHROMIUM.exists():
        # A browser test that skips would let `make test` pass without the pages being tried.
        raise RuntimeError(f"{CHROMIUM} is missing: `make chromium` installs it (as root)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


def resolve_on_record(
    page: Page, shop: Shop, choice: str, note: str, shot: Shot = _no_shot
) -> None:
    """On the return record of order A-1001 (open in `page`): choose a resolution, first
    without the note a decline needs (refused beside the field), then with it."""
    expect(page.get_by_text("Aucune résolution pour l'instant")).to_be_visible()
    page.get_by_label(choice).check()
    shot("12-record-resolution")
    page.get_by_role("button", name="Enregistrer et prévenir le client").click()
    expect(page.locator("#note-error")).to_contain_text("pourquoi")
    shot("12b-record-resolution-error")
    page.get_by_label("Message au client").fill(note)
    page.get_by_role("button", name="Enregistrer et prévenir le client").click()
    expect(page.get_by_role("status")).to_contain_text("Résolution enregistrée")
