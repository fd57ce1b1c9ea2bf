"""The e-mail's bytes as the notifier writes them itself (issue 11): read back by Python's parser
as a mail client would, every text, name, subject, file and image is the one that was set, and
the bytes keep the rules of RFC 5322, 2045 and 2047 (ASCII only, lines and encoded words short).
Mailpit reads them too: test_adapters.py."""

from __future__ import annotations

import email.policy
import re
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage

import pytest

from returns_notifier.adapters import mime
from returns_notifier.adapters.smtp import checked_wire, header_text
from returns_notifier.domain.emails import Mailbox, OutgoingEmail
from returns_notifier.domain.model import Attachment, InlineImage

NOW = datetime(2026, 3, 2, 9, 31, tzinfo=UTC)
ENCODED_WORD = re.compile(rb"=\?utf-8\?[qb]\?[^?]*\?=")


def _email(
    *,
    name: str = "L'Atelier",
    subject: str = "Votre étiquette",
    text: str = "Bonjour Léa\n",
    html: str = "<p>Bonjour Léa</p>",
    attachments: tuple[Attachment, ...] = (),
    inline_images: tuple[InlineImage, ...] = (),
) -> OutgoingEmail:
    return OutgoingEmail(
        message_id="<e1.customer_label@returns.invalid>",
        sender=Mailbox("returns@demo-shop.example", name),
        recipient="lea.dupont@example.com",
        reply_to=Mailbox("sav@atelier.example.com", name),
        subject=subject,
        text=text,
        html=html,
        attachments=attachments,
        inline_images=inline_images,
    )


def _read(written: bytes) -> EmailMessage:
    parsed = message_from_bytes(written, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _lines(written: bytes) -> list[bytes]:
    assert b"\n" not in written.replace(b"\r\n", b"")  # CRLF line ends only
    return written.split(b"\r\n")


@pytest.mark.parametrize(
    "text",
    [
        "Zoë",
        "L'Atelier d'Émilie & Fils (Lyon) <3",
        'Café "Le Zinc", Paris',
        "Boutique " + "é" * 90,
        "Très " * 60 + "long",
        "日本の店" * 40,
        "Shop 🙂 " * 30,
    ],
)
def test_names_and_subjects_that_are_not_ascii_read_back_as_set(text: str) -> None:
    written = checked_wire(_email(name=text, subject=f"[Retour défectueux] {text}"), NOW)

    assert written.isascii()
    message = _read(written)
    assert message["From"].addresses[0].display_name == header_text(text)
    assert message["Reply-To"].addresses[0].display_name == header_text(text)
    assert str(message["Subject"]) == header_text(f"[Retour défectueux] {text}", 400)
    lines = _lines(written.split(b"\r\n\r\n", 1)[0])
    assert max(len(line) for line in lines) < 998
    subject = written.split(b"\r\nSubject:", 1)[1].split(b"\r\nMIME-Version:", 1)[0]
    # The subject's encoded words are each at most 75 characters (RFC 2047 2), on lines folded
    # at a space near 78 characters.
    assert all(len(word) <= 75 for word in ENCODED_WORD.findall(subject))
    assert all(len(line) <= 78 for line in subject.split(b"\r\n"))


def test_plain_ascii_names_are_written_as_atoms_or_one_quoted_string() -> None:
    assert mime.phrase("L'Atelier") == "L'Atelier"
    assert mime.phrase('Shop, "Best" \\ Co') == '"Shop, \\"Best\\" \\\\ Co"'
    assert mime.mailbox("cs@shop.example", "") == "cs@shop.example"


def test_text_parts_keep_the_text_with_crlf_line_ends_and_short_lines() -> None:
    text = "Ligne 1 \r\nLigne 2\rLigne 3\n" + "mot " * 60 + "\n=?utf-8?q?x?= fin\t"
    html = "<p>" + "é" * 300 + "</p>"

    written = checked_wire(_email(text=text, html=html), NOW)

    assert written.isascii()
    assert max(len(line) for line in _lines(written)) <= 78
    plain, rich = (part.get_content() for part in _read(written).walk() if not part.is_multipart())
    expected = "Ligne 1 \nLigne 2\nLigne 3\n" + "mot " * 60 + "\n=?utf-8?q?x?= fin\t\n"
    assert plain.replace("\r\n", "\n") == expected
    assert rich.replace("\r\n", "\n") == html + "\n"


def test_a_body_line_that_looks_like_a_boundary_stays_in_its_part() -> None:
    probe = checked_wire(_email(), NOW)
    boundary = re.search(rb'boundary="([^"]+)"', probe)
    assert boundary is not None
    text = "--" + boundary.group(1).decode() + "--\n--=_ anything\n"

    message = _read(checked_wire(_email(text=text), NOW))

    parts = [part.get_content_type() for part in message.walk()]
    assert parts == ["multipart/alternative", "text/plain", "text/html"]
    plain = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    assert plain.get_content().replace("\r\n", "\n") == text


def test_images_and_attachments_read_back_byte_for_byte_with_their_names() -> None:
    image = bytes(range(256)) * 100
    label = b"%PDF-1.4\n" + bytes(reversed(range(256))) * 150
    written = checked_wire(
        _email(
            html='<img src="cid:thumb-1.e1@returns.invalid">',
            inline_images=(InlineImage("thumb-1.e1@returns.invalid", "image/png", image),),
            attachments=(
                Attachment("étiquette retour.pdf", "application/pdf", label),
                Attachment("return-label-CMD-1.pdf", "application/pdf", b""),
            ),
        ),
        NOW,
    )

    assert written.isascii()
    assert max(len(line) for line in _lines(written)) <= 998
    message = _read(written)
    assert message.get_content_type() == "multipart/mixed"
    body, first, second = message.iter_parts()
    text, related = body.iter_parts()
    html, picture = related.iter_parts()
    assert (text.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert picture["Content-ID"] == "<thumb-1.e1@returns.invalid>"
    assert picture.get_content_disposition() == "inline"
    assert picture.get_content() == image
    assert (first.get_filename(), first.get_content()) == ("étiquette retour.pdf", label)
    assert (second.get_filename(), second.get_content()) == ("return-label-CMD-1.pdf", b"")
    assert first.get_content_disposition() == "attachment"


@pytest.mark.parametrize(
    "outgoing",
    [
        _email(
            inline_images=(InlineImage("thumb 1@returns.invalid", "image/png", b"x"),),
        ),
        _email(
            inline_images=(InlineImage("thumb-1>\r\nBcc: x@y.example", "image/png", b"x"),),
        ),
        _email(attachments=(Attachment("a.pdf", "application/pdf\r\nBcc: x", b"x"),)),
    ],
)
def test_identifiers_and_content_types_that_are_not_ours_are_refused(
    outgoing: OutgoingEmail,
) -> None:
    with pytest.raises(ValueError):
        checked_wire(outgoing, NOW)
