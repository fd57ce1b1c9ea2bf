"""The e-mail bodies rendered from the shipped templates, and the MIME message built from them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from returns_contracts import Locale, ReturnSubmittedPayload
from returns_contracts.examples import (
    customer_answered,
    information_requested,
    label_generated,
    merchant_updated,
    return_resolved,
    return_submitted,
)
from returns_notifier.adapters.rendering import JinjaRenderer
from returns_notifier.adapters.smtp import to_mime
from returns_notifier.domain.emails import (
    CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT,
    CUSTOMER_INFORMATION_REQUEST,
    CUSTOMER_LABEL,
    CUSTOMER_RETURN_CONFIRMATION,
    CUSTOMER_SERVICE_ANSWER,
    CUSTOMER_SERVICE_DEFECTIVE,
    TEMPLATES,
    Mailbox,
    OutgoingEmail,
    customer_return_context,
    customer_service_context,
    label_context,
    with_brand,
)
from returns_notifier.domain.follow_up_emails import answer_context, question_context
from returns_notifier.domain.model import (
    Attachment,
    InlineImage,
    Merchant,
    PhotoLink,
    ReturnRecord,
)
from returns_notifier.domain.resolution_emails import CUSTOMER_RESOLUTION, resolution_context

HOSTILE_COMMENT = "Cassé à l'arrivée <script>alert('x')</script> & rayé"
MERCHANT = Merchant.from_snapshot("m-atelier", merchant_updated().payload)
PHOTOS = {
    photo_id: PhotoLink(
        photo_id,
        f"https://media.example/p/{photo_id}/full?exp=1&sig=s",
        f"https://media.example/p/{photo_id}/thumb?exp=1&sig=s",
    )
    for photo_id in ("media-1", "media-2")
}


def _payload_with_comment(comment: str) -> ReturnSubmittedPayload:
    payload = return_submitted(defective=True).payload
    items = [
        item.model_copy(update={"comment": comment}) if item.defective else item
        for item in payload.items
    ]
    return payload.model_copy(update={"items": items})


def _context(template: str, locale: Locale) -> dict[str, object]:
    payload = return_submitted(defective=True, locale=locale).payload
    record = ReturnRecord.from_payload("m-atelier", payload)
    if template == CUSTOMER_INFORMATION_REQUEST:
        return question_context(record, information_requested().payload, MERCHANT, locale)
    if template == CUSTOMER_SERVICE_ANSWER:
        answered = customer_answered().payload
        photos = {"media-3": PHOTOS["media-1"]}
        return answer_context(record, answered, MERCHANT, locale, photos)
    if template == CUSTOMER_SERVICE_DEFECTIVE:
        return customer_service_context(payload, MERCHANT, locale, PHOTOS)
    if template == CUSTOMER_LABEL:
        record = ReturnRecord.from_payload("m-atelier", payload)
        return label_context(record, label_generated().payload, MERCHANT)
    if template == CUSTOMER_RESOLUTION:
        record = ReturnRecord.from_payload("m-atelier", payload)
        context = resolution_context(record, return_resolved().payload, MERCHANT)
        return with_brand(MERCHANT, context)
    return customer_return_context(payload, MERCHANT, locale)


def test_html_escapes_what_the_customer_wrote_and_text_keeps_it_as_is() -> None:
    payload = _payload_with_comment(HOSTILE_COMMENT)
    context = customer_service_context(payload, MERCHANT, "fr", PHOTOS)

    body = JinjaRenderer().render(CUSTOMER_SERVICE_DEFECTIVE, "fr", context)

    assert "<script>" not in body.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; rayé" in body.html
    assert HOSTILE_COMMENT in body.text


def test_the_body_lists_the_order_the_customer_every_item_and_the_back_office_link() -> None:
    context = customer_service_context(
        return_submitted(defective=True).payload, MERCHANT, "fr", PHOTOS
    )

    body = JinjaRenderer().render(CUSTOMER_SERVICE_DEFECTIVE, "fr", context)

    for part in (body.text, body.html):
        assert "CMD-2026-0042" in part
        assert "20/02/2026" in part
        assert "Léa Dupont" in part
        assert "lea.dupont@example.com" in part
        assert "+33 6 12 34 56 78" in part
        assert "3 place Bellecour" in part
        assert "T-shirt bleu M" in part and "Trop petit" in part
        assert "Mug rouge" in part and "Arrivé cassé" in part
        assert "https://backoffice.example.com/returns/r-000123" in part
    assert "L'anse est cassée et le carton était écrasé." in body.text
    assert "quantité : 2" in body.text
    assert "Photo 2 : https://media.example/p/media-2/full?exp=1&sig=s" in body.text
    assert 'href="https://backoffice.example.com/returns/r-000123"' in body.html


def test_every_photo_has_a_thumbnail_linking_to_the_full_image() -> None:
    context = customer_service_context(
        return_submitted(defective=True).payload, MERCHANT, "en", PHOTOS
    )

    html = JinjaRenderer().render(CUSTOMER_SERVICE_DEFECTIVE, "en", context).html

    for photo_id in ("media-1", "media-2"):
        assert f'<img src="https://media.example/p/{photo_id}/thumb?exp=1&amp;sig=s"' in html
        assert f'<a href="https://media.example/p/{photo_id}/full?exp=1&amp;sig=s"' in html


def test_english_templates_are_in_english() -> None:
    payload = return_submitted(defective=True, locale="en").payload
    context = customer_service_context(payload, MERCHANT, "en", PHOTOS)

    body = JinjaRenderer().render(CUSTOMER_SERVICE_DEFECTIVE, "en", context)

    assert "Returned items" in body.html
    assert "quantity: 2" in body.text
    assert "2026-02-20" in body.text
    assert "Articles" not in body.text


@pytest.mark.parametrize("template", sorted(TEMPLATES))
@pytest.mark.parametrize("locale", ["fr", "en"])
def test_every_template_renders_with_the_merchants_brand_and_no_markup_from_outside(
    template: str, locale: Locale
) -> None:
    body = JinjaRenderer().render(template, locale, _context(template, locale))

    assert f'<html lang="{locale}">' in body.html
    assert '<img src="https://atelier.example.com/logo.png"' in body.html
    assert "L&#39;équipe" in body.html and "L'équipe" in body.text
    assert "<script" not in body.html and "<style" not in body.html
    assert "{{" not in body.text and "{%" not in body.text


@pytest.mark.parametrize(
    ("template", "locale", "wording"),
    [
        (CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT, "fr", "L'Atelier va vous contacter"),
        (CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT, "en", "L'Atelier will contact you"),
        (CUSTOMER_RETURN_CONFIRMATION, "fr", "Votre étiquette de retour arrive"),
        (CUSTOMER_RETURN_CONFIRMATION, "en", "Your return label comes in a separate e-mail"),
        (CUSTOMER_LABEL, "fr", "etiquette-retour-CMD-2026-0042.pdf"),
        (CUSTOMER_LABEL, "en", "return-label-CMD-2026-0042.pdf"),
        (CUSTOMER_DEFECTIVE_ACKNOWLEDGEMENT, "fr", "Suivre votre retour : https://portal"),
        (CUSTOMER_RETURN_CONFIRMATION, "en", "Follow your return: https://portal.example.com"),
        (CUSTOMER_INFORMATION_REQUEST, "fr", "Répondre : https://portal.example.com/portal/"),
        (CUSTOMER_INFORMATION_REQUEST, "en", "The link works until 2026-03-10 10:00 UTC"),
        (CUSTOMER_SERVICE_ANSWER, "fr", "Photo 1: https://media.example/p/media-1/full"),
        (CUSTOMER_SERVICE_ANSWER, "en", "Photo media-4 not found"),
    ],
)
def test_customer_emails_say_what_happens_next(template: str, locale: Locale, wording: str) -> None:
    text = JinjaRenderer().render(template, locale, _context(template, locale)).text

    assert wording in text


def test_the_label_email_links_the_label() -> None:
    body = JinjaRenderer().render(CUSTOMER_LABEL, "en", _context(CUSTOMER_LABEL, "en"))

    assert 'href="https://labels.example.com/r-000123/lbl-0001.pdf"' in body.html
    assert "6A12345678901" in body.text


@pytest.mark.parametrize(
    ("locale", "words"), [("fr", "Suivre mon retour"), ("en", "Follow my return")]
)
def test_the_label_email_links_the_return_s_status_page_when_it_is_known(
    locale: Locale, words: str
) -> None:
    payload = return_submitted(locale=locale).payload.model_copy(
        update={"status_url": "https://returns.example.com/portal/m/returns/r/status?sig=x"}
    )
    record = ReturnRecord.from_payload("m-atelier", payload)
    context = label_context(record, label_generated().payload, MERCHANT)
    body = JinjaRenderer().render(CUSTOMER_LABEL, locale, context)

    assert 'href="https://returns.example.com/portal/m/returns/r/status?sig=x"' in body.html
    assert words in body.html
    assert "https://returns.example.com/portal/m/returns/r/status?sig=x" in body.text
    older = ReturnRecord.from_payload(
        "m-atelier", return_submitted(locale=locale).payload.model_copy(update={"status_url": None})
    )
    without = JinjaRenderer().render(
        CUSTOMER_LABEL, locale, label_context(older, label_generated().payload, MERCHANT)
    )
    assert words not in without.html


def test_mime_message_has_both_parts_the_message_id_and_the_reply_to() -> None:
    email = OutgoingEmail(
        message_id="<e1.customer_service_defective@returns.invalid>",
        sender=Mailbox("returns@demo-shop.example", "L'Atelier"),
        recipient="sav@atelier.example.com",
        reply_to=Mailbox(address="lea.dupont@example.com", name="Léa Dupont"),
        subject="[Retour défectueux] Commande CMD-2026-0042 - Léa Dupont",
        text="Bonjour\n",
        html="<p>Bonjour</p>",
    )

    message = to_mime(email, now=datetime(2026, 3, 2, 9, 31, tzinfo=UTC))

    assert message["Message-ID"] == "<e1.customer_service_defective@returns.invalid>"
    assert message["From"].addresses[0].addr_spec == "returns@demo-shop.example"
    assert message["From"].addresses[0].display_name == "L'Atelier"
    assert message["To"] == "sav@atelier.example.com"
    assert message["Reply-To"].addresses[0].addr_spec == "lea.dupont@example.com"
    assert message["Reply-To"].addresses[0].display_name == "Léa Dupont"
    assert message["Subject"] == email.subject
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]


def test_inline_images_are_related_to_the_html_part_only() -> None:
    email = OutgoingEmail(
        message_id="<e3.customer_service_defective@returns.invalid>",
        sender=Mailbox("returns@demo-shop.example", "L'Atelier"),
        recipient="sav@atelier.example.com",
        reply_to=None,
        subject="Retour défectueux",
        text="Photo 1 : https://media.example/p/1/full\n",
        html='<img src="cid:thumb-1.e3@returns.invalid">',
        inline_images=(InlineImage("thumb-1.e3@returns.invalid", "image/jpeg", b"\xff\xd8jpeg"),),
    )

    message = to_mime(email)

    assert message.get_content_type() == "multipart/alternative"
    text, related = message.iter_parts()
    assert text.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html, image = related.iter_parts()
    assert html.get_content_type() == "text/html"
    assert image["Content-ID"] == "<thumb-1.e3@returns.invalid>"
    assert image.get_content() == b"\xff\xd8jpeg"


def test_an_attachment_makes_the_message_mixed_and_keeps_both_bodies() -> None:
    email = OutgoingEmail(
        message_id="<e2.customer_label@returns.invalid>",
        sender=Mailbox("returns@demo-shop.example", "L'Atelier"),
        recipient="lea.dupont@example.com",
        reply_to=None,
        subject="Votre étiquette",
        text="Bonjour\n",
        html="<p>Bonjour</p>",
        attachments=(Attachment("etiquette.pdf", "application/pdf", b"%PDF-1.4 test"),),
    )

    message = to_mime(email)

    assert message.get_content_type() == "multipart/mixed"
    body, attachment = message.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "etiquette.pdf"
    assert attachment.get_content() == b"%PDF-1.4 test"
