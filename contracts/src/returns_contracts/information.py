"""The version-1 messages of a question to the customer and their answer (issue 15, item 3).

Support asks the customer for more information from the return record (`InformationRequested`);
the customer answers from a signed link with a comment and up to 5 more photos
(`CustomerAnswered`). Both are keyed by `return_id`, so they stay in order with the return's
other events. They live apart from `messages.py` so that other new events do not touch them.
"""

from typing import ClassVar, Literal

from pydantic import Field

from returns_contracts import topics
from returns_contracts.envelope import MessageKind, NonEmptyStr, UtcDatetime
from returns_contracts.messages import (
    COMMENT_MAX,
    MEDIA_PER_ITEM_MAX,
    Actor,
    ReturnMessage,
    ReturnPayload,
)

QUESTION_MAX = 2000
"""Longest question support may write."""


class InformationRequestedPayload(ReturnPayload):
    """A question from the merchant's support to the customer about one return."""

    question_id: NonEmptyStr
    """Id of the question; the answer names it."""
    question: str = Field(min_length=1, max_length=QUESTION_MAX)
    """What support asks, as written (trimmed), shown to the customer."""
    asked_by: Actor
    answer_url: NonEmptyStr
    """The customer's signed link to the answer page; works once, until `answer_by`."""
    answer_by: UtcDatetime
    """When the link expires."""


class InformationRequested(ReturnMessage):
    """Support asked the customer for more information about a return."""

    topic_base: ClassVar[str] = topics.INFORMATION_REQUESTED
    kind: ClassVar[MessageKind] = "event"

    type: Literal["InformationRequested"] = "InformationRequested"
    version: Literal[1] = 1
    payload: InformationRequestedPayload


class CustomerAnsweredPayload(ReturnPayload):
    """The customer's answer to one question: a comment and up to 5 more photos."""

    question_id: NonEmptyStr
    """The question answered (`InformationRequestedPayload.question_id`)."""
    question: str = Field(min_length=1, max_length=QUESTION_MAX)
    """The question as it was asked, so the e-mail to customer service can quote it."""
    comment: str = Field(min_length=1, max_length=COMMENT_MAX)
    """The customer's answer (trimmed)."""
    media_ids: list[NonEmptyStr] = Field(default_factory=list, max_length=MEDIA_PER_ITEM_MAX)
    """Ids of the new photos in the media service."""
    answered_at: UtcDatetime
    back_office_url: str | None = None
    """Link to the return record in the back-office, for the customer-service e-mail."""


class CustomerAnswered(ReturnMessage):
    """The customer answered a question about their return; at most one per question."""

    topic_base: ClassVar[str] = topics.CUSTOMER_ANSWERED
    kind: ClassVar[MessageKind] = "event"

    type: Literal["CustomerAnswered"] = "CustomerAnswered"
    version: Literal[1] = 1
    payload: CustomerAnsweredPayload
