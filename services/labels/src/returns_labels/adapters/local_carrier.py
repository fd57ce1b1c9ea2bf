"""The first carrier: a local one that books nothing but prints real, printable A6 labels.

The tracking number is a UPU S10 identifier (two letters, eight digits, a check digit, the
country) derived from the label id, so the same label always has the same number. The PDF is
drawn with fpdf2: sender, recipient, return and order numbers, a QR code (segno) and a Code 39
barcode of the tracking number.

fpdf2 (with fontTools) is imported by the first label drawn, not when the service starts: it is
a third of the service's imports, and the HTTP API and consumers answer without it.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import segno

from returns_contracts import Address
from returns_labels.domain.model import Contact, LabelContent, s10_check_digit
from returns_labels.service.ports import CarrierLabel

if TYPE_CHECKING:
    from fpdf import FPDF

logger = logging.getLogger(__name__)

A6_MM = (105.0, 148.0)
MARGIN = 6.0
DEFAULT_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
DEFAULT_BOLD_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
_QR_MASK = 0
# A line too wide for the label is drawn smaller, down to this share of its size, then cut.
SMALLEST_SCALE = 0.6


GlyphTest = Callable[[str], bool]


def tracking_number_for(label_id: str, prefix: str = "LR", country: str = "FR") -> str:
    serial = str(int(hashlib.sha256(label_id.encode()).hexdigest(), 16) % 10**8).zfill(8)
    return f"{prefix}{serial}{s10_check_digit(serial)}{country}"


def qr_text(content: LabelContent, tracking_number: str) -> str:
    """What the QR code says: enough for a depot to match the parcel to the return."""
    return (
        f"RETURN-LABEL;tracking={tracking_number};return={content.return_id};"
        f"order={content.order_number};label={content.label_id}"
    )


def _address_lines(address: Address, fallback_name: str | None) -> list[str]:
    lines = [address.name or fallback_name or ""]
    lines.append(address.line1)
    if address.line2:
        lines.append(address.line2)
    lines.append(f"{address.postal_code} {address.city}")
    lines.append(address.country)
    return [line for line in lines if line]


def _sender_lines(sender: Contact) -> list[str]:
    if sender.address is None:
        return [sender.name, sender.email]
    return _address_lines(sender.address, sender.name)


class LocalCarrier:
    name = "local"

    def __init__(self, font_path: str | None = DEFAULT_FONT, bold_font_path: str | None = None):
        regular = Path(font_path) if font_path else None
        self._font = regular if regular is not None and regular.is_file() else None
        bold = Path(bold_font_path or DEFAULT_BOLD_FONT)
        self._bold_font = bold if self._font is not None and bold.is_file() else self._font
        # The fonts as labels embed them, prepared by the first label that needs them.
        self._prepared: dict[Path, Path] = {}
        self._preparing = threading.Lock()
        self._folder: tempfile.TemporaryDirectory[str] | None = None

    async def create_label(self, content: LabelContent) -> CarrierLabel:
        tracking_number = tracking_number_for(content.label_id)
        pdf = await asyncio.to_thread(self.render, content, tracking_number)
        return CarrierLabel(tracking_number=tracking_number, pdf=pdf)

    def render(self, content: LabelContent, tracking_number: str) -> bytes:
        from fpdf import FPDF

        pdf = FPDF(orientation="portrait", unit="mm", format=A6_MM)
        pdf.set_title(f"Return label {tracking_number}")
        pdf.set_creator("returns-labels")
        pdf.set_creation_date(content.issued_at)
        pdf.set_auto_page_break(False)
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        fonts = self._fonts(pdf, content)
        pdf.add_page()
        width = A6_MM[0] - 2 * MARGIN

        def write(size: float, value: str, bold: bool = False, height: float = 0.0) -> None:
            # Text from customers and merchants: one line, glyphs the font has, within the label.
            style = "B" if bold else ""
            family, has_glyph = fonts[style]
            shown = printable(value, has_glyph)
            pdf.set_font(family, style, size)
            fitted = size
            # Measured once per size tried: fpdf2 takes about 20 microseconds a measure.
            shown_width = pdf.get_string_width(shown)
            while shown_width > width and fitted > size * SMALLEST_SCALE:
                fitted = max(fitted - 0.5, size * SMALLEST_SCALE)
                pdf.set_font(family, style, fitted)
                shown_width = pdf.get_string_width(shown)
            if shown_width > width:
                shown = _cut_to_width(shown, width, pdf.get_string_width, has_glyph)
            _line(pdf, shown, height or size * 0.45)

        # Header: who carries it and what it is.
        write(11, "LOCAL CARRIER · RETOUR / RETURN", bold=True, height=7)
        write(7, f"{content.merchant_name} · {content.issued_at:%Y-%m-%d}", height=4)
        pdf.set_line_width(0.4)
        pdf.line(MARGIN, pdf.get_y() + 1, A6_MM[0] - MARGIN, pdf.get_y() + 1)
        pdf.ln(3)

        write(7, "EXPÉDITEUR / FROM", bold=True, height=4)
        for line in _sender_lines(content.sender):
            write(9, line, height=4.2)
        pdf.ln(2)

        top = pdf.get_y()
        write(7, "DESTINATAIRE / TO", bold=True, height=4)
        for index, line in enumerate(_address_lines(content.recipient, content.merchant_name)):
            write(12, line, bold=index == 0, height=5.6)
        pdf.set_line_width(0.6)
        pdf.rect(MARGIN - 1.5, top - 1.5, width + 3, pdf.get_y() - top + 3)
        pdf.ln(4)

        write(9, f"Retour / Return: {content.return_id}", bold=True, height=4.6)
        write(9, f"Commande / Order: {content.order_number}", height=4.6)

        # The codes: QR on the left, tracking number on the right, barcode across the bottom.
        qr_top = pdf.get_y() + 2
        qr_size = 30.0
        self._draw_qr(pdf, qr_text(content, tracking_number), MARGIN, qr_top, qr_size)
        pdf.set_xy(MARGIN + qr_size + 4, qr_top + 6)
        bold_family, bold_glyph = fonts["B"]
        pdf.set_font(bold_family, "B", 8)
        _line(pdf, printable("N° de suivi / Tracking", bold_glyph), 4)
        pdf.set_font(bold_family, "B", 12)
        _line(pdf, tracking_number, 6)
        family, has_glyph = fonts[""]
        pdf.set_font(family, "", 7)
        _line(pdf, printable(f"Label {content.label_id}", has_glyph), 4)

        bar_height = 14.0
        bar_top = A6_MM[1] - MARGIN - bar_height - 5
        pdf.set_fill_color(0, 0, 0)
        wide = 0.84
        coded = f"*{tracking_number}*"
        # Each Code 39 character is 3 wide and 6 narrow elements plus a narrow gap, narrow
        # being a third of wide: 16/3 wide per character, about 67 mm here.
        bar_width = len(coded) * 16 * wide / 3
        left = (A6_MM[0] - bar_width) / 2
        draw_code39(pdf, coded, x=left, y=bar_top, wide=wide, height=bar_height)
        pdf.set_xy(MARGIN, bar_top + bar_height + 0.5)
        pdf.set_font(family, "", 9)
        pdf.cell(width, 4, tracking_number, align="C")
        return bytes(pdf.output())

    def _fonts(self, pdf: FPDF, content: LabelContent) -> dict[str, tuple[str, GlyphTest]]:
        """Per style ("" and "B"), the font family and the characters it can draw.

        Embedding a TrueType font (parsing it, then subsetting it) costs most of a label's
        time; the PDF's built-in Helvetica needs neither and prints Latin-1, which covers most
        addresses, so the Unicode font is embedded only in the styles whose texts need it (a
        customer's name beyond Latin-1 needs the regular one, not the bold one).
        """
        recipient = _address_lines(content.recipient, content.merchant_name)
        texts = {
            "": [
                content.merchant_name,
                content.order_number,
                content.label_id,
                *_sender_lines(content.sender),
                *recipient[1:],
            ],
            "B": [content.return_id, *recipient[:1]],
        }
        sources = {"": self._font, "B": self._bold_font}
        fonts: dict[str, tuple[str, GlyphTest]] = {}
        for style, values in texts.items():
            source = sources[style]
            if source is None or _built_in_font_suffices(values):
                fonts[style] = ("helvetica", _built_in_glyph)
                continue
            pdf.add_font("label", style, str(self._prepared_font(source)))
            fonts[style] = ("label", _glyph_test(pdf.fonts[f"label{style}"]))
        return fonts

    def _prepared_font(self, source: Path) -> Path:
        """`source` as labels embed it, made once per process: fpdf2 parses the font file for
        every label, then subsets it, and DejaVu Sans's 6,000 glyphs (symbols, braille, box
        drawing...), layout tables and hinting made that about 150 ms a label."""
        with self._preparing:
            prepared = self._prepared.get(source)
            if prepared is None:
                try:
                    if self._folder is None:
                        self._folder = tempfile.TemporaryDirectory(prefix="returns-labels-fonts-")
                    prepared = Path(self._folder.name) / f"{len(self._prepared)}-{source.name}"
                    _write_text_font(source, prepared)
                except OSError:
                    # No room to write it (a read-only file system without /tmp): the labels
                    # still print, at the whole font's cost.
                    logger.warning("label font not prepared; embedding it whole", exc_info=True)
                    prepared = source
                self._prepared[source] = prepared
            return prepared

    @staticmethod
    def _draw_qr(pdf: FPDF, data: str, x: float, y: float, size: float) -> None:
        # Vector modules, not an image: sharp on any printer. Quiet zone of 4 modules included.
        # A fixed mask: choosing the best of the eight (segno scores each) took 11 of the 13.5 ms
        # this code cost per label; every mask is valid and the printed code is read back in
        # the tests at 300 dpi.
        qr = segno.make(data, error="m", micro=False, mask=_QR_MASK)
        matrix = qr.matrix
        border = 4
        module = size / (len(matrix) + 2 * border)
        pdf.set_fill_color(0, 0, 0)
        corner = (x + border * module, y + border * module)
        _fill_cells(pdf, _dark_runs(matrix), corner, (module, module))


# Code 39 (ISO/IEC 16388): each character is 5 bars and 4 spaces between them, 3 of the 9 wide.
# Forty characters come in four rows of ten: a row shares its wide space, a column its two wide
# bars. The four others have three wide spaces and no wide bar.
_CODE39_ROWS = ("1234567890", "ABCDEFGHIJ", "KLMNOPQRST", "UVWXYZ-. *")
_CODE39_ROW_SPACES = ("0100", "0010", "0001", "1000")
_CODE39_COLUMN_BARS = (
    "10001",
    "01001",
    "11000",
    "00101",
    "10100",
    "01100",
    "00011",
    "10010",
    "01010",
    "00110",
)
_CODE39_OTHERS = {"$": "1110", "/": "1101", "+": "1011", "%": "0111"}


def _code39_elements(character: str) -> str:
    """The 9 elements of a character, bar first, "1" for wide."""
    if character in _CODE39_OTHERS:
        bars, spaces = "00000", _CODE39_OTHERS[character]
    else:
        row = next((row for row in _CODE39_ROWS if character in row), None)
        if row is None:
            raise ValueError(f"{character!r} cannot be written in Code 39")
        bars = _CODE39_COLUMN_BARS[row.index(character)]
        spaces = _CODE39_ROW_SPACES[_CODE39_ROWS.index(row)]
    return "".join(bar + space for bar, space in zip(bars, spaces + "0", strict=True))[:9]


def draw_code39(pdf: FPDF, text: str, *, x: float, y: float, wide: float, height: float) -> None:
    """`text` as a Code 39 barcode (start and stop `*` included by the caller), its top left
    corner at (`x`, `y`): wide elements `wide` mm, narrow ones a third of it, a narrow gap
    between characters, as fpdf2's `code39` draws it, in one path rather than a `rect` call
    per bar."""
    bars: list[tuple[int, int, int, int]] = []
    column = 0
    for character in text:
        for index, element in enumerate(_code39_elements(character)):
            width = 3 if element == "1" else 1
            if index % 2 == 0:
                bars.append((column, 0, width, 1))
            column += width
        column += 1
    _fill_cells(pdf, bars, (x, y), (wide / 3, height))


def _line(pdf: FPDF, value: str, height: float) -> None:
    """One line of text where `cell` would put it in a cell `height` mm tall at the current
    position (its inner margin on the left, the baseline 0.3 font size below the middle), then
    the next line at the same x: `text` costs a sixth of `cell` (9 against 59 microseconds),
    which lays out fragments, borders and links the label does not have."""
    pdf.text(pdf.x + pdf.c_margin, pdf.y + height / 2 + 0.3 * pdf.font_size, value)
    pdf.set_xy(pdf.x, pdf.y + height)


def _dark_runs(matrix: Sequence[Sequence[int]]) -> list[tuple[int, int, int, int]]:
    """The dark modules of a QR code as rectangles (column, row, width, height) in modules:
    each row's runs of dark modules, a run merged with the same run of the rows below it."""
    finished: list[tuple[int, int, int, int]] = []
    # (column, width) -> (row it started on, rows so far), for the runs of the previous row.
    open_runs: dict[tuple[int, int], tuple[int, int]] = {}
    for row_index, row in enumerate(matrix):
        runs: dict[tuple[int, int], tuple[int, int]] = {}
        column = 0
        for dark, group in itertools.groupby(row):
            width = len(list(group))
            if dark:
                started, rows = open_runs.pop((column, width), (row_index, 0))
                runs[(column, width)] = (started, rows + 1)
            column += width
        finished.extend(
            (column, started, width, rows) for (column, width), (started, rows) in open_runs.items()
        )
        open_runs = runs
    finished.extend(
        (column, started, width, rows) for (column, width), (started, rows) in open_runs.items()
    )
    return finished


def _fill_cells(
    pdf: FPDF,
    cells: Iterable[tuple[int, int, int, int]],
    corner: tuple[float, float],
    cell: tuple[float, float],
) -> None:
    """Fill rectangles (column, row, columns, rows) given in cells of `cell` (width, height) mm
    from the top left `corner`, as one path in the page's content: fpdf2's `rect` costs about
    9 microseconds a rectangle (checks, enums, a number formatted in points for each corner),
    and a QR code has hundreds of them. The cell size and the page's downward y axis go in one
    transformation, so each rectangle is four small integers."""
    x, y = corner
    width, height = cell[0] * pdf.k, cell[1] * pdf.k
    shapes = " ".join(f"{column} {row} {columns} {rows} re" for column, row, columns, rows in cells)
    # fpdf2 has no public call that adds drawing operators as they are; `_out` is the one its
    # own shapes use. q/Q keep the transformation to this path.
    pdf._out(
        f"q {width:.4f} 0 0 {-height:.4f} {x * pdf.k:.2f} {(pdf.h - y) * pdf.k:.2f} cm {shapes} f Q"
    )


def _text_character(code: int) -> bool:
    """What a name or an address may hold: all of Latin-1, and the letters, combining marks,
    digits, punctuation, spaces and currency signs of every script."""
    if code < 256:
        return True
    category = unicodedata.category(chr(code))
    return category[0] in "LMNPZ" or category == "Sc"


def _write_text_font(source: Path, target: Path) -> None:
    """The glyphs of `source` for the characters labels print (`_text_character`), without
    what fpdf2 does not use (OpenType layout: it does not shape text here) or a printer does not
    need (hinting). A character the font then lacks is printed as its nearest letter or `?`
    (`printable`), as any character the font lacked before."""
    from fontTools import subset, ttLib

    font = ttLib.TTFont(source, recalcTimestamp=False)
    try:
        options = subset.Options()
        options.layout_features = []
        options.hinting = False
        options.notdef_outline = True
        options.drop_tables = [*options.drop_tables, "FFTM"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=[code for code in font.getBestCmap() if _text_character(code)])
        subsetter.subset(font)
        font.save(target)
    finally:
        font.close()


def _glyph_test(font: object) -> GlyphTest:
    """Whether an embedded TrueType font can draw a character: its own table."""
    from fpdf.fonts import TTFFont

    if not isinstance(font, TTFFont):
        raise TypeError(f"not a TrueType font: {font!r}")
    table = font.cmap
    return lambda character: ord(character) in table


def _built_in_glyph(character: str) -> bool:
    return ord(character) < 256


def _built_in_font_suffices(texts: Iterable[str]) -> bool:
    """Every character of `texts` is Latin-1 once `printable` has cleaned it."""
    return all(
        printable(value, _built_in_glyph) == printable(value, lambda _: True) for value in texts
    )


# Letters without a decomposition into a Latin letter.
_NEAREST = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Œ": "OE", "œ": "oe"})
# Controls (CR, LF, NUL, ESC...), line and paragraph separators, and the bidirectional
# overrides that would show a line in another order than it is written.
_BREAKING = frozenset({"Cc", "Zl", "Zp"})
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(value: str, has_glyph: Callable[[str], bool]) -> str:
    """Text from outside made fit for one line of the label: controls, line breaks and bidi
    overrides become spaces, whitespace is collapsed, and each character the font lacks becomes
    its nearest letter the font has (ą becomes a, Ł becomes L), else a question mark, so that
    nothing vanishes without a trace."""
    if value.isprintable():
        # No control, separator or format character (bidi overrides are formats): only the
        # whitespace to collapse. Most texts stop here, every character drawable as it is.
        collapsed = " ".join(value.split())
        if all(map(has_glyph, collapsed)):
            return collapsed
    spaced = "".join(
        " "
        if unicodedata.category(character) in _BREAKING or character in _BIDI_CONTROLS
        else character
        for character in value
    )
    shown = []
    for character in " ".join(spaced.split()):
        if has_glyph(character):
            shown.append(character)
            continue
        base = unicodedata.normalize("NFKD", character.translate(_NEAREST))
        kept = "".join(part for part in base if has_glyph(part) and not unicodedata.combining(part))
        shown.append(kept or "?")
    return "".join(shown)


def _cut_to_width(
    value: str,
    width: float,
    measure: Callable[[str], float],
    has_glyph: Callable[[str], bool],
) -> str:
    """`value`, cut with an ellipsis where it would run past `width`."""
    if measure(value) <= width:
        return value
    ellipsis = "\u2026" if has_glyph("\u2026") else "..."
    kept = value
    while kept and measure(kept + ellipsis) > width:
        kept = kept[:-1]
    return kept.rstrip() + ellipsis
