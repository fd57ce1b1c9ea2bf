"""Sending e-mails over SMTP with aiosmtplib, through one connection kept for the process."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from aiosmtplib import (
    SMTP,
    SMTPAuthenticationError,
    SMTPException,
    SMTPRecipientsRefused,
    SMTPResponseException,
)

from returns_notifier.domain.emails import OutgoingEmail
from returns_notifier.service.errors import MailServerUnavailable, RecipientRejected

# "Service not available, closing transmission channel": the server says it is going away.
_SERVICE_NOT_AVAILABLE = 421


def to_mime(email: OutgoingEmail, now: datetime | None = None) -> EmailMessage:
    """The MIME message: multipart/alternative with the plain-text part first, then the HTML
    (multipart/related with its inline images when there are any); inside multipart/mixed with
    the attachments when there are any."""
    message = EmailMessage()
    message["Message-ID"] = email.message_id
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["From"] = Address(display_name=email.sender.name or "", addr_spec=email.sender.address)
    message["To"] = email.recipient
    if email.reply_to is not None:
        message["Reply-To"] = Address(
            display_name=email.reply_to.name or "", addr_spec=email.reply_to.address
        )
    message["Subject"] = email.subject
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    if email.inline_images:
        # multipart/related around the HTML part only: the text part has no use for images.
        html_part = message.get_body(preferencelist=("html",))
        if html_part is None:
            raise ValueError("an e-mail with inline images needs an HTML part")
        for image in email.inline_images:
            maintype, _, subtype = image.content_type.partition("/")
            html_part.add_related(
                image.data,
                maintype=maintype,
                subtype=subtype,
                cid=f"<{image.content_id}>",
                disposition="inline",
                filename=image.content_id.split("@")[0] + "." + subtype,
            )
    for attachment in email.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename
        )
    return message


class SmtpSender:
    """One SMTP connection, opened on first use, checked with NOOP before each e-mail.

    A NOOP that fails means nothing was sent yet, so reconnecting then is safe. Any failure while
    sending drops the connection and raises: the consumer retries the whole message, and the
    e-mail keeps its Message-ID. A server that cannot be reached at all (or answers 421) raises
    `MailServerUnavailable`: the consumer then waits for it without giving the message up.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        starttls: bool,
        timeout: float,
    ) -> None:
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout
        self._client: SMTP | None = None
        self._lock = asyncio.Lock()

    def new_client(self) -> SMTP:
        return SMTP(
            hostname=self._host,
            port=self._port,
            username=self._username,
            password=self._password,
            start_tls=self._starttls,
            timeout=self._timeout,
        )

    async def send(self, email: OutgoingEmail) -> None:
        message = to_mime(email)
        async with self._lock:
            client = await self._connected()
            try:
                await client.send_message(message)
            except SMTPRecipientsRefused as error:
                self._drop()
                if error.recipients and all(r.code >= 500 for r in error.recipients):
                    raise RecipientRejected(
                        f"the mail server refused {email.recipient!r}: "
                        + "; ".join(f"{r.code} {r.message}" for r in error.recipients)
                    ) from error
                raise
            except SMTPResponseException as error:
                self._drop()
                if error.code == _SERVICE_NOT_AVAILABLE:
                    raise MailServerUnavailable(f"the mail server is closing: {error}") from error
                raise
            except BaseException:
                self._drop()
                raise

    async def check(self) -> object:
        """Readiness: a fresh connection answers EHLO (and STARTTLS/AUTH when configured)."""
        client = self.new_client()
        try:
            await client.connect()
            response = await client.ehlo()
            await client.quit()
        finally:
            client.close()
        return response.code

    async def close(self) -> None:
        async with self._lock:
            if self._client is not None and self._client.is_connected:
                with contextlib.suppress(SMTPException, OSError):
                    await self._client.quit()
            self._drop()

    async def _connected(self) -> SMTP:
        if self._client is not None and self._client.is_connected:
            try:
                await self._client.noop()
                return self._client
            except (SMTPException, OSError):
                self._drop()
        client = self.new_client()
        try:
            await client.connect()
        except SMTPAuthenticationError:
            client.close()
            raise  # wrong credentials are configuration, not an outage: bounded retries
        except (SMTPException, OSError) as error:
            client.close()
            raise MailServerUnavailable(
                f"cannot reach the mail server {self._host}:{self._port}: {error!r}"
            ) from error
        self._client = client
        return client

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
