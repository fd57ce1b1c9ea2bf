"""The bytes of an e-mail, written directly: RFC 5322 headers, RFC 2047 encoded words for text
that is not ASCII, RFC 2045 quoted-printable text parts and base64 binary parts, RFC 2046
multiparts.

Python's `email` package builds, folds and re-parses every header through its header registry;
for the few shapes of message the notifier sends that was most of its CPU per e-mail (issue 11).
Every value written here is either ours (Message-ID, Date, content types, Content-IDs, file
names, all checked below) or a name or subject already made one line by `smtp.header_text`, and
`smtp.check_written` reads the result back as a mail client would before anything is sent.

The whole message is 7-bit ASCII (encoded words, quoted-printable, base64), so the same bytes
suit every SMTP server, with or without 8BITMIME.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote

CRLF = b"\r\n"
# Where a header line is folded when a space allows it (RFC 5322 2.1.1 asks for 78).
_FOLD_AT = 78
# RFC 2047 2: an encoded word is at most 75 characters, `=?utf-8?q?` and `?=` included.
_ENCODED_WORD_LIMIT = 75
_Q_PREFIX = "=?utf-8?q?"
_B_PREFIX = "=?utf-8?b?"
_SUFFIX = "?="
_PAYLOAD_LIMIT = _ENCODED_WORD_LIMIT - len(_Q_PREFIX) - len(_SUFFIX)

# RFC 2047 5(3): what a "Q" encoded word may carry as itself, even inside a phrase; a space is
# written "_" and every other byte "=XX".
_Q_LITERAL = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/")
_Q_BYTES: tuple[str, ...] = tuple(
    "_" if byte == 0x20 else chr(byte) if byte in _Q_LITERAL else f"={byte:02X}"
    for byte in range(256)
)
# A display name written as is: atoms (RFC 5322 atext) separated by single spaces.
_ATOMS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+( [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_CONTENT_TYPE = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*")
# A Message-ID or Content-ID between its angle brackets: printable ASCII, no space, no bracket.
_IDENTIFIER = re.compile(r"[\x21-\x3b\x3d\x3f-\x7e]+")
# A file name written as a quoted string; any other is written per RFC 2231 (`filename*=`).
_PLAIN_FILENAME = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]+")


@dataclass(frozen=True, slots=True)
class Part:
    """One MIME entity: its header lines (ASCII, without line ends) and its encoded body, which
    ends with CRLF."""

    headers: tuple[str, ...]
    body: bytes

    def written(self) -> bytes:
        head = "\r\n".join(self.headers).encode("ascii")
        return head + CRLF + CRLF + self.body


def _q_pieces(text: str) -> list[str]:
    return ["".join(_Q_BYTES[byte] for byte in char.encode()) for char in text]


def encoded_words(text: str, *, split: bool) -> list[str]:
    """`text` as RFC 2047 encoded words in UTF-8, "Q", or "B" when that is much shorter.

    `split`: as many words of at most 75 characters as needed, never cutting a character; the
    reader joins them without the whitespace between them (RFC 2047 6.2), which holds in
    unstructured text such as a Subject. Without `split`, one word whatever its length: inside
    a display name Python's parser puts a space between two encoded words where RFC 2047 and
    Go's (Mailpit's) do not, so a name is never split.
    """
    pieces = _q_pieces(text)
    encoded = text.encode()
    # "Q" keeps Latin text readable in the raw message; "B" is for scripts it would triple.
    if sum(len(piece) for piece in pieces) <= len(base64.b64encode(encoded)) * 3 // 2:
        if not split:
            return [_Q_PREFIX + "".join(pieces) + _SUFFIX]
        words: list[str] = []
        current: list[str] = []
        length = 0
        for piece in pieces:
            if current and length + len(piece) > _PAYLOAD_LIMIT:
                words.append(_Q_PREFIX + "".join(current) + _SUFFIX)
                current, length = [], 0
            current.append(piece)
            length += len(piece)
        words.append(_Q_PREFIX + "".join(current) + _SUFFIX)
        return words
    if not split:
        return [_B_PREFIX + base64.b64encode(encoded).decode("ascii") + _SUFFIX]
    # 45 bytes make 60 base64 characters, the most that fits in one word.
    most = _PAYLOAD_LIMIT // 4 * 3
    chunks: list[bytes] = []
    chunk = b""
    for char in text:
        data = char.encode()
        if chunk and len(chunk) + len(data) > most:
            chunks.append(chunk)
            chunk = b""
        chunk += data
    chunks.append(chunk)
    return [_B_PREFIX + base64.b64encode(chunk).decode("ascii") + _SUFFIX for chunk in chunks]


def unstructured(text: str) -> list[str]:
    """The tokens of an unstructured header value (Subject) made of words separated by single
    spaces: ASCII words as they are, each run of words with other characters as encoded words
    (the spaces inside a run encoded with it)."""
    tokens: list[str] = []
    run: list[str] = []
    for word in text.split(" "):
        if word.isascii():
            if run:
                tokens.extend(encoded_words(" ".join(run), split=True))
                run = []
            tokens.append(word)
        else:
            run.append(word)
    if run:
        tokens.extend(encoded_words(" ".join(run), split=True))
    return tokens


def phrase(name: str) -> str:
    """A display name made one line (`smtp.header_text`), as an RFC 5322 phrase: atoms as they
    are, other ASCII as one quoted string, anything else as one encoded word."""
    if not name.isascii():
        return encoded_words(name, split=False)[0]
    if _ATOMS.fullmatch(name):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mailbox(address: str, name: str) -> str:
    """`name <address>`, or the bare address without a name. `address` is already checked."""
    return f"{phrase(name)} <{address}>" if name else address


def header(name: str, tokens: Sequence[str]) -> str:
    """One header line, folded at a space between two tokens where it would pass 78 characters
    (a token longer than a line stays whole: names and subjects are capped far below 998)."""
    line = f"{name}:"
    lines: list[str] = []
    for index, token in enumerate(tokens):
        if index and len(line) + 1 + len(token) > _FOLD_AT:
            lines.append(line)
            line = ""
        line += " " + token
    lines.append(line)
    return "\r\n".join(lines)


def identifier(value: str) -> str:
    """A Message-ID or Content-ID as written: `<left@right>`, ours and checked here."""
    inner = value[1:-1] if value.startswith("<") and value.endswith(">") else value
    if not _IDENTIFIER.fullmatch(inner):
        raise ValueError(f"not a message or content identifier: {value!r}")
    return f"<{inner}>"


def _content_type(value: str) -> str:
    if not _CONTENT_TYPE.fullmatch(value):
        raise ValueError(f"not a content type: {value!r}")
    return value.lower()


def _filename(value: str) -> str:
    if _PLAIN_FILENAME.fullmatch(value):
        return f'filename="{value}"'
    return "filename*=utf-8''" + quote(value, safe="")


def text_part(text: str, subtype: str) -> Part:
    """A UTF-8 text part in quoted-printable: line ends made CRLF (any of CR, LF or CRLF, as
    Python's `email` did), lines at most 76 characters, the text ending with a line end."""
    lines = text.encode("utf-8").splitlines()
    encoded = binascii.b2a_qp(b"\n".join(lines) + b"\n", istext=True)
    return Part(
        (
            f'Content-Type: text/{subtype}; charset="utf-8"',
            "Content-Transfer-Encoding: quoted-printable",
        ),
        encoded.replace(b"\n", CRLF),
    )


def binary_part(
    data: bytes,
    content_type: str,
    *,
    disposition: str,
    filename: str,
    content_id: str | None = None,
) -> Part:
    """An image or a document in base64 (lines of 76 characters)."""
    headers = [
        f"Content-Type: {_content_type(content_type)}",
        "Content-Transfer-Encoding: base64",
        f"Content-Disposition: {disposition}; {_filename(filename)}",
    ]
    if content_id is not None:
        headers.append(f"Content-ID: {identifier(content_id)}")
    return Part(tuple(headers), base64.encodebytes(data).replace(b"\n", CRLF))


class Boundaries:
    """The boundaries of one message's multiparts. `=_` never occurs in quoted-printable (an
    `=` there is followed by two hexadecimal digits or a line end) nor in base64, so no line of
    an encoded body can be mistaken for one (RFC 2045 6.7, note 8)."""

    def __init__(self) -> None:
        self._token = secrets.token_hex(12)
        self._count = 0

    def next(self) -> str:
        self._count += 1
        return f"=_{self._token}.{self._count}"


def multipart(subtype: str, parts: Sequence[Part], boundaries: Boundaries) -> Part:
    boundary = boundaries.next()
    delimiter = b"--" + boundary.encode("ascii")
    # The CRLF before each delimiter belongs to it (RFC 2046 5.1.1): a body's own last line end
    # stays in the body.
    body = (
        delimiter
        + CRLF
        + (CRLF + delimiter + CRLF).join(part.written() for part in parts)
        + CRLF
        + delimiter
        + b"--"
        + CRLF
    )
    return Part((f'Content-Type: multipart/{subtype}; boundary="{boundary}"',), body)


def message(headers: Sequence[str], content: Part) -> bytes:
    """The whole message: `headers` (already folded), MIME-Version, then `content`."""
    return Part((*headers, "MIME-Version: 1.0", *content.headers), content.body).written()
