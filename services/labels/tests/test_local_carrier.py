"""The local carrier's label read back: one A6 page whose text, QR code and barcode say what
the parcel is, from whom and to whom."""

from __future__ import annotations

import dataclasses
import io
import tempfile
from datetime import UTC, datetime
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from pypdf import PdfReader

from returns_contracts import Address
from returns_contracts.examples import WAREHOUSE
from returns_labels.adapters.local_carrier import (
    LocalCarrier,
    draw_code39,
    qr_text,
    tracking_number_for,
)
from returns_labels.domain.model import Contact, LabelContent, s10_check_digit

CONTENT = LabelContent(
    label_id="lbl-0123456789abcdef0123",
    return_id="r-000123",
    order_number="CMD-2026-0042",
    merchant_name="L'Atelier",
    sender=Contact(
        name="Zoë Łukasiewicz",
        email="zoe@example.com",
        address=Address(line1="3 place Bellecour", postal_code="69002", city="Lyon", country="FR"),
    ),
    recipient=WAREHOUSE,
    issued_at=datetime(2026, 3, 2, 9, 31, tzinfo=UTC),
)


def read_back(pdf: bytes) -> tuple[PdfReader, str, dict[zxingcpp.BarcodeFormat, str]]:
    reader = PdfReader(io.BytesIO(pdf))
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=300 / 72).to_pil()
    finally:
        document.close()
    codes = {code.format: code.text for code in zxingcpp.read_barcodes(image)}
    return reader, reader.pages[0].extract_text(), codes


async def test_the_label_is_one_a6_page_that_says_everything_and_scans() -> None:
    printed = await LocalCarrier().create_label(CONTENT)

    reader, text, codes = read_back(printed.pdf)

    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) * 25.4 / 72), round(float(box.height) * 25.4 / 72)) == (
        105,
        148,
    )
    for expected in (
        "Zoë Łukasiewicz",
        "3 place Bellecour",
        "69002 Lyon",
        "L'Atelier - retours",
        "12 rue des Entrepôts",
        "69007 Lyon",
        "r-000123",
        "CMD-2026-0042",
        printed.tracking_number,
    ):
        assert expected in text
    assert text.index("Zoë Łukasiewicz") < text.index("12 rue des Entrepôts")  # from, then to
    assert codes[zxingcpp.BarcodeFormat.QRCode] == qr_text(CONTENT, printed.tracking_number)
    assert codes[zxingcpp.BarcodeFormat.Code39] == printed.tracking_number


async def test_without_a_unicode_font_the_label_still_prints() -> None:
    printed = await LocalCarrier(font_path=None).create_label(CONTENT)

    _, text, codes = read_back(printed.pdf)

    assert "Zoë Lukasiewicz" in text  # Ł has no Latin-1 form: the nearest letter is printed
    assert codes[zxingcpp.BarcodeFormat.Code39] == printed.tracking_number


def test_the_tracking_number_is_a_valid_s10_identifier_fixed_by_the_label_id() -> None:
    number = tracking_number_for(CONTENT.label_id)

    assert number == tracking_number_for(CONTENT.label_id)
    assert number != tracking_number_for("lbl-other")
    assert number[:2] == "LR" and number[-2:] == "FR"
    assert int(number[10]) == s10_check_digit(number[2:10])


@pytest.mark.parametrize("serial", ["1234567", "1234567a"])
def test_an_s10_serial_is_eight_digits(serial: str) -> None:
    with pytest.raises(ValueError):
        s10_check_digit(serial)


def embedded_fonts(pdf: bytes) -> set[str]:
    """The names of the font files a PDF carries (none for the built-in fonts)."""
    reader = PdfReader(io.BytesIO(pdf))
    found: set[str] = set()
    resources: Any = reader.pages[0]["/Resources"]
    for reference in resources["/Font"].values():
        font = reference.get_object()
        for descendant in font.get("/DescendantFonts", []):
            descriptor = descendant.get_object()["/FontDescriptor"].get_object()
            if "/FontFile2" in descriptor:
                found.add(str(descriptor["/FontName"]))
    return found


async def test_a_latin1_label_uses_the_built_in_font_and_embeds_none() -> None:
    """Embedding the Unicode font costs most of a label's time: only labels that need it pay."""
    latin = dataclasses.replace(
        CONTENT, sender=Contact(name="Zoë Dupré", email="zoe@example.com", address=None)
    )
    printed = await LocalCarrier().create_label(latin)

    _, text, codes = read_back(printed.pdf)

    assert embedded_fonts(printed.pdf) == set()
    assert "Zoë Dupré" in text
    assert codes[zxingcpp.BarcodeFormat.Code39] == printed.tracking_number


async def test_a_label_with_letters_beyond_latin1_embeds_the_unicode_font() -> None:
    printed = await LocalCarrier().create_label(CONTENT)  # Łukasiewicz

    assert any("DejaVu" in name for name in embedded_fonts(printed.pdf))


async def test_the_embedded_font_keeps_the_letters_of_every_script_it_had() -> None:
    """The font is cut down once per process to what names and addresses hold: Greek,
    Cyrillic or Armenian letters still print as themselves, in the style that needs them."""
    names = "Ζωή Жанна Հայկ Łukasiewicz"
    many_scripts = dataclasses.replace(
        CONTENT,
        sender=Contact(name=names, email="zoe@example.com", address=None),
        recipient=WAREHOUSE.model_copy(update={"name": "Склад Ωμέγα"}),
    )
    printed = await LocalCarrier().create_label(many_scripts)

    _, text, codes = read_back(printed.pdf)

    assert names in text
    assert "Склад Ωμέγα" in text  # the recipient's first line is bold
    assert "?" not in text
    assert codes[zxingcpp.BarcodeFormat.QRCode] == qr_text(many_scripts, printed.tracking_number)


def test_every_code_39_character_is_drawn_as_scanners_read_it() -> None:
    """The barcode is drawn from the labels' own Code 39 table: a wrong pattern for any of its
    43 characters would read back as another character, or not at all."""
    from fpdf import FPDF

    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"
    pdf = FPDF(orientation="landscape", unit="mm", format="A4")
    pdf.add_page()
    pdf.set_fill_color(0, 0, 0)
    for line, text in enumerate((alphabet[:22], alphabet[22:])):
        draw_code39(pdf, f"*{text}*", x=10, y=20 + 40 * line, wide=0.84, height=14)
    document = pypdfium2.PdfDocument(bytes(pdf.output()))
    try:
        image = document[0].render(scale=300 / 72).to_pil()
    finally:
        document.close()

    read = sorted(code.text for code in zxingcpp.read_barcodes(image))

    assert read == sorted((alphabet[:22], alphabet[22:]))


async def test_a_label_prints_with_the_whole_font_when_it_cannot_be_cut_down(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_room(*args: object, **kwargs: object) -> None:
        raise OSError("read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryDirectory", no_room)

    printed = await LocalCarrier().create_label(CONTENT)

    _, text, _ = read_back(printed.pdf)
    assert "Zoë Łukasiewicz" in text
    assert any("DejaVu" in name for name in embedded_fonts(printed.pdf))
