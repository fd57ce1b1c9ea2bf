"""The e-mail bodies rendered from the shipped templates, and the MIME message built from them."""

from __future__ import annotations

from datetime import UTC, datetime

from returns_contracts import ReturnSubmittedPayload
from returns_contracts.examples import return_submitted
from returns_notifier.adapters.rendering import JinjaRenderer
from returns_notifier.adapters.smtp import to_mime
from returns_notifier.domain.emails import (
    CUSTOMER_SERVICE_DEFECTIVE,
    Mailbox,
    OutgoingEmail,
    customer_service_context,
)

HOSTILE_COMMENT = "Cassé à l'arrivée <script>alert('x')</script> & rayé"


def _payload_with_comment(comment: str) -> ReturnSubmittedPayload:
    payload = return_submitted(defective=True).payload
    items = [
        item.model_copy(update={"comment": comment}) if item.defective else item
        for item in payload.items
    ]
    return payload.model_copy(update={"items": items})


def test_html_escapes_what_the_customer_wrote_and_text_keeps_it_as_is() -> None:
    payload = _payload_with_comment(HOSTILE_COMMENT)
    context = customer_service_context(payload, "L'Atelier", "fr")

    body = JinjaRenderer().render(CUSTOMER_SERVICE_DEFECTIVE, "fr", context)

    assert "<script>" not in body.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; rayé" in body.html
    assert HOSTILE_COMMENT in body.text


def test_the_body_lists_the_order_the_customer_every_item_and_the_back_office_link() -> None:
    payload = return_submitted(defective=True).payload
    context = customer_service_context(payload, "L'Atelier", "fr")

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
        assert "media-1, media-2" in part
        assert "https://backoffice.example.com/returns/r-000123" in part
    assert "L'anse est cassée et le carton était écrasé." in body.text
    assert "quantité : 2" in body.text
    assert 'href="https://backoffice.example.com/returns/r-000123"' in body.html


def test_english_templates_are_in_english() -> None:
    payload = return_submitted(defective=True, locale="en").payload
    context = customer_service_context(payload, "L'Atelier", "en")

    body = JinjaRenderer().render(CUSTOMER_SERVICE_DEFECTIVE, "en", context)

    assert "Returned items" in body.html
    assert "quantity: 2" in body.text
    assert "2026-02-20" in body.text
    assert "Articles" not in body.text


def test_mime_message_has_both_parts_the_message_id_and_the_reply_to() -> None:
    email = OutgoingEmail(
        message_id="<e1.customer_service_defective@returns.invalid>",
        sender="Returns <returns@demo-shop.example>",
        recipient="sav@atelier.example.com",
        reply_to=Mailbox(address="lea.dupont@example.com", name="Léa Dupont"),
        subject="[Retour défectueux] Commande CMD-2026-0042 - Léa Dupont",
        text="Bonjour\n",
        html="<p>Bonjour</p>",
    )

    message = to_mime(email, now=datetime(2026, 3, 2, 9, 31, tzinfo=UTC))

    assert message["Message-ID"] == "<e1.customer_service_defective@returns.invalid>"
    assert message["To"] == "sav@atelier.example.com"
    assert message["Reply-To"].addresses[0].addr_spec == "lea.dupont@example.com"
    assert message["Reply-To"].addresses[0].display_name == "Léa Dupont"
    assert message["Subject"] == email.subject
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
