"""Hostile text on a label: control characters, line breaks, PDF syntax, characters the font
lacks and very long lines print as one line of plain text inside the label, read back from
the PDF itself; the PDF gains no action, and its codes still scan."""

from __future__ import annotations

import unicodedata
import warnings
from datetime import UTC, datetime

import pypdfium2
import pytest
import zxingcpp
from pypdf.generic import ArrayObject, DictionaryObject

from returns_contracts import Address
from returns_contracts.examples import WAREHOUSE
from returns_labels.adapters.local_carrier import A6_MM, LocalCarrier, printable
from returns_labels.domain.model import Contact, LabelContent

from .test_local_carrier import read_back

PDF_SYNTAX = ") Tj ET /JavaScript << /S /JavaScript /JS (app.alert(1)) >> BT ("
HOSTILE = f"Zoë\r\nBcc: spy@evil.example\x00\x07\x1b[31m\x85 {PDF_SYNTAX} \\ <script>"
OUTSIDE_THE_FONT = "🎁 漢字 \U0001d400"
LONG = "Résidence " + "W" * 300
BIDI = "\u202egro.live@ypS"


def _content(text: str) -> LabelContent:
    return LabelContent(
        label_id="lbl-0123456789abcdef0123",
        return_id="r-000123",
        order_number="CMD-2026-0042",
        merchant_name=f"L'Atelier {text}",
        sender=Contact(
            name=f"Zoë {text}",
            email="zoe@example.com",
            address=Address(
                line1=f"3 place {text}",
                line2=LONG,
                postal_code="69002",
                city=f"Lyon {OUTSIDE_THE_FONT} {BIDI}",
                country="FR",
            ),
        ),
        recipient=WAREHOUSE,
        issued_at=datetime(2026, 3, 2, 9, 31, tzinfo=UTC),
    )


@pytest.mark.parametrize("font", ["dejavu", "built-in"])
async def test_hostile_text_prints_as_plain_lines_inside_the_label(font: str) -> None:
    carrier = LocalCarrier() if font == "dejavu" else LocalCarrier(font_path=None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # fpdf2 warns when it drops a glyph the font lacks
        printed = await carrier.create_label(_content(HOSTILE))

    reader, text, codes = read_back(printed.pdf)

    assert len(reader.pages) == 1
    lines = text.split("\n")
    # Every control character became a space: the text's only line breaks are the label's.
    assert not [c for c in text if c != "\n" and unicodedata.category(c) in {"Cc", "Zl", "Zp"}]
    assert "Zoë Bcc: spy@evil.example [31m" in text
    assert PDF_SYNTAX in text  # drawn as text, not read as PDF operators
    # Missing glyphs show as "?" or their nearest letter, not dropped; the override is gone.
    assert "69002 Lyon ? ?? A gro.live@ypS" in lines
    assert not any("W" * 100 in line for line in lines)  # cut to the label's width
    assert any(line.startswith("Résidence WWW") for line in lines)
    catalog = reader.trailer["/Root"].get_object()
    assert isinstance(catalog, DictionaryObject)
    # What fpdf2 always writes; /OpenAction is the page to open at (a destination, no script).
    assert set(catalog) == {"/Type", "/Pages", "/OpenAction", "/PageLayout"}
    assert isinstance(catalog["/OpenAction"], ArrayObject)
    assert b"/JS" not in printed.pdf and b"/Launch" not in printed.pdf
    assert codes[zxingcpp.BarcodeFormat.Code39] == printed.tracking_number
    _assert_every_character_on_the_page(printed.pdf)


def _assert_every_character_on_the_page(pdf: bytes) -> None:
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        width, height = page.get_size()
        text_page = page.get_textpage()
        count = text_page.count_chars()
        assert count > 200
        for index in range(count):
            left, bottom, right, top = text_page.get_charbox(index)
            assert left >= -0.5 and right <= width + 0.5, (index, left, right, width)
            assert bottom >= -0.5 and top <= height + 0.5
    finally:
        document.close()
    assert round(width * 25.4 / 72) == round(A6_MM[0])


def test_printable_keeps_ordinary_text_and_marks_what_it_cannot_print() -> None:
    latin1 = lambda character: ord(character) < 256  # noqa: E731
    assert printable("Zoë Łukasiewicz, 12 rue des Entrepôts", latin1) == (
        "Zoë Lukasiewicz, 12 rue des Entrepôts"
    )
    assert printable("a\r\nb\tc\u2028d\x00e", latin1) == "a b c d e"
    assert printable("漢 🎁 ą", latin1) == "? ? a"
    assert printable("\u202eevil\u202c", lambda character: True) == "evil"
