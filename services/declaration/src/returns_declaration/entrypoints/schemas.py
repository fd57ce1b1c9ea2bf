"""Request and answer bodies of the HTTP API (their shapes only); the examples the OpenAPI
document shows are in `examples.py`."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from returns_contracts.service_kit.bounds import (
    EMAIL_MAX,
    ID_MAX,
    ONE_LINE_PATTERN,
    Flag,
    IdText,
    IsoDate,
    LongText,
    OptionalName,
    WholeNumber,
)
from returns_declaration.domain.model import (
    LINE_ID_PATTERN,
    LINE_QUANTITY_MAX,
    MERCHANT_ID_PATTERN,
    ORDER_LINES_MAX,
    Customer,
    LabelStatus,
    Locale,
    Merchant,
    MerchantSettings,
    Order,
    OrderLine,
    ReturnType,
    TimelineEntry,
)
from returns_declaration.domain.resolution import Resolution
from returns_declaration.domain.views import NextStepKind
from returns_declaration.entrypoints import examples
from returns_declaration.service.portal import DraftView, PortalOrder, Submission
from returns_declaration.service.ports import Photo, ReturnRecord
from returns_declaration.service.users import MAX_PASSWORD


def _examples(*shown: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(shown)})


# --- back-office: merchants, reasons, keys, orders ---------------------------------------------


class MerchantSettingsBody(MerchantSettings):
    model_config = _examples(examples.MERCHANT_SETTINGS_BODY)


class ReasonBody(BaseModel):
    model_config = _examples(examples.REASON_BODY)

    label_fr: str = Field(min_length=1, max_length=200)
    label_en: str = Field(min_length=1, max_length=200)
    defective: Flag = False


class MerchantAnswer(Merchant):
    model_config = _examples(examples.MERCHANT_ANSWER)


class ApiKeyAnswer(BaseModel):
    model_config = _examples(examples.API_KEY_ANSWER)

    key_id: str
    merchant_id: str
    api_key: str = Field(description="The secret: shown once, only its SHA-256 is kept.")
    created_at: datetime


class OrderBody(BaseModel):
    """An order as the merchant's shop knows it; the URL names the merchant and the number."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [examples.ORDER_BODY]},
    )

    merchant_id: str | None = Field(
        default=None, pattern=MERCHANT_ID_PATTERN, description="If given, must match the URL."
    )
    number: str | None = Field(
        default=None,
        min_length=1,
        max_length=ID_MAX,
        pattern=ONE_LINE_PATTERN,
        description="If given, must match the URL.",
    )
    ordered_on: IsoDate
    customer: Customer = Field(description="Name, e-mail, phone and delivery address.")
    lines: tuple[OrderLine, ...] = Field(min_length=1)

    def to_order(self, merchant_id: str, number: str) -> Order:
        return Order(
            merchant_id=merchant_id,
            number=number,
            ordered_on=self.ordered_on,
            customer=self.customer,
            lines=self.lines,
        )


class UserBody(BaseModel):
    model_config = _examples(examples.USER_BODY)

    password: str = Field(min_length=10, max_length=MAX_PASSWORD)
    display_name: OptionalName | None = None


class UserAnswer(BaseModel):
    model_config = _examples(examples.USER_ANSWER)

    email: str
    merchant_id: str
    display_name: str | None


class LabelRequestBody(BaseModel):
    model_config = _examples(examples.LABEL_REQUEST_BODY)

    regenerate: Flag = Field(
        default=False, description="Make a new label even if one exists (voids the old one)."
    )
    requested_by_name: OptionalName | None = Field(
        default=None, description="Who clicked, shown on the timeline."
    )


class PhotoLink(BaseModel):
    photo_id: str
    url: str | None = Field(description="Signed, expiring link; null if media did not answer.")
    thumbnail_url: str | None

    @classmethod
    def of(cls, photo_id: str, photos: dict[str, Photo]) -> PhotoLink:
        photo = photos.get(photo_id)
        return cls(
            photo_id=photo_id,
            url=None if photo is None else photo.url,
            thumbnail_url=None if photo is None else photo.thumbnail_url,
        )


class RecordLine(BaseModel):
    line_id: str
    sku: str
    name: str
    quantity: int
    reason_code: str
    reason_label: str
    defective: bool
    return_type: ReturnType | None
    comment: str | None
    photos: list[PhotoLink]


class ReturnSummary(BaseModel):
    id: str
    order_number: str
    customer_name: str
    defective: bool
    label_status: LabelStatus
    submitted_at: datetime

    @classmethod
    def of(cls, record: ReturnRecord) -> ReturnSummary:
        declared = record.declared
        return cls(
            id=declared.id,
            order_number=declared.order_number,
            customer_name=declared.customer.name,
            defective=declared.defective,
            label_status=record.label_status,
            submitted_at=declared.submitted_at,
        )


class ReturnList(BaseModel):
    model_config = _examples(examples.RETURN_LIST)

    returns: list[ReturnSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at end.")


class ReturnRecordAnswer(BaseModel):
    """The return record ("fiche retour"): what was declared, the label and the timeline."""

    model_config = _examples(examples.RETURN_RECORD_ANSWER)

    id: str
    merchant_id: str
    order_number: str
    ordered_on: date
    locale: Locale
    customer: Customer
    customer_name: str
    defective: bool
    label_status: LabelStatus
    label: dict[str, str] | None
    submitted_at: datetime
    lines: list[RecordLine]
    timeline: list[TimelineEntry]
    resolution: Resolution | None = Field(
        default=None,
        description="Support's current decision on a defective return (issue 15); null until "
        "one is recorded.",
    )
    split_mixed: bool = Field(
        default=False,
        description="The classic lines got their label at once; the defective ones wait for "
        "a resolution (the merchant's setting for mixed returns).",
    )

    @classmethod
    def of(cls, record: ReturnRecord, photos: dict[str, Photo]) -> ReturnRecordAnswer:
        declared = record.declared
        return cls(
            id=declared.id,
            merchant_id=declared.merchant_id,
            order_number=declared.order_number,
            ordered_on=declared.ordered_on,
            locale=declared.locale,
            customer=declared.customer,
            customer_name=declared.customer.name,
            defective=declared.defective,
            label_status=record.label_status,
            label=None if record.label is None else dict(record.label),
            submitted_at=declared.submitted_at,
            lines=[
                RecordLine(
                    line_id=line.line_id,
                    sku=line.sku,
                    name=line.name,
                    quantity=line.quantity,
                    reason_code=line.reason_code,
                    reason_label=line.reason_label,
                    defective=line.defective,
                    return_type=line.return_type,
                    comment=line.comment,
                    photos=[PhotoLink.of(photo_id, photos) for photo_id in line.media_ids],
                )
                for line in declared.lines
            ],
            timeline=list(record.timeline),
            resolution=record.resolution,
            split_mixed=declared.split_mixed,
        )


# --- portal ------------------------------------------------------------------------------------


class SessionBody(BaseModel):
    model_config = _examples(examples.SESSION_BODY)

    order_number: str = Field(min_length=1, max_length=ID_MAX)
    email: str = Field(min_length=3, max_length=EMAIL_MAX)


class SessionAnswer(BaseModel):
    model_config = _examples(examples.SESSION_ANSWER)

    session_token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: datetime
    locale: Locale


class ReasonOffered(BaseModel):
    code: str
    label: str
    defective: bool


class PortalLine(BaseModel):
    line_id: str
    sku: str
    name: str
    image_url: str | None
    unit_price_cents: int
    quantity_ordered: int
    quantity_returnable: int
    selectable: bool
    why_not: str | None = Field(description="Why the line cannot be selected, in the locale.")


class PortalOrderAnswer(BaseModel):
    model_config = _examples(examples.PORTAL_ORDER_ANSWER)

    order_number: str
    ordered_on: date
    locale: Locale
    window_open: bool
    window_closes_on: date
    lines: list[PortalLine]
    reasons: list[ReasonOffered]
    return_types: list[ReturnType]

    @classmethod
    def of(cls, view: PortalOrder) -> PortalOrderAnswer:
        """The offer the use case computed (`domain.views.offer`, R3), as JSON."""
        merchant, offer = view.merchant, view.offer
        return cls(
            order_number=view.order.number,
            ordered_on=view.order.ordered_on,
            locale=merchant.locale,
            window_open=offer.window_open,
            window_closes_on=offer.window_closes_on,
            lines=[
                PortalLine(
                    line_id=item.line.line_id,
                    sku=item.line.sku,
                    name=item.line.name,
                    image_url=item.line.image_url,
                    unit_price_cents=item.line.unit_price_cents,
                    quantity_ordered=item.line.quantity,
                    quantity_returnable=item.returnable,
                    selectable=item.selectable,
                    why_not=item.why_not,
                )
                for item in offer.lines
            ],
            reasons=[
                ReasonOffered(
                    code=reason.code,
                    label=reason.label(merchant.locale),
                    defective=reason.defective,
                )
                for reason in offer.reasons
            ],
            return_types=list(merchant.return_types),
        )


class SelectedLine(BaseModel):
    line_id: str = Field(pattern=LINE_ID_PATTERN)
    quantity: WholeNumber = Field(
        ge=0, le=LINE_QUANTITY_MAX, description="At most what is left to return of the line."
    )


class DraftBody(BaseModel):
    model_config = _examples(examples.DRAFT_BODY)

    lines: list[SelectedLine] = Field(max_length=ORDER_LINES_MAX)


class ReasonChoice(BaseModel):
    model_config = _examples(examples.REASON_CHOICE)

    reason_code: str = Field(min_length=1, max_length=64)


class ReturnTypeChoice(BaseModel):
    model_config = _examples(examples.RETURN_TYPE_CHOICE)

    return_type: ReturnType | None


class DefectBody(BaseModel):
    model_config = _examples(examples.DEFECT_BODY)

    comment: LongText | None = None
    photo_ids: list[IdText] = Field(default_factory=list, max_length=20)


class DraftLineAnswer(BaseModel):
    line_id: str
    sku: str
    name: str
    image_url: str | None
    quantity: int
    reason_code: str | None
    reason_label: str | None
    defective: bool | None
    return_type: ReturnType | None
    comment: str | None
    photos: list[PhotoLink]
    missing: list[str] = Field(description="Fields still to fill before submitting.")


class DraftAnswer(BaseModel):
    """The draft after each step, and the summary of step 4 (R7)."""

    model_config = _examples(examples.DRAFT_ANSWER)

    draft_id: str
    draft_token: str = Field(
        description="For media: `Authorization: Bearer <draft_token>` on photo uploads."
    )
    expires_at: datetime
    order_number: str
    locale: Locale
    submitted_return_id: str | None
    defective: bool
    ready: bool = Field(
        description="True when every line is complete and the draft can be submitted."
    )
    lines: list[DraftLineAnswer]

    @classmethod
    def of(cls, view: DraftView) -> DraftAnswer:
        """The progress the use case computed (`domain.views.progress`, R4-R8), as JSON."""
        merchant, draft, progress = view.merchant, view.draft, view.progress
        return cls(
            draft_id=draft.id,
            draft_token=view.draft_token,
            expires_at=draft.expires_at,
            order_number=draft.order_number,
            locale=merchant.locale,
            submitted_return_id=draft.submitted_return_id,
            defective=progress.defective,
            ready=progress.ready,
            lines=[
                DraftLineAnswer(
                    line_id=item.line.line_id,
                    sku="" if item.ordered is None else item.ordered.sku,
                    name="" if item.ordered is None else item.ordered.name,
                    image_url=None if item.ordered is None else item.ordered.image_url,
                    quantity=item.line.quantity,
                    reason_code=item.line.reason_code,
                    reason_label=None
                    if item.reason is None
                    else item.reason.label(merchant.locale),
                    defective=item.defective,
                    return_type=item.line.return_type,
                    comment=item.line.comment,
                    photos=[
                        PhotoLink.of(photo_id, view.photos) for photo_id in item.line.photo_ids
                    ],
                    missing=list(item.missing),
                )
                for item in progress.lines
            ],
        )


class SubmissionAnswer(BaseModel):
    model_config = _examples(examples.SUBMISSION_ANSWER)

    return_id: str
    defective: bool
    next_step: NextStepKind
    message: str

    @classmethod
    def of(cls, submission: Submission) -> SubmissionAnswer:
        """The next step the use case decided (`domain.views.next_step`, R9, R10), as JSON."""
        declared, step = submission.record.declared, submission.next_step
        return cls(
            return_id=declared.id,
            defective=declared.defective,
            next_step=step.kind,
            message=step.message,
        )
