"""Hostile text typed by a merchant or a customer, end to end: one return declared through the
real API with markup, attribute breakers and RFC 2047 encoded words in every name, label,
comment and address, then read where it shows up, as served:

- the pages (back-office and portal HTML): escaped, no event handler, no `javascript:` link,
  even when a LabelGenerated on the topic carries one;
- the e-mails, read raw from Mailpit: the headers set and no other, one recipient each, no
  recipient added by a header or by SMTP commands smuggled in a comment;
- the label PDF: the text extracted from it is plain, one line per line.
"""

from __future__ import annotations

import email.policy
import io
import re
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from faststream.kafka import KafkaBroker
from pypdf import PdfReader

from returns_contracts import LabelGenerated, LabelGeneratedPayload, Topics
from returns_contracts.examples import return_submitted
from returns_contracts.service_kit.kafka import publish
from returns_declaration.entrypoints.demo import (
    DEMO_ADMIN_TOKEN,
    LineChoice,
    add_back_office_user,
    configure_merchant,
    declare,
    demo_photo,
    put_order,
)
from returns_infra.fixtures import RunningServices, SmtpServer
from returns_infra.kafka_probe import key_beside
from returns_infra.testing import (
    eventually,
    message_detail,
    messages_to,
    raw_message,
    wait_for_messages_to,
)

pytestmark = pytest.mark.e2e

WAIT = 90.0
PASSWORD = "injection-test-password"
TAG = "<script>alert(1)</script>\" onmouseover=\"alert(2)' onfocus='alert(3)"
ESCAPED = (
    "&lt;script&gt;alert(1)&lt;/script&gt;"
    "&#34; onmouseover=&#34;alert(2)&#39; onfocus=&#39;alert(3)"
)
# Accepted at the edge (no control character), dangerous where headers are written: Python's
# e-mail package decodes it to CR LF + a Bcc header unless the notifier defuses it.
ENCODED_WORD = "=?utf-8?q?=0D=0ABcc:_{spy}?="
BREAKING = f"1 rue {TAG}\r\nBcc: x\x00\x1b[31m"
HEADERS_SET = {"message-id", "date", "from", "to", "reply-to", "subject", "mime-version"}


@dataclass
class HostileReturn:
    merchant_id: str
    return_id: str
    customer: str
    customer_service: str
    spies: list[str]
    user: str
    api_key: str


def _spy(tag: str) -> str:
    return f"spy-{tag}-{uuid.uuid4().hex[:8]}@evil.example"


@pytest.fixture(scope="module")
def hostile(services: RunningServices) -> HostileReturn:
    """A merchant and a customer who typed the worst they could, and their return, declared
    over the real API (defective line with photo and comment, classic line), its label asked
    for from the back-office."""
    merchant_id = f"inject-{uuid.uuid4().hex[:10]}"
    spies = [_spy("merchant"), _spy("customer"), _spy("smuggled")]
    customer = f"lea-{merchant_id}@example.com"
    customer_service = f"cs-{merchant_id}@example.com"
    settings: dict[str, Any] = {
        "name": f"Shop {TAG} {ENCODED_WORD.format(spy=spies[0])}",
        "locale": "fr",
        "customer_service_email": customer_service,
        "return_types": ["refund"],
        "return_address": {
            "name": f"Retours {TAG}",
            "line1": f"1 rue {TAG}",
            "postal_code": "69007",
            "city": "Lyon 🎁 漢字",
            "country": "FR",
        },
        "branding": {"logo_url": "https://shop.example/logo.png", "signature": f"Sig {TAG}"},
    }
    reasons = {
        "damaged": {"label_fr": f"Abîmé {TAG}", "label_en": f"Damaged {TAG}", "defective": True},
        "size": {"label_fr": f"Taille {TAG}", "label_en": f"Size {TAG}", "defective": False},
    }
    order = {
        "ordered_on": (datetime.now(UTC) - timedelta(days=2)).date().isoformat(),
        "customer": {
            "name": f"Léa {TAG} {ENCODED_WORD.format(spy=spies[1])}",
            "email": customer,
            "phone": TAG[:40],  # a phone number is short text (service_kit.bounds)
            "address": {
                "line1": f"3 place {TAG} " + "W" * 120,
                "postal_code": "69002",
                "city": "Lyon",
                "country": "FR",
            },
        },
        "lines": [
            {
                "line_id": "1",
                "sku": f"MUG-{TAG}",
                "name": f"Mug {TAG}",
                "quantity": 1,
                "unit_price_cents": 900,
                "image_url": 'https://shop.example/mug.jpg?x="onerror="alert(4)',
            },
            {
                "line_id": "2",
                "sku": "TEE",
                "name": f"Tee {TAG}",
                "quantity": 1,
                "unit_price_cents": 1,
            },
        ],
    }
    # SMTP commands in the comment: they must stay text inside the e-mail (dot-stuffed).
    comment = (
        f"Cassé {TAG}\r\n.\r\nMAIL FROM:<x@evil.example>\r\nRCPT TO:<{spies[2]}>\r\n"
        "DATA\r\nSubject: smuggled\r\n\r\nhi\r\n.\r\n"
    )
    with (
        httpx.Client(base_url=services.urls["declaration"], timeout=30) as http,
        httpx.Client(base_url=services.urls["media"], timeout=30) as media,
    ):
        # An address line is one line: a line break or a control character is refused at the
        # edge (service_kit.bounds), so the hostile text below reaches the PDF without them.
        refused = http.put(
            f"/v1/merchants/{merchant_id}",
            json={**settings, "return_address": {**settings["return_address"], "line1": BREAKING}},
            headers={"Authorization": f"Bearer {DEMO_ADMIN_TOKEN}"},
        )
        assert refused.status_code == 422, refused.text
        assert "return_address.line1" in refused.text
        api_key = configure_merchant(http, DEMO_ADMIN_TOKEN, merchant_id, settings, reasons)
        user = f"user-{merchant_id}@shop.example"
        add_back_office_user(http, DEMO_ADMIN_TOKEN, merchant_id, user, PASSWORD, f"Julie {TAG}")
        put_order(http, api_key, merchant_id, "A-1", order)
        lines = [
            LineChoice("1", 1, "damaged", comment=comment, photos=[demo_photo()]),
            LineChoice("2", 1, "size", return_type="refund"),
        ]
        declared = declare(http, media, merchant_id, "A-1", customer, lines)
        assert declared.submitted.status_code == 201, declared.submitted.text
        return_id = declared.submitted.json()["return_id"]
        auth = {"Authorization": f"Bearer {api_key}"}
        records = f"/v1/merchants/{merchant_id}/returns/{return_id}"
        asked = http.post(
            f"{records}/label-requests", json={"requested_by_name": f"Julie {TAG}"}, headers=auth
        )
        assert asked.status_code in (200, 201, 202), asked.text

        def labelled() -> dict[str, Any] | None:
            record: dict[str, Any] = http.get(records, headers=auth).json()
            return record if record["label_status"] == "generated" else None

        eventually(labelled, WAIT, "the label of the hostile return")
    return HostileReturn(merchant_id, return_id, customer, customer_service, spies, user, api_key)


# --- pages ---------------------------------------------------------------------------------


class _Page(HTMLParser):
    """Every start tag of a page with its attributes, as a browser would parse them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _assert_harmless(html: str, where: str) -> None:
    assert "<script>alert" not in html, where
    page = _Page()
    page.feed(html)
    assert page.tags, where
    for tag, attributes in page.tags:
        handlers = [name for name in attributes if name.startswith("on")]
        assert not handlers, (where, tag, attributes)
        if tag == "script":
            assert attributes.get("src") == "/static/portal.js", (where, attributes)
        for name in ("href", "src", "action", "formaction"):
            value = (attributes.get(name) or "").strip().lower()
            assert not value.startswith(("javascript:", "data:", "vbscript:")), (where, tag, value)
            assert value == "" or value.startswith(
                ("/", "?", "#", "https://", "http://", "mailto:")
            ), (where, tag, value)


def _csrf(page: httpx.Response) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert found is not None, page.text
    return found.group(1)


def _pages(services: RunningServices, hostile: HostileReturn) -> dict[str, str]:
    """The back-office and portal pages that show what the merchant and the customer typed."""
    merchant, return_id = hostile.merchant_id, hostile.return_id
    shown: dict[str, str] = {}
    with httpx.Client(base_url=services.urls["declaration"], timeout=30) as client:
        token = _csrf(client.get("/back-office/login"))
        signed_in = client.post(
            "/back-office/login", data={"csrf": token, "email": hostile.user, "password": PASSWORD}
        )
        assert signed_in.status_code == 303, signed_in.text
        for path in (
            f"/back-office/merchants/{merchant}/returns",
            f"/back-office/merchants/{merchant}/returns/{return_id}",
            f"/back-office/merchants/{merchant}/settings",
        ):
            page = client.get(path)
            assert page.status_code == 200, (path, page.text)
            shown[path] = page.text
    with httpx.Client(base_url=services.urls["declaration"], timeout=30) as client:
        token = _csrf(client.get(f"/portal/{merchant}"))
        opened = client.post(
            f"/portal/{merchant}",
            data={"csrf": token, "order_number": "A-1", "email": hostile.customer},
        )
        assert opened.status_code == 303, opened.text
        for path in (f"/portal/{merchant}/items", f"/portal/{merchant}/returns/{return_id}"):
            page = client.get(path)
            assert page.status_code == 200, (path, page.text)
            shown[path] = page.text
    return shown


def test_pages_show_hostile_text_escaped_and_no_unsafe_link(
    services: RunningServices, hostile: HostileReturn
) -> None:
    pages = _pages(services, hostile)

    for path, html in pages.items():
        _assert_harmless(html, path)
    record = pages[f"/back-office/merchants/{hostile.merchant_id}/returns/{hostile.return_id}"]
    for shown in ("Léa", "Mug", "Abîmé", "Cassé"):
        assert f"{shown} {ESCAPED}" in record, shown
    assert f'href="mailto:{hostile.customer.replace("@", "%40")}"' in record
    settings = pages[f"/back-office/merchants/{hostile.merchant_id}/settings"]
    assert f'value="Abîmé {ESCAPED}"' in settings  # attribute context
    items = pages[f"/portal/{hostile.merchant_id}/items"]
    assert 'src="https://shop.example/mug.jpg?x=&#34;onerror=&#34;alert(4)"' in items


async def test_a_javascript_label_link_on_the_topic_is_not_shown(
    services: RunningServices, hostile: HostileReturn, broker: KafkaBroker
) -> None:
    forged = "javascript:alert(document.cookie)//.pdf"
    event = LabelGenerated(
        merchant_id=hostile.merchant_id,
        producer="labels",
        payload=LabelGeneratedPayload(
            return_id=hostile.return_id,
            label_id=f"lbl-forged-{uuid.uuid4().hex[:8]}",
            tracking_number="LR000000000FR",
            carrier="local",
            download_url=forged,
            regenerated=True,
        ),
    )
    await publish(broker, Topics(), event)
    records = f"/v1/merchants/{hostile.merchant_id}/returns/{hostile.return_id}"
    auth = {"Authorization": f"Bearer {hostile.api_key}"}
    with httpx.Client(base_url=services.urls["declaration"], timeout=30) as http:

        def recorded() -> bool | None:
            label = http.get(records, headers=auth).json()["label"] or {}
            return True if label.get("download_url") == forged else None

        eventually(recorded, WAIT, "the forged label recorded by declaration")

    pages = _pages(services, hostile)

    for path, html in pages.items():
        _assert_harmless(html, path)
        assert "javascript:" not in html.lower(), path


# --- e-mails -------------------------------------------------------------------------------


def _raw(smtp_server: SmtpServer, summary: dict[str, Any]) -> EmailMessage:
    parsed = message_from_bytes(
        raw_message(smtp_server.api_url, summary["ID"]), policy=email.policy.default
    )
    assert isinstance(parsed, EmailMessage)
    return parsed


async def test_emails_carry_their_headers_and_no_other_and_reach_one_recipient_each(
    smtp_server: SmtpServer,
    hostile: HostileReturn,
    broker: KafkaBroker,
    kafka_bootstrap_servers: str,
) -> None:
    # Acknowledgement and label to the customer, the defective return to customer service.
    to_customer = wait_for_messages_to(smtp_server.api_url, hostile.customer, 2, WAIT)
    [to_service] = wait_for_messages_to(smtp_server.api_url, hostile.customer_service, 1, WAIT)

    for summary, recipient in [
        *[(summary, hostile.customer) for summary in to_customer],
        (to_service, hostile.customer_service),
    ]:
        message = _raw(smtp_server, summary)
        names = {name.lower() for name in message}
        assert names - {"received", "return-path"} == HEADERS_SET | {"content-type"}, names
        for name in ("From", "To", "Reply-To", "Subject"):
            assert len(message.get_all(name) or []) == 1, name
        assert [address.addr_spec for address in message["To"].addresses] == [recipient]
        assert len(message["From"].addresses) == len(message["Reply-To"].addresses) == 1
        subject = str(message["Subject"])
        assert "\r" not in subject and "\n" not in subject
        assert "Shop <script>" in str(message["From"].addresses[0].display_name)
        detail = message_detail(smtp_server.api_url, summary["ID"])
        assert not detail.get("Bcc"), detail.get("Bcc")
        assert [to["Address"] for to in detail["To"]] == [recipient]

    service_email = _raw(smtp_server, to_service)
    assert "Léa <script>" in str(service_email["Subject"])
    assert [a.addr_spec for a in service_email["Reply-To"].addresses] == [hostile.customer]
    html = service_email.get_body(preferencelist=("html",))
    text = service_email.get_body(preferencelist=("plain",))
    assert html is not None and text is not None
    html_body, text_body = html.get_content(), text.get_content()
    assert "<script>alert" not in html_body and f"Cassé {ESCAPED}" in html_body
    # The smuggled SMTP commands arrived as text of the comment, not as a second e-mail.
    assert "RCPT TO:<" + hostile.spies[2] + ">" in text_body
    assert f"Cassé {TAG}" in text_body
    # A sentinel behind the hostile return on its partition of ReturnSubmitted: once the
    # notifier has mailed it, it has finished the hostile return's e-mails, and anything the
    # hostile text could have sent besides them (a smuggled second message) is in Mailpit.
    sentinel = await _sentinel_return(broker, kafka_bootstrap_servers, hostile)
    wait_for_messages_to(smtp_server.api_url, sentinel, 1, WAIT)
    for spy in hostile.spies:
        assert messages_to(smtp_server.api_url, spy) == [], spy


async def _sentinel_return(broker: KafkaBroker, bootstrap: str, hostile: HostileReturn) -> str:
    """Publish a plain return of the hostile merchant on the hostile return's partition; the
    address its confirmation goes to."""
    topics = Topics()
    return_id = await key_beside(bootstrap, hostile.return_id, [topics.return_submitted])
    address = f"sentinel-{hostile.merchant_id}@example.com"
    event = return_submitted(merchant_id=hostile.merchant_id, return_id=return_id)
    customer = event.payload.customer.model_copy(update={"email": address})
    payload = event.payload.model_copy(update={"customer": customer})
    await publish(broker, topics, event.model_copy(update={"payload": payload}))
    return address


def test_the_label_pdf_shows_hostile_addresses_as_plain_lines(
    smtp_server: SmtpServer, hostile: HostileReturn
) -> None:
    to_customer = wait_for_messages_to(smtp_server.api_url, hostile.customer, 2, WAIT)
    pdfs = [
        part.get_content()
        for summary in to_customer
        for part in _raw(smtp_server, summary).iter_attachments()
        if part.get_content_type() == "application/pdf"
    ]
    assert len(pdfs) == 1

    text = PdfReader(io.BytesIO(pdfs[0])).pages[0].extract_text()

    lines = text.split("\n")
    assert not [c for c in text if c != "\n" and unicodedata.category(c) in {"Cc", "Zl", "Zp"}]
    # The return address: its markup is plain text on its own line.
    assert any(line.startswith("1 rue <script>alert(1)</script>") for line in lines), lines
    assert not any(line.startswith("Bcc") for line in lines), lines
    assert "Lyon ? ??" in "\n".join(lines)  # glyphs DejaVu lacks are marked, not dropped
    assert not any("W" * 60 in line for line in lines)  # cut to the label's width
    assert any(line.startswith(f"3 place {TAG} WWW") for line in lines), lines
