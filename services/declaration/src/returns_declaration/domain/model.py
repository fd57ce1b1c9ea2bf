"""Merchants, their reasons and orders, the customer's draft and the return it becomes."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Re-exported: the web and service layers name it through the domain model.
from returns_contracts.label_status import LabelStatus as LabelStatus
from returns_contracts.label_status import first_label_status
from returns_contracts.service_kit.bounds import (
    EmailAddress,
    HttpUrl,
    LongText,
    Name,
    OptionalName,
    ShortText,
    WholeNumber,
)

Locale = Literal["fr", "en"]
ReturnType = Literal["refund", "exchange", "store_credit"]
TimelineKind = Literal[
    "submitted",
    "customer_service_notified",
    "customer_notified",
    "label_requested",
    "label_generated",
    "label_rejected",
    "label_emailed",
    # issue 15: the merchant's resolution of a defective return (domain/resolution.py)
    "resolved_label",
    "resolved_refund_without_return",
    "resolved_replacement",
    "resolved_declined",
    "information_requested",
    "customer_answered",
]

# Line ids become field names inside the order document (`reserved.<line_id>`), so they are
# restricted to characters MongoDB field names accept anywhere.
LINE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
MERCHANT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"

# What one order may hold: business ranges, well inside what the store keeps (8-byte integers).
LINE_QUANTITY_MAX = 10_000
"""Items of one order line."""
UNIT_PRICE_CENTS_MAX = 100_000_000
"""One million in the shop's currency, per item."""
ORDER_LINES_MAX = 200
"""Lines of one order."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- Text that ends up in e-mail headers (Subject, From, To, Reply-To) -------------------------
# Refused where it comes in, with a clear error; the notifier neutralises it again on its side.
_LINE_BREAKING = frozenset({"Cc", "Zl", "Zp"})  # controls (CR, LF, NUL...) and line separators
SINGLE_LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"
"""`single_line` as a regular expression, for path parameters (the same in Python and Rust)."""
# Characters that turn one address into a display name, a list, a group or a quoted string.
_NOT_IN_ONE_ADDRESS = frozenset(',;:<>()[]\\"')


def single_line(value: str) -> str:
    """A name or a number that becomes part of an e-mail header: one line, no control
    character (a CR/LF would end the header and start another one)."""
    if any(unicodedata.category(character) in _LINE_BREAKING for character in value):
        raise ValueError("must be one line of text, without line breaks or control characters")
    return value


def one_address(value: str) -> str:
    """An e-mail address that becomes an e-mail header: one plain address, nothing that could
    make it a name, a second recipient or a line break."""
    if any(
        character in _NOT_IN_ONE_ADDRESS
        or character.isspace()
        or unicodedata.category(character) in _LINE_BREAKING
        for character in value
    ):
        raise ValueError(
            "must be one plain e-mail address, without a name, comma, space or line break"
        )
    return value


def web_link(value: str | None) -> str | None:
    """A link shown in a page or an e-mail: http(s) only, so no `javascript:` or `data:`."""
    if value is not None and not value.lower().startswith(("https://", "http://")):
        raise ValueError("must be an http:// or https:// link")
    return value


class Address(_Model):
    name: OptionalName | None = None
    line1: Name
    line2: OptionalName | None = None
    postal_code: ShortText
    city: Name
    country: str = Field(pattern=r"^[A-Z]{2}$")


class Reason(_Model):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    label_fr: Name
    label_en: Name
    defective: bool = False
    retired: bool = False

    def label(self, locale: Locale) -> str:
        return self.label_fr if locale == "fr" else self.label_en


class Branding(_Model):
    """How the merchant's e-mails look (the notifier renders them)."""

    logo_url: HttpUrl | None = None
    signature: LongText | None = Field(default=None, max_length=2000)


class MerchantSettings(_Model):
    """What a merchant configures about itself, reasons apart (they have their own operations)."""

    name: Name
    locale: Locale = "fr"
    customer_service_email: EmailAddress
    return_window_days: WholeNumber = Field(default=30, ge=0, le=3650)
    return_types: tuple[ReturnType, ...] = Field(
        default=("refund", "exchange"), min_length=1, max_length=3
    )
    return_address: Address | None = None
    branding: Branding | None = None
    split_mixed_returns: bool = False
    """Mixed returns (issue 15): when on, the classic lines of a return with a defective line
    get their label at once and the defective lines wait for a resolution. Off by default: one
    defective line holds the whole return (R9)."""

    @field_validator("return_types")
    @classmethod
    def _each_type_once(cls, types: tuple[ReturnType, ...]) -> tuple[ReturnType, ...]:
        if len(set(types)) != len(types):
            raise ValueError("each return type is offered once")
        return types

    _name_is_one_line = field_validator("name")(single_line)
    _one_customer_service_address = field_validator("customer_service_email")(one_address)


class Merchant(MerchantSettings):
    id: str = Field(pattern=MERCHANT_ID_PATTERN)
    reasons: tuple[Reason, ...] = ()
    revision: int = 1

    def reason(self, code: str) -> Reason | None:
        return next((reason for reason in self.reasons if reason.code == code), None)

    def active_reasons(self) -> tuple[Reason, ...]:
        return tuple(reason for reason in self.reasons if not reason.retired)


class Customer(_Model):
    name: Name
    email: EmailAddress
    phone: ShortText | None = None
    address: Address | None = None
    """The delivery address of the order."""

    _name_is_one_line = field_validator("name")(single_line)
    _one_address = field_validator("email")(one_address)


class OrderLine(_Model):
    line_id: str = Field(pattern=LINE_ID_PATTERN)
    sku: Name
    name: Name
    quantity: WholeNumber = Field(ge=1, le=LINE_QUANTITY_MAX)
    unit_price_cents: WholeNumber = Field(ge=0, le=UNIT_PRICE_CENTS_MAX)
    image_url: HttpUrl | None = None

    _image_is_a_web_link = field_validator("image_url")(web_link)


class Order(_Model):
    merchant_id: str
    number: str = Field(min_length=1, max_length=64)
    ordered_on: date
    customer: Customer
    lines: tuple[OrderLine, ...] = Field(min_length=1, max_length=ORDER_LINES_MAX)

    @field_validator("lines")
    @classmethod
    def _each_line_once(cls, lines: tuple[OrderLine, ...]) -> tuple[OrderLine, ...]:
        ids = [line.line_id for line in lines]
        if len(set(ids)) != len(ids):
            raise ValueError("each line_id appears once in an order")
        return lines

    _number_is_one_line = field_validator("number")(single_line)

    def line(self, line_id: str) -> OrderLine | None:
        return next((line for line in self.lines if line.line_id == line_id), None)


Reservations = dict[str, dict[str, int]]
"""Quantities taken back by earlier returns of one order: return id -> line id -> quantity."""


class DraftLine(_Model):
    """One line of a draft, filled step by step (R3-R6)."""

    line_id: str
    quantity: int
    reason_code: str | None = None
    return_type: ReturnType | None = None
    comment: str | None = None
    photo_ids: tuple[str, ...] = ()


class Draft(_Model):
    """A return the customer is still filling in; its id becomes the return's id on submit."""

    id: str
    merchant_id: str
    order_number: str
    lines: tuple[DraftLine, ...]
    created_at: datetime
    expires_at: datetime
    submitted_return_id: str | None = None
    revision: int = 0
    """How many times the draft was saved; two changes at once must not lose one another."""

    def line(self, line_id: str) -> DraftLine | None:
        return next((line for line in self.lines if line.line_id == line_id), None)

    def with_line(self, updated: DraftLine) -> Draft:
        lines = tuple(updated if line.line_id == updated.line_id else line for line in self.lines)
        return self.model_copy(update={"lines": lines})


class ReturnLine(_Model):
    line_id: str
    sku: str
    name: str
    quantity: int
    reason_code: str
    reason_label: str
    """In the return's locale, as the reason read when the return was submitted."""
    reason_label_fr: str | None = None
    reason_label_en: str | None = None
    defective: bool
    return_type: ReturnType | None
    comment: str | None
    media_ids: tuple[str, ...]


def splits_mixed_return(setting: bool, lines: Iterable[ReturnLine]) -> bool:
    """The merchant's setting for mixed returns (off by default): when on, a return with both
    classic and defective lines gets the label of its classic lines at once and its defective
    lines wait for a resolution. Off, or for a return that is not mixed, one defective line
    holds the whole return (R8, R9)."""
    kinds = {line.defective for line in lines}
    return setting and kinds == {True, False}


class Return(_Model):
    id: str
    merchant_id: str
    order_number: str
    ordered_on: date
    customer: Customer
    locale: Locale
    lines: tuple[ReturnLine, ...]
    submitted_at: datetime
    split_mixed: bool = False
    """The merchant's setting for mixed returns applied to this one when it was submitted
    (`splits_mixed_return`): its classic lines get their label at once."""

    @property
    def defective(self) -> bool:
        """R8: one defective line makes the whole return defective."""
        return any(line.defective for line in self.lines)

    def first_label_status(self) -> LabelStatus:
        return first_label_status(self.defective, self.split_mixed)


class Actor(_Model):
    kind: Literal["user", "api_key", "cli"]
    id: str
    display_name: str | None = None


class TimelineEntry(_Model):
    """One step in the life of a return (R14), unique by the event that brought it."""

    event_id: str
    kind: TimelineKind
    at: datetime
    detail: str | None = None
    actor: Actor | None = None
    about: str | None = None
    """The question an answer answers (its `information_requested` entry's event id)."""
    media_ids: tuple[str, ...] = ()
    """Photos the entry brought (a customer's answer)."""


def in_time_order(entries: Iterable[TimelineEntry]) -> tuple[TimelineEntry, ...]:
    """R14: a timeline reads in the order things happened, by each entry's time.

    Entries are applied in the order their events are consumed, and each topic has its own
    consumer, so a later step can be applied first (or an event be announced again with its first
    time). Entries at the same time keep the order they were applied in (the sort is stable).
    """
    return tuple(sorted(entries, key=lambda entry: entry.at))
