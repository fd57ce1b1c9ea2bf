"""Sending e-mails over SMTP with aiosmtplib, through one connection kept for the process."""

from __future__ import annotations

import asyncio
import contextlib
import email.policy
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email import message_from_bytes
from email.errors import HeaderParseError
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
from returns_notifier.service.errors import (
    InvalidRecipient,
    MailServerUnavailable,
    RecipientRejected,
    UnsafeHeaders,
)

# "Service not available, closing transmission channel": the server says it is going away.
_SERVICE_NOT_AVAILABLE = 421

# Characters that break a header line (C0/C1 controls, CR and LF among them, and the Unicode
# line and paragraph separators) or reorder what the reader sees (bidirectional overrides).
_UNSAFE_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


_NAME_LIMIT = 200
_SUBJECT_LIMIT = 400
# How the message is written to the server. Unfolded: Python 3.11 drops the quotes around a
# display name it folds over two lines, and `Shop, spy@evil.example, <long tail>` then reads as
# three addresses. A line stays far below SMTP's 998 characters: names and subjects are capped.
_WIRE = email.policy.SMTP.clone(max_line_length=None)


def header_text(value: str, limit: int = _NAME_LIMIT) -> str:
    """Text from a customer or a merchant made safe for a header value (Subject, display name).

    Controls and line breaks become spaces and whitespace is collapsed, so no text can end the
    header line. `=?` becomes `= ?`: Python's e-mail package (3.11) decodes RFC 2047 encoded
    words found in a value and writes what they decode to, CR and LF included, into the
    message, so a name such as `=?utf-8?q?=0D=0ABcc:_x@evil?=` would add a Bcc header.
    """
    printable = "".join(
        " "
        if unicodedata.category(character) in _UNSAFE_CATEGORIES or character in _BIDI_CONTROLS
        else character
        for character in value
    )
    return " ".join(printable.split()).replace("=?", "= ?")[:limit].strip()


def _mailbox(address: str, name: str | None = None) -> Address:
    """One mailbox, or InvalidRecipient: a comma, a second address or a line break in `address`
    is refused here rather than read as more recipients."""
    try:
        return Address(display_name=header_text(name or ""), addr_spec=address)
    except (ValueError, IndexError, HeaderParseError) as error:
        raise InvalidRecipient(f"not a single e-mail address: {address!r}") from error


def wire_bytes(message: EmailMessage, *, eight_bit: bool = True) -> bytes:
    """The message as it is handed to the SMTP server (CRLF line ends, headers unfolded)."""
    return message.as_bytes(policy=_WIRE if eight_bit else _WIRE.clone(cte_type="7bit"))


def check_written(written: bytes, expected: Mapping[str, Sequence[Address] | None]) -> None:
    """The message as written, read back as a mail client would, has exactly the top-level
    headers that were set, each once, and each address header exactly the mailboxes that were
    set, names included: whatever a value held, it added no header and no recipient (Python
    3.13 checks the first with `verify_generated_headers`; 3.11 checks nothing)."""
    head = written.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    parsed = message_from_bytes(head, policy=email.policy.default)
    found = sorted(name.lower() for name in parsed)
    if found != sorted(name.lower() for name in expected):
        raise UnsafeHeaders(f"headers {found} written where {sorted(expected)} were set")
    for name, mailboxes in expected.items():
        if mailboxes is None:
            continue
        read = [(mailbox.addr_spec, mailbox.display_name) for mailbox in parsed[name].addresses]
        if read != [(mailbox.addr_spec, mailbox.display_name) for mailbox in mailboxes]:
            raise UnsafeHeaders(f"{name} reads as {read}, not as the mailbox set")


def to_mime(email: OutgoingEmail, now: datetime | None = None) -> EmailMessage:
    """The MIME message of `email`, checked as `checked_wire` says."""
    return checked_wire(email, now)[0]


def checked_wire(email: OutgoingEmail, now: datetime | None = None) -> tuple[EmailMessage, bytes]:
    """The MIME message and its 8-bit wire bytes, as checked: multipart/alternative with the
    plain-text part first, then the HTML (multipart/related with its inline images when there
    are any); inside multipart/mixed with the attachments when there are any.

    Every header value from a customer or a merchant goes through `header_text` or `_mailbox`,
    and the message as written is read back and checked against what was set
    (`check_written`): UnsafeHeaders otherwise, and nothing is sent."""
    message = EmailMessage()
    sender = _mailbox(email.sender.address, email.sender.name)
    recipient = _mailbox(email.recipient)
    reply_to = (
        None if email.reply_to is None else _mailbox(email.reply_to.address, email.reply_to.name)
    )
    message["Message-ID"] = email.message_id
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["From"] = sender
    message["To"] = recipient
    if reply_to is not None:
        message["Reply-To"] = reply_to
    message["Subject"] = header_text(email.subject, _SUBJECT_LIMIT)
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
    expected: dict[str, Sequence[Address] | None] = {
        "Message-ID": None,
        "Date": None,
        "From": [sender],
        "To": [recipient],
        "Subject": None,
        "MIME-Version": None,
        "Content-Type": None,
    }
    if reply_to is not None:
        expected["Reply-To"] = [reply_to]
    # Written once: the bytes checked are the bytes sent (a message with a label or photos
    # attached took a noticeable share of the notifier's CPU to write twice).
    written = wire_bytes(message)
    check_written(written, expected)
    return message, written


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
        message, written = checked_wire(email)
        async with self._lock:
            client = await self._connected()
            try:
                if client.is_ehlo_or_helo_needed:
                    await client.ehlo()
                eight_bit = client.supports_extension("8bitmime")
                # The bytes checked by checked_wire (written again in 7 bits for a server
                # without 8BITMIME, which changes only the bodies' transfer encoding), and an
                # envelope naming the one recipient: headers never choose who receives it.
                await client.sendmail(
                    email.sender.address,
                    [email.recipient],
                    written if eight_bit else wire_bytes(message, eight_bit=False),
                    mail_options=["BODY=8BITMIME"] if eight_bit else [],
                )
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
