"""The version-1 events and commands of the returns journey (PRODUCT.md, "Events and commands").

A published version never changes incompatibly: such a change is a new class with
`version: Literal[2]`, registered beside the v1 class, which stays.
"""

from datetime import date
from typing import Annotated, ClassVar, Literal, Self
from uuid import UUID

from pydantic import Field, StringConstraints, model_validator

from returns_contracts import topics
from returns_contracts.envelope import (
    Email,
    Locale,
    Message,
    MessageKind,
    NonEmptyStr,
    Payload,
    UtcDatetime,
)

ReturnType = Literal["refund", "exchange", "store_credit"]
"""What the customer wants for a non-defective line (R5)."""

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
"""ISO 3166-1 alpha-2 country code, upper case."""

DEFECTIVE_COMMENT_MIN = 10
COMMENT_MAX = 2000
MEDIA_PER_ITEM_MAX = 5


class Address(Payload):
    """A postal address."""

    name: str | None = None
    """Addressee, when it differs from the person."""
    line1: NonEmptyStr
    line2: str | None = None
    postal_code: NonEmptyStr
    city: NonEmptyStr
    country: CountryCode
    """ISO 3166-1 alpha-2, e.g. `FR`."""


class Actor(Payload):
    """Who asked for something from the back-office, the API or the CLI."""

    kind: Literal["user", "api_key", "cli"]
    id: NonEmptyStr
    """User id, API key id (never the secret) or CLI operator name."""
    display_name: str | None = None


class ReturnPayload(Payload):
    """Base of the payloads of messages about one return, keyed by its `return_id`."""

    return_id: NonEmptyStr
    """Id of the return, given by the declaration service."""


class ReturnMessage(Message):
    """A message about one return: keyed by `payload.return_id`."""

    key_path: ClassVar[str] = "payload.return_id"
    payload: ReturnPayload

    def key(self) -> bytes:
        """`payload.return_id`, UTF-8 encoded."""
        return self.payload.return_id.encode()


# --- ReturnSubmitted --------------------------------------------------------------------------


class Customer(Payload):
    """The customer's contact details, for customer service (R9) and e-mails."""

    name: NonEmptyStr
    email: Email
    """Address of the order; acknowledgements and labels are sent there."""
    phone: str | None = None
    address: Address | None = None


class ReturnedItem(Payload):
    """One returned order line.

    A defective line (R6) has no return type, a comment of at least 10 non-blank characters and
    1 to 5 photos.
    """

    line_id: NonEmptyStr
    """Id of the order line."""
    sku: NonEmptyStr
    name: NonEmptyStr
    """Product name as ordered."""
    quantity: int = Field(ge=1)
    reason_code: NonEmptyStr
    reason_label: NonEmptyStr
    """Label of the reason in the return's locale, as it was when the return was submitted."""
    defective: bool
    """Whether the reason was flagged defective when the return was submitted."""
    return_type: ReturnType | None = None
    """Chosen return type; never set on a defective line."""
    comment: str | None = Field(default=None, max_length=COMMENT_MAX)
    """Customer's comment (trimmed); mandatory on a defective line."""
    media_ids: list[NonEmptyStr] = Field(default_factory=list, max_length=MEDIA_PER_ITEM_MAX)
    """Ids of the photos in the media service; at least one on a defective line."""

    @model_validator(mode="after")
    def _defective_line_rules(self) -> Self:
        if not self.defective:
            return self
        if self.return_type is not None:
            raise ValueError("a defective line has no return_type (R6)")
        if len((self.comment or "").strip()) < DEFECTIVE_COMMENT_MIN:
            raise ValueError(
                f"a defective line needs a comment of at least {DEFECTIVE_COMMENT_MIN} "
                "characters (R6)"
            )
        if not self.media_ids:
            raise ValueError("a defective line needs at least one photo (R6)")
        return self


class ReturnSubmittedPayload(ReturnPayload):
    """Everything the consumers of a validated return need, so none calls the producer back."""

    order_number: NonEmptyStr
    order_date: date | None = None
    submitted_at: UtcDatetime
    """When the customer validated the return (UTC)."""
    locale: Locale
    """Language for the e-mails about this return."""
    defective: bool
    """True when at least one line is defective (R8); must equal any(item.defective)."""
    customer: Customer
    items: list[ReturnedItem] = Field(min_length=1)
    back_office_url: str | None = None
    """Link to the return record in the back-office, for customer-service e-mails."""
    split_mixed: bool = False
    """The merchant's setting for mixed returns, as it was at submission: the classic lines of
    this defective return get their label at once, the defective lines wait for a resolution.
    False (the default, and from producers that predate it): one defective line holds the whole
    return (R9). Only ever true for a return with both classic and defective lines."""
    status_url: str | None = None
    """The customer's signed link to the status page of this return, for their e-mails."""

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.defective != any(item.defective for item in self.items):
            raise ValueError(
                "defective must be true exactly when at least one item is defective (R8)"
            )
        if self.split_mixed and (not self.defective or all(item.defective for item in self.items)):
            raise ValueError("split_mixed is only for a return with classic and defective lines")
        line_ids = [item.line_id for item in self.items]
        if len(set(line_ids)) != len(line_ids):
            raise ValueError("each order line appears at most once in a return")
        return self


class ReturnSubmitted(ReturnMessage):
    """A customer validated a return (R7). Defective (R9) or classic (R10)."""

    topic_base: ClassVar[str] = topics.RETURN_SUBMITTED
    kind: ClassVar[MessageKind] = "event"

    type: Literal["ReturnSubmitted"] = "ReturnSubmitted"
    version: Literal[1] = 1
    payload: ReturnSubmittedPayload


# --- LabelRequested ---------------------------------------------------------------------------


class LabelRequestedPayload(ReturnPayload):
    """A request for the label of a return (R11)."""

    requested_by: Actor
    regenerate: bool = False
    """Make a new label even when one exists; otherwise a repeated request is a no-op."""


class LabelRequested(ReturnMessage):
    """Command: generate the label of a return, typically a defective one (R11)."""

    topic_base: ClassVar[str] = topics.LABEL_REQUESTED
    kind: ClassVar[MessageKind] = "command"

    type: Literal["LabelRequested"] = "LabelRequested"
    version: Literal[1] = 1
    payload: LabelRequestedPayload


# --- LabelGenerated ---------------------------------------------------------------------------


class LabelGeneratedPayload(ReturnPayload):
    """A label that was generated and stored."""

    label_id: NonEmptyStr
    tracking_number: NonEmptyStr
    carrier: NonEmptyStr
    download_url: NonEmptyStr
    """Where the label PDF can be downloaded."""
    regenerated: bool = False
    """True when this label replaces an earlier one of the same return."""
    requested_by: Actor | None = None
    """Who asked for it; None for the automatic label of a classic return (R10)."""


class LabelGenerated(ReturnMessage):
    """The label of a return was generated (R10, R11)."""

    topic_base: ClassVar[str] = topics.LABEL_GENERATED
    kind: ClassVar[MessageKind] = "event"

    type: Literal["LabelGenerated"] = "LabelGenerated"
    version: Literal[1] = 1
    payload: LabelGeneratedPayload


# --- LabelRejected ----------------------------------------------------------------------------

LabelRejectionReason = Literal["unknown_return", "wrong_merchant", "malformed_command", "not_ready"]
"""Why a label request was refused: the return is unknown to the labels service, belongs to
another merchant, the command is malformed, or the return cannot have a label yet."""


class LabelRejectedPayload(ReturnPayload):
    """A label request that was refused."""

    reason: LabelRejectionReason
    detail: NonEmptyStr
    """Human-readable explanation, for the return record."""
    requested_by: Actor | None = None


class LabelRejected(ReturnMessage):
    """A label request was refused."""

    topic_base: ClassVar[str] = topics.LABEL_REJECTED
    kind: ClassVar[MessageKind] = "event"

    type: Literal["LabelRejected"] = "LabelRejected"
    version: Literal[1] = 1
    payload: LabelRejectedPayload


# --- NotificationSent -------------------------------------------------------------------------


class NotificationSentPayload(ReturnPayload):
    """An e-mail that was handed to the SMTP server."""

    template: NonEmptyStr
    """Name of the e-mail template, e.g. `customer_service_defective`."""
    recipient: NonEmptyStr
    message_id: NonEmptyStr
    """The e-mail's Message-ID header."""
    caused_by_event_id: UUID
    """`event_id` of the message that caused the e-mail."""


class NotificationSent(ReturnMessage):
    """The notifier sent an e-mail about a return (timeline, R14)."""

    topic_base: ClassVar[str] = topics.NOTIFICATION_SENT
    kind: ClassVar[MessageKind] = "event"

    type: Literal["NotificationSent"] = "NotificationSent"
    version: Literal[1] = 1
    payload: NotificationSentPayload


# --- MerchantUpdated --------------------------------------------------------------------------


class Reason(Payload):
    """A return reason configured by the merchant (R1)."""

    code: NonEmptyStr
    label_fr: NonEmptyStr
    label_en: NonEmptyStr
    defective: bool
    """Whether the reason follows the defective path."""
    retired: bool = False
    """No longer offered; returns that used it still show it."""


class Branding(Payload):
    """How the merchant's e-mails look."""

    logo_url: str | None = None
    signature: str | None = None


class MerchantUpdatedPayload(Payload):
    """The full current settings of a merchant (a snapshot, not a diff)."""

    revision: int = Field(ge=1)
    """Increases with every change; consumers ignore a revision older than the one they have."""
    name: NonEmptyStr
    locale: Locale
    customer_service_email: Email
    """Where defective-return e-mails go (R9)."""
    return_window_days: int = Field(ge=0)
    return_types: list[ReturnType]
    """Return types offered to the customer (R5)."""
    reasons: list[Reason]
    """Every reason, retired ones included (R1)."""
    return_address: Address | None = None
    """Where returned parcels go; printed on labels."""
    branding: Branding | None = None
    back_office_base_url: str | None = None
    """Base URL of the back-office, to build links to return records."""

    @model_validator(mode="after")
    def _unique(self) -> Self:
        codes = [reason.code for reason in self.reasons]
        if len(set(codes)) != len(codes):
            raise ValueError("reason codes must be unique")
        if len(set(self.return_types)) != len(self.return_types):
            raise ValueError("return types must be unique")
        return self


class MerchantUpdated(Message):
    """A merchant's settings changed; compacted topic keyed by merchant_id."""

    topic_base: ClassVar[str] = topics.MERCHANT_UPDATED
    key_path: ClassVar[str] = "merchant_id"
    kind: ClassVar[MessageKind] = "event"

    type: Literal["MerchantUpdated"] = "MerchantUpdated"
    version: Literal[1] = 1
    payload: MerchantUpdatedPayload

    def key(self) -> bytes:
        """`merchant_id`, UTF-8 encoded."""
        return self.merchant_id.encode()
