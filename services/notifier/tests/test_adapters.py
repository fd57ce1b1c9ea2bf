"""The SMTP and HTTP adapters against real servers: Mailpit, and ports where nothing listens."""

from __future__ import annotations

import asyncio
import socket
import uuid

import httpx
import pytest

from returns_contracts.service_kit.kafka import Unavailable
from returns_infra.fixtures import SmtpServer
from returns_infra.testing import message_detail, wait_for_messages_to
from returns_notifier.adapters.http_clients import HttpLabelFiles, MediaPhotoDirectory
from returns_notifier.adapters.smtp import SmtpSender
from returns_notifier.domain.emails import Mailbox, OutgoingEmail
from returns_notifier.domain.model import Attachment
from returns_notifier.service.errors import (
    DependencyUnavailable,
    LabelLinkRefused,
    MailServerUnavailable,
)

PDF = b"%PDF-1.4\n% integration test\n%%EOF\n"


def _closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _sender(host: str, port: int, connections: int = 4) -> SmtpSender:
    return SmtpSender(
        host=host,
        port=port,
        username=None,
        password=None,
        starttls=False,
        timeout=5.0,
        connections=connections,
    )


def _email(recipient: str) -> OutgoingEmail:
    return OutgoingEmail(
        message_id=f"<{uuid.uuid4()}.customer_label@returns.test>",
        sender=Mailbox("returns@demo-shop.example", "L'Atelier"),
        recipient=recipient,
        reply_to=Mailbox("sav@atelier.example.com", "L'Atelier"),
        subject="Votre étiquette de retour",
        text="Bonjour Léa\n",
        html="<p>Bonjour Léa</p>",
        attachments=(Attachment("etiquette.pdf", "application/pdf", PDF),),
    )


@pytest.mark.integration
async def test_an_email_with_its_attachment_reaches_the_mail_server(
    smtp_server: SmtpServer,
) -> None:
    recipient = f"adapter-{uuid.uuid4().hex[:8]}@example.com"
    sender = _sender(smtp_server.host, smtp_server.port)
    email = _email(recipient)
    try:
        await sender.send(email)
        await sender.send(_email(recipient))  # the kept connection serves the next one
    finally:
        await sender.close()

    received = wait_for_messages_to(smtp_server.api_url, recipient, 2)
    [first] = [m for m in received if m["MessageID"] in email.message_id]
    detail = message_detail(smtp_server.api_url, first["ID"])
    assert detail["From"] == {"Name": "L'Atelier", "Address": "returns@demo-shop.example"}
    assert detail["Text"].strip() == "Bonjour Léa"
    [attachment] = detail["Attachments"]
    assert (attachment["FileName"], attachment["ContentType"]) == (
        "etiquette.pdf",
        "application/pdf",
    )


@pytest.mark.integration
async def test_e_mails_sent_at_once_go_out_side_by_side_on_at_most_the_connections_set(
    smtp_server: SmtpServer,
) -> None:
    recipient = f"adapter-{uuid.uuid4().hex[:8]}@example.com"
    sender = _sender(smtp_server.host, smtp_server.port, connections=3)
    emails = [_email(recipient) for _ in range(8)]
    try:
        await asyncio.gather(*(sender.send(email) for email in emails))
        # Each of the three opened a connection of its own (one at a time would open one),
        # and kept it for the next e-mails.
        assert sender.idle_connections == 3
    finally:
        await sender.close()
    assert sender.idle_connections == 0

    received = wait_for_messages_to(smtp_server.api_url, recipient, len(emails))
    assert sorted(m["MessageID"] for m in received) == sorted(
        email.message_id.strip("<>") for email in emails
    )


@pytest.mark.integration
async def test_french_names_subject_and_file_name_arrive_intact_at_the_mail_server(
    smtp_server: SmtpServer,
) -> None:
    # The message is written by our own MIME writer: Mailpit (Go) must read what Python's
    # parser reads, encoded words, folded subject and quoted-printable bodies included.
    recipient = f"adapter-{uuid.uuid4().hex[:8]}@example.com"
    merchant = "L'Atelier d'Émilie & Fils (Lyon)"
    customer = "Léa-Zoë Dupont-Français"
    subject = (
        f"[Retour défectueux] Commande CMD-2026-0042 - {customer} - "
        "l'anse du mug est cassée, le carton était écrasé et la boîte déchirée à l'arrivée"
    )
    text = "Bonjour Léa,\n\nVotre étiquette « retour » est jointe.\n" + "Très long. " * 20 + "\n"
    html = "<p>Bonjour Léa, votre étiquette est jointe : " + "très " * 40 + "long.</p>"
    email = OutgoingEmail(
        message_id=f"<{uuid.uuid4()}.customer_label@returns.test>",
        sender=Mailbox("returns@demo-shop.example", merchant),
        recipient=recipient,
        reply_to=Mailbox("lea.dupont@example.com", customer),
        subject=subject,
        text=text,
        html=html,
        attachments=(Attachment("étiquette-retour.pdf", "application/pdf", PDF),),
    )
    sender = _sender(smtp_server.host, smtp_server.port)
    try:
        await sender.send(email)
    finally:
        await sender.close()

    [received] = wait_for_messages_to(smtp_server.api_url, recipient, 1)
    detail = message_detail(smtp_server.api_url, received["ID"])
    assert detail["From"] == {"Name": merchant, "Address": "returns@demo-shop.example"}
    assert detail["ReplyTo"] == [{"Name": customer, "Address": "lea.dupont@example.com"}]
    assert detail["Subject"] == subject
    assert detail["Text"].replace("\r\n", "\n") == text
    assert detail["HTML"].strip() == html
    [attachment] = detail["Attachments"]
    assert attachment["FileName"] == "étiquette-retour.pdf"


@pytest.mark.integration
async def test_a_mail_server_nobody_answers_for_is_an_outage_not_a_failure() -> None:
    sender = _sender("127.0.0.1", _closed_port())

    with pytest.raises(MailServerUnavailable) as raised:
        await sender.send(_email("lea.dupont@example.com"))

    assert isinstance(raised.value, Unavailable)


@pytest.mark.integration
async def test_media_or_labels_not_answering_is_an_outage() -> None:
    port = _closed_port()
    async with httpx.AsyncClient(timeout=5) as client:
        with pytest.raises(DependencyUnavailable):
            await MediaPhotoDirectory(client, f"http://127.0.0.1:{port}", "t").lookup("m", ["p-1"])
        with pytest.raises(DependencyUnavailable):
            labels = HttpLabelFiles(client, f"http://127.0.0.1:{port}")
            await labels.download(f"http://127.0.0.1:{port}/l/x.pdf")


async def test_a_label_link_outside_the_labels_service_is_refused_without_a_request() -> None:
    def no_request(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"the notifier fetched {request.url}")

    async with httpx.AsyncClient(transport=httpx.MockTransport(no_request)) as client:
        labels = HttpLabelFiles(client, "http://labels.internal:8004")
        for url in (
            "http://labels.example/l/L-1.pdf",
            "http://labels.internal:8004.evil.example/l/L-1.pdf",
            "http://169.254.169.254/latest/meta-data/",
        ):
            with pytest.raises(LabelLinkRefused):
                await labels.download(url)


async def test_no_photo_means_no_call_to_media() -> None:
    async with httpx.AsyncClient(timeout=5) as client:
        directory = MediaPhotoDirectory(client, f"http://127.0.0.1:{_closed_port()}", "t")
        assert await directory.lookup("m", []) == {}
