"""`ReturnResolved` v1: what the merchant decided for a defective return (issue 15).

Kept in its own module, beside `messages.py`: the return record's later steps are added as new
messages, never as changes to the published ones.
"""

from typing import ClassVar, Literal

from pydantic import Field

from returns_contracts import topics
from returns_contracts.envelope import MessageKind, UtcDatetime
from returns_contracts.messages import COMMENT_MAX, Actor, ReturnMessage, ReturnPayload

ResolutionKind = Literal["label", "refund_without_return", "replacement", "declined"]
"""What happens to a defective return:
- `label`: the customer sends the item back with a label (LabelRequested goes with it);
- `refund_without_return`: the customer is refunded and keeps the item;
- `replacement`: a replacement is sent to the customer;
- `declined`: the return is refused; `note` says why, and the customer reads it."""

RESOLUTION_KINDS: tuple[ResolutionKind, ...] = (
    "label",
    "refund_without_return",
    "replacement",
    "declined",
)


class ReturnResolvedPayload(ReturnPayload):
    """The merchant's decision on a defective return; a newer one replaces it."""

    resolution: ResolutionKind
    note: str | None = Field(default=None, max_length=COMMENT_MAX)
    """Support's words to the customer (trimmed); always set for `declined` (the reason)."""
    resolved_by: Actor
    """Who decided: a back-office user or an API key."""
    resolved_at: UtcDatetime
    """When it was decided (UTC); a resolution is replaced only by a newer one."""


class ReturnResolved(ReturnMessage):
    """A merchant resolved a defective return: label, refund without return, replacement or
    declined. The customer is told by e-mail (for `label`, by the label e-mail)."""

    topic_base: ClassVar[str] = topics.RETURN_RESOLVED
    kind: ClassVar[MessageKind] = "event"

    type: Literal["ReturnResolved"] = "ReturnResolved"
    version: Literal[1] = 1
    payload: ReturnResolvedPayload
