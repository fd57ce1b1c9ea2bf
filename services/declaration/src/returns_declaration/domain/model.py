"""Merchants, their reasons and orders, and the return a customer declares."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Locale = Literal["fr", "en"]
ReturnType = Literal["refund", "exchange", "store_credit"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Address(_Model):
    name: str | None = None
    line1: str
    line2: str | None = None
    postal_code: str
    city: str
    country: str = Field(min_length=2, max_length=2)


class Reason(_Model):
    code: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    label_fr: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    defective: bool = False
    retired: bool = False

    def label(self, locale: Locale) -> str:
        return self.label_fr if locale == "fr" else self.label_en


class Merchant(_Model):
    id: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=1)
    locale: Locale = "fr"
    customer_service_email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    return_window_days: int = Field(default=30, ge=0)
    return_types: tuple[ReturnType, ...] = ("refund", "exchange")
    reasons: tuple[Reason, ...] = ()
    return_address: Address | None = None
    revision: int = 1

    def reason(self, code: str) -> Reason | None:
        return next((reason for reason in self.reasons if reason.code == code), None)


class Customer(_Model):
    name: str
    email: str
    phone: str | None = None
    address: Address | None = None


class OrderLine(_Model):
    line_id: str
    sku: str
    name: str
    quantity: int = Field(ge=1)
    unit_price_cents: int = Field(ge=0)
    image_url: str | None = None


class Order(_Model):
    merchant_id: str
    number: str = Field(min_length=1)
    ordered_on: date
    customer: Customer
    lines: tuple[OrderLine, ...] = Field(min_length=1)

    def line(self, line_id: str) -> OrderLine | None:
        return next((line for line in self.lines if line.line_id == line_id), None)


class RequestedLine(_Model):
    line_id: str
    quantity: int
    reason_code: str
    return_type: ReturnType | None = None
    comment: str | None = None
    media_ids: tuple[str, ...] = ()


class ReturnRequest(_Model):
    """What the customer asks for, before any rule has looked at it."""

    order_number: str
    email: str
    lines: tuple[RequestedLine, ...]


class ReturnLine(_Model):
    line_id: str
    sku: str
    name: str
    quantity: int
    reason_code: str
    reason_label: str
    defective: bool
    return_type: ReturnType | None
    comment: str | None
    media_ids: tuple[str, ...]


class Return(_Model):
    id: str
    merchant_id: str
    order_number: str
    ordered_on: date
    customer: Customer
    locale: Locale
    lines: tuple[ReturnLine, ...]
    submitted_at: datetime

    @property
    def defective(self) -> bool:
        """R8: one defective line makes the whole return defective."""
        return any(line.defective for line in self.lines)
