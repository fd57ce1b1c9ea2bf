"""The bounds of what a caller may send to any service, declared once.

Every string, integer and list a request carries is held to a bound its store can keep and its
readers can show: FastAPI turns a value out of bounds into a 422 in the one error shape
(`service_kit.errors`) before any use case runs. Limits that are business rules (how many
items an order line may hold, what a price may be) stay in each service's domain; these are
the technical ones every service shares.

A constrained `str` also refuses a lone surrogate (JSON allows `"\\ud800"`, UTF-8 does not), so
nothing that cannot be encoded reaches MongoDB, S3 or SMTP.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import BeforeValidator, Strict, StringConstraints

ID_MAX = 64
"""Ids and codes: merchants, orders, returns, drafts, photos, keys, reasons, lines."""
NAME_MAX = 200
"""A name or a one-line label: person, product, SKU, merchant, reason, address line."""
TEXT_MAX = 10_000
"""Free text a person writes (a comment); the domain may ask for less."""
EMAIL_MAX = 320
"""An e-mail address: 64 for the local part, @, 255 for the domain (RFC 5321)."""
URL_MAX = 2000
TOKEN_MAX = 4096
"""A token, cursor or header value the service gave out itself."""
SHORT_MAX = 40
"""A postal code, a phone number."""

PAGE_SIZE_MAX = 200
"""Items one page of a list may hold."""

ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
"""Ids and codes: letters, digits and `_ . : -`; safe in a URL path and as a MongoDB key."""
ONE_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
"""No control character and no line or paragraph separator: one line (no NUL either)."""

_ONE_LINE = ONE_LINE_PATTERN
_SOME_TEXT = (
    r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*[^\s\x00-\x1f\x7f-\x9f]"
    r"[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
)
_MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

IdText = Annotated[str, StringConstraints(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)]
"""An id or code: letters, digits and `_ . : -`."""
Name = Annotated[str, StringConstraints(min_length=1, max_length=NAME_MAX, pattern=_SOME_TEXT)]
"""One line of text with at least one visible character, no control character."""
OptionalName = Annotated[str, StringConstraints(max_length=NAME_MAX, pattern=_ONE_LINE)]
"""One line of text that may be blank, no control character."""
ShortText = Annotated[
    str, StringConstraints(min_length=1, max_length=SHORT_MAX, pattern=_SOME_TEXT)
]
"""A postal code, a phone number: short, one line."""
LongText = Annotated[str, StringConstraints(max_length=TEXT_MAX, pattern=_MULTI_LINE)]
"""Free text over several lines (tabs and line breaks allowed, other control characters not)."""
EmailAddress = Annotated[
    str, StringConstraints(max_length=EMAIL_MAX, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]
"""An e-mail address of the shape local@domain.tld (no DNS, no IDNA)."""
HttpUrl = Annotated[str, StringConstraints(max_length=URL_MAX, pattern=r"^https?://\S+$")]
"""An http(s) URL, one line."""


def _iso_day(value: object) -> object:
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


# What JSON says, not what it could be read as: `false` is no number, `0` no boolean, and `0`
# no date (pydantic's lax mode would read each one as the other).
WholeNumber = Annotated[int, Strict()]
"""A JSON integer; give the range with `Field(ge=..., le=...)`."""
Flag = Annotated[bool, Strict()]
"""A JSON boolean."""
IsoDate = Annotated[date, BeforeValidator(_iso_day)]
"""A calendar day written YYYY-MM-DD."""


def link_parts_fit(resource_id: str, expiry: str, signature: str) -> bool:
    """Whether the parts of a signed link are no longer than any this platform signs. A signed
    link answers 404 whatever is wrong with it, so its route checks this rather than declaring
    bounds that would answer 422."""
    return len(resource_id) <= ID_MAX and len(expiry) <= SHORT_MAX and len(signature) <= TOKEN_MAX
