"""Sending e-mails over SMTP with aiosmtplib, through one connection kept for the process."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import format_datetime

from aiosmtplib import (
    SMTP,
    SMTPAuthenticationError,
    SMTPException,
    SMTPRecipientsRefused,
    SMTPResponseException,
)

from returns_notifier.adapters import mime
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
# The addresses written in headers: a dot-atom local part and a host name, ASCII. Narrower than
# RFC 5322 (no quoted local part, no address literal), as the domain's deliverable addresses.
_ADDR_SPEC = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
_MAX_ADDRESS_LENGTH = 254

# Header lines only, kept as written: the address headers are then read one by one.
_HEADER_PARSER = BytesHeaderParser(policy=email_policy.compat32)

Mailboxes = Sequence[tuple[str, str]]
"""The mailboxes of an address header, each as (address, display name)."""


def header_text(value: str, limit: int = _NAME_LIMIT) -> str:
    """Text from a customer or a merchant made safe for a header value (Subject, display name).

    Controls and line breaks become spaces and whitespace is collapsed, so no text can end the
    header line. `=?` becomes `= ?`: a mail client decodes RFC 2047 encoded words found in a
    value, so text written as is must not read as one (a name such as
    `=?utf-8?q?=0D=0ABcc:_x@evil?=` would otherwise show, or with Python's e-mail package 3.11
    write, a CR LF and a Bcc header).
    """
    printable = "".join(
        " "
        if unicodedata.category(character) in _UNSAFE_CATEGORIES or character in _BIDI_CONTROLS
        else character
        for character in value
    )
    return " ".join(printable.split()).replace("=?", "= ?")[:limit].strip()


def _address(address: str) -> str:
    """One plain address, or InvalidRecipient: a comma, a second address, a name or a line break
    in `address` is refused here rather than read as more recipients."""
    if len(address) > _MAX_ADDRESS_LENGTH or not _ADDR_SPEC.fullmatch(address):
        raise InvalidRecipient(f"not a single e-mail address: {address!r}")
    return address


def check_written(written: bytes, expected: Mapping[str, Mailboxes | None]) -> None:
    """The message as written, read back as a mail client would, has exactly the top-level
    headers that were set, each once, and each address header exactly the mailboxes that were
    set, names included: whatever a value held, it added no header and no recipient.

    Read by Python's parser: its header lines as they split, then each address header through
    the header registry of the default policy (as `email.policy.default` reads a message, from
    the unfolded value), without building what the check does not look at."""
    head = written.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    parsed = _HEADER_PARSER.parsebytes(head)
    found = sorted(name.lower() for name in parsed)
    if found != sorted(name.lower() for name in expected):
        raise UnsafeHeaders(f"headers {found} written where {sorted(expected)} were set")
    for name, mailboxes in expected.items():
        if mailboxes is None:
            continue
        read = _mailboxes_read(name, "".join(str(parsed[name]).splitlines()))
        if read != tuple(mailboxes):
            raise UnsafeHeaders(f"{name} reads as {read}, not as the mailboxes set")


@functools.lru_cache(maxsize=4096)
def _mailboxes_read(name: str, value: str) -> tuple[tuple[str, str], ...]:
    """The mailboxes of one address header's unfolded value, as the default policy's header
    registry reads them. The reading depends on nothing else, and a sender's or a merchant's
    header comes back in e-mail after e-mail: it is kept, not parsed again (issue 11)."""
    header = email_policy.default.header_factory(name, value)
    return tuple((mailbox.addr_spec, mailbox.display_name) for mailbox in header.addresses)


def to_mime(email: OutgoingEmail, now: datetime | None = None) -> EmailMessage:
    """The message of `email` as written by `checked_wire`, read back by Python's parser."""
    parsed = message_from_bytes(checked_wire(email, now), policy=email_policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def checked_wire(email: OutgoingEmail, now: datetime | None = None) -> bytes:
    """The message as handed to the SMTP server, checked: multipart/alternative with the
    plain-text part first, then the HTML (multipart/related with its inline images when there
    are any); inside multipart/mixed with the attachments when there are any.

    Every header value from a customer or a merchant goes through `header_text` or `_address`,
    and the message as written is read back and checked against what was set
    (`check_written`): UnsafeHeaders otherwise, and nothing is sent."""
    sender = (_address(email.sender.address), header_text(email.sender.name or ""))
    recipient = (_address(email.recipient), "")
    reply_to = (
        None
        if email.reply_to is None
        else (_address(email.reply_to.address), header_text(email.reply_to.name or ""))
    )
    headers = [
        f"Message-ID: {mime.identifier(email.message_id)}",
        f"Date: {format_datetime(now or datetime.now(UTC))}",
        mime.header("From", [mime.mailbox(*sender)]),
        mime.header("To", [mime.mailbox(*recipient)]),
    ]
    expected: dict[str, Mailboxes | None] = {
        "Message-ID": None,
        "Date": None,
        "From": [sender],
        "To": [recipient],
        "Subject": None,
        "MIME-Version": None,
        "Content-Type": None,
    }
    if reply_to is not None:
        headers.append(mime.header("Reply-To", [mime.mailbox(*reply_to)]))
        expected["Reply-To"] = [reply_to]
    headers.append(
        mime.header("Subject", mime.unstructured(header_text(email.subject, _SUBJECT_LIMIT)))
    )

    boundaries = mime.Boundaries()
    html = mime.text_part(email.html, "html")
    if email.inline_images:
        # multipart/related around the HTML part only: the text part has no use for images.
        images = [
            mime.binary_part(
                image.data,
                image.content_type,
                disposition="inline",
                filename=image.content_id.split("@")[0]
                + "."
                + image.content_type.partition("/")[2],
                content_id=image.content_id,
            )
            for image in email.inline_images
        ]
        html = mime.multipart("related", [html, *images], boundaries)
    content = mime.multipart("alternative", [mime.text_part(email.text, "plain"), html], boundaries)
    if email.attachments:
        attachments = [
            mime.binary_part(
                attachment.data,
                attachment.content_type,
                disposition="attachment",
                filename=attachment.filename,
            )
            for attachment in email.attachments
        ]
        content = mime.multipart("mixed", [content, *attachments], boundaries)
    written = mime.message(headers, content)
    check_written(written, expected)
    return written


class SmtpSender:
    """A few SMTP connections, each opened on first use and checked with NOOP before each
    e-mail it carries; at most `connections` e-mails are on their way at once.

    A NOOP that fails means nothing was sent yet, so reconnecting then is safe. Any failure while
    sending drops that connection and raises: the consumer retries the whole message, and the
    e-mail keeps its Message-ID. A server that cannot be reached at all (or answers 421) raises
    `MailServerUnavailable`: the consumer then waits for it without giving the message up.
    Several connections, because one e-mail holds its connection for four round trips and the
    server's write of the message: with one, the consumers' returns queued behind each other.
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
        connections: int = 4,
    ) -> None:
        if connections < 1:
            raise ValueError("an SMTP sender needs at least one connection")
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        self._starttls = starttls
        self._timeout = timeout
        self._idle: list[SMTP] = []
        self._slots = asyncio.Semaphore(connections)

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
        written = checked_wire(email)
        async with self._slots:
            client = await self._connected()
            try:
                if client.is_ehlo_or_helo_needed:
                    await client.ehlo()
                # The bytes checked by checked_wire (7-bit: every server takes them as they
                # are), and an envelope naming the one recipient: headers never choose who
                # receives it.
                await client.sendmail(email.sender.address, [email.recipient], written)
            except SMTPRecipientsRefused as error:
                client.close()
                if error.recipients and all(r.code >= 500 for r in error.recipients):
                    raise RecipientRejected(
                        f"the mail server refused {email.recipient!r}: "
                        + "; ".join(f"{r.code} {r.message}" for r in error.recipients)
                    ) from error
                raise
            except SMTPResponseException as error:
                client.close()
                if error.code == _SERVICE_NOT_AVAILABLE:
                    raise MailServerUnavailable(f"the mail server is closing: {error}") from error
                raise
            except BaseException:
                client.close()
                raise
            self._idle.append(client)

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

    @property
    def idle_connections(self) -> int:
        """Connections kept open for the next e-mails."""
        return len(self._idle)

    async def close(self) -> None:
        while self._idle:
            client = self._idle.pop()
            if client.is_connected:
                with contextlib.suppress(SMTPException, OSError):
                    await client.quit()
            client.close()

    async def _connected(self) -> SMTP:
        """An idle connection that still answers, else a new one."""
        while self._idle:
            client = self._idle.pop()
            if client.is_connected:
                try:
                    await client.noop()
                    return client
                except (SMTPException, OSError):
                    pass
            client.close()
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
        return client
