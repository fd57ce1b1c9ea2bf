"""Render every e-mail template (FR and EN) with sample data and screenshot it as a PNG.

    .venv/bin/python services/notifier/scripts/render_email_snapshots.py [docs/emails]

Needs a Chromium on PATH (`apt-get install chromium`). Not part of `make test`: the images are
documentation, committed under docs/emails/. Sample photos and the logo are drawn here and
served from 127.0.0.1 for the duration of the run, so the screenshots show real thumbnails.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import subprocess
import sys
import tempfile
import threading
from datetime import timedelta
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from returns_contracts import Locale, ResolutionKind
from returns_contracts.examples import (
    SUBMITTED_AT,
    customer_answered,
    information_requested,
    label_generated,
    merchant_updated,
    return_resolved,
    return_submitted,
)
from returns_notifier.adapters.rendering import JinjaRenderer
from returns_notifier.domain.emails import (
    CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT,
    CUSTOMER_INFORMATION_REQUEST,
    CUSTOMER_LABEL,
    CUSTOMER_RETURN_CONFIRMATION,
    CUSTOMER_SERVICE_ANSWER,
    CUSTOMER_SERVICE_DEFECTIVE,
    customer_return_context,
    customer_service_context,
    label_context,
    with_brand,
)
from returns_notifier.domain.follow_up_emails import answer_context, question_context
from returns_notifier.domain.model import Merchant, PhotoLink, ReturnRecord
from returns_notifier.domain.resolution_emails import CUSTOMER_RESOLUTION, resolution_context

WIDTH = 760
# Tall enough for the longest e-mail; the empty background below each one is cropped away.
HEIGHT = 2000
BACKGROUND = (244, 244, 245)
COMMENT = (
    "L'anse du mug est cassée net et le carton était écrasé sur un coin.\n"
    "J'ai pris deux photos : le mug et le colis. <b>Merci</b> de me recontacter."
)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
RESOLUTION_NOTES: dict[Locale, dict[ResolutionKind, str]] = {
    "fr": {
        "refund_without_return": "Inutile de nous renvoyer le mug : gardez-le ou recyclez-le.",
        "replacement": "Un mug neuf part demain, emballé avec plus de soin.",
        "declined": "La fêlure vient d'une chute après la livraison, comme le montre la photo.",
    },
    "en": {
        "refund_without_return": "No need to send the mug back: keep it or recycle it.",
        "replacement": "A new mug leaves tomorrow, packed with more care.",
        "declined": "The crack comes from a fall after delivery, as the photo shows.",
    },
}


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    try:
        return ImageFont.truetype(FONT, size)
    except OSError:
        return ImageFont.load_default()


def _draw_assets(folder: Path) -> None:
    logo = Image.new("RGB", (220, 40), (255, 255, 255))
    draw = ImageDraw.Draw(logo)
    draw.rounded_rectangle((0, 4, 32, 36), radius=6, fill=(29, 78, 216))
    draw.text((42, 8), "L'Atelier", fill=(24, 24, 27), font=_font(22))
    logo.save(folder / "logo.png")
    for name, color, caption in (
        ("photo-1", (226, 232, 240), "mug"),
        ("photo-2", (254, 243, 199), "carton"),
    ):
        photo = Image.new("RGB", (400, 300), color)
        draw = ImageDraw.Draw(photo)
        draw.rounded_rectangle((120, 80, 260, 240), radius=12, fill=(185, 28, 28))
        draw.arc((240, 120, 320, 200), 270, 90, fill=(185, 28, 28), width=14)
        draw.line((150, 90, 200, 230), fill=(24, 24, 27), width=4)
        draw.text((16, 12), caption, fill=(24, 24, 27), font=_font(24))
        photo.save(folder / f"{name}-thumb.jpg", quality=85)


class _QuietFiles(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_QuietFiles, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _pages(base_url: str) -> dict[str, str]:
    """File name -> HTML of every template in both languages."""
    renderer = JinjaRenderer()
    snapshot = merchant_updated().payload
    snapshot = snapshot.model_copy(
        update={
            "branding": snapshot.branding.model_copy(
                update={
                    "logo_url": f"{base_url}/logo.png",
                    "signature": "L'équipe de L'Atelier\nservice client - 04 78 00 00 00",
                }
            )
            if snapshot.branding
            else None
        }
    )
    merchant = Merchant.from_snapshot("m-atelier", snapshot)
    expires = SUBMITTED_AT + timedelta(days=30)
    photos = {
        media_id: PhotoLink(
            media_id,
            f"https://media.example.com/p/{media_id}/full?exp=...&sig=...",
            f"{base_url}/{name}-thumb.jpg",
            expires,
        )
        for media_id, name in (
            ("media-1", "photo-1"),
            ("media-2", "photo-2"),
            ("media-3", "photo-1"),
            ("media-4", "photo-2"),
        )
    }
    pages: dict[str, str] = {}
    locales: tuple[Locale, ...] = ("fr", "en")
    for locale in locales:
        payload = return_submitted(defective=True, locale=locale).payload
        payload = payload.model_copy(
            update={
                "items": [
                    item.model_copy(update={"comment": COMMENT}) if item.defective else item
                    for item in payload.items
                ]
            }
        )
        classic = return_submitted(defective=False, locale=locale).payload
        record = ReturnRecord.from_payload("m-atelier", classic)
        contexts = {
            CUSTOMER_SERVICE_DEFECTIVE: customer_service_context(payload, merchant, locale, photos),
            CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT: customer_return_context(payload, merchant, locale),
            CUSTOMER_RETURN_CONFIRMATION: customer_return_context(classic, merchant, locale),
            CUSTOMER_LABEL: label_context(record, label_generated().payload, merchant),
            CUSTOMER_INFORMATION_REQUEST: question_context(
                ReturnRecord.from_payload("m-atelier", payload),
                information_requested().payload,
                merchant,
                locale,
            ),
            CUSTOMER_SERVICE_ANSWER: answer_context(
                ReturnRecord.from_payload("m-atelier", payload),
                customer_answered().payload,
                merchant,
                locale,
                photos,
            ),
        }
        for template, context in contexts.items():
            pages[f"{template}.{locale}"] = renderer.render(template, locale, context).html
        # Issue 15: the resolution e-mail, one snapshot per resolution that sends it.
        defective = ReturnRecord.from_payload("m-atelier", payload)
        for resolution, note in RESOLUTION_NOTES[locale].items():
            event = return_resolved(resolution=resolution, note=note)
            context = with_brand(merchant, resolution_context(defective, event.payload, merchant))
            html = renderer.render(CUSTOMER_RESOLUTION, locale, context).html
            pages[f"{CUSTOMER_RESOLUTION}_{resolution}.{locale}"] = html
    return pages


def _screenshot(browser: str, html_file: Path, png: Path) -> None:
    subprocess.run(
        [
            browser,
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--headless",
            "--hide-scrollbars",
            f"--window-size={WIDTH},{HEIGHT}",
            f"--screenshot={png}",
            html_file.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    _crop_empty_bottom(png)


def _crop_empty_bottom(png: Path) -> None:
    with Image.open(png) as image:
        rgb = image.convert("RGB")
    bottom = rgb.height
    while bottom > 1:
        row = rgb.crop((0, bottom - 1, rgb.width, bottom))
        colors = row.getcolors(maxcolors=4)
        if colors is None or len(colors) > 1 or colors[0][1] != BACKGROUND:
            break
        bottom -= 1
    rgb.crop((0, 0, rgb.width, min(rgb.height, bottom + 24))).save(png, optimize=True)


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/emails")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("chromium is needed: apt-get install chromium")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        _draw_assets(folder)
        server, base_url = _serve(folder)
        try:
            for name, html in _pages(base_url).items():
                html_file = folder / f"{name}.html"
                html_file.write_text(html, encoding="utf-8")
                _screenshot(browser, html_file, out / f"{name}.png")
                print(out / f"{name}.png")
        finally:
            server.shutdown()


if __name__ == "__main__":
    main()
