"""Making a label and saying so: the one place a label is printed, stored, made live and
announced (LabelGenerated), and where a request is answered with LabelRejected.

At most one live label per return, whatever the redeliveries (issue 6, item 5):
- the `n`-th label of a return has an id derived from (return_id, n), so a retry after a crash
  rewrites the same PDF under the same key rather than leaving a second label behind;
- a label becomes live in one conditional write of the return's document ("only if it still
  has n-1 labels"), which also records the command that asked for it;
- a redelivered message finds what it made and announces it again with the same event_id,
  which consumers drop as a duplicate.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from uuid import UUID

from returns_contracts import (
    Actor,
    LabelGenerated,
    LabelGeneratedPayload,
    LabelRejected,
    LabelRejectedPayload,
    LabelRequested,
)
from returns_contracts.messages import LabelRejectionReason
from returns_contracts.service_kit.clock import Clock
from returns_contracts.service_kit.publisher import EventPublisher
from returns_labels.domain.model import (
    Label,
    LabelContent,
    Merchant,
    TrackedReturn,
    derived_event_id,
    label_id_for,
)
from returns_labels.service.errors import LabelChangedMeanwhile
from returns_labels.service.links import LabelLinks
from returns_labels.service.ports import Carrier, LabelFiles, ReturnStore

PRODUCER = "labels"

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Cause:
    """The message a label is made for: its id derives the published event's id."""

    event_id: UUID
    correlation_id: str
    requested_by: Actor | None
    command_event_id: UUID | None

    @classmethod
    def of_request(cls, command: LabelRequested) -> Cause:
        """A merchant's label request (R11)."""
        return cls(
            event_id=command.event_id,
            correlation_id=command.correlation_id,
            requested_by=command.payload.requested_by,
            command_event_id=command.event_id,
        )

    @classmethod
    def of_submission(cls, tracked: TrackedReturn) -> Cause:
        """A classic return's ReturnSubmitted (R10): nobody asked, the label comes at once."""
        return cls(
            event_id=tracked.source_event_id,
            correlation_id=tracked.correlation_id or tracked.source_event_id.hex,
            requested_by=None,
            command_event_id=None,
        )


class LabelMaker:
    def __init__(
        self,
        *,
        returns: ReturnStore,
        carrier: Carrier,
        files: LabelFiles,
        publisher: EventPublisher,
        links: LabelLinks,
        clock: Clock,
    ) -> None:
        self.returns = returns
        self.carrier = carrier
        self.files = files
        self.publisher = publisher
        self.links = links
        self.clock = clock

    async def make(self, tracked: TrackedReturn, merchant: Merchant, cause: Cause) -> None:
        """Print the return's next label, store it, make it the live one, announce it."""
        if merchant.return_address is None or tracked.customer is None:
            raise ValueError(f"return {tracked.return_id} cannot have a label yet")
        generation = tracked.label_generation + 1
        label_id = label_id_for(tracked.return_id, generation)
        issued_at = self.clock()
        printed = await self.carrier.create_label(
            LabelContent(
                label_id=label_id,
                return_id=tracked.return_id,
                order_number=tracked.order_number,
                merchant_name=merchant.name,
                sender=tracked.customer,
                recipient=merchant.return_address,
                issued_at=issued_at,
            )
        )
        label = Label(
            label_id=label_id,
            generation=generation,
            tracking_number=printed.tracking_number,
            carrier=self.carrier.name,
            object_key=f"{tracked.merchant_id}/{tracked.return_id}/{label_id}.pdf",
            created_at=issued_at,
            requested_by=cause.requested_by,
        )
        await self.files.put(label.object_key, printed.pdf)
        await self.returns.remember_label_file(label, tracked.return_id, tracked.merchant_id)
        committed = await self.returns.commit_label(
            tracked.return_id,
            expected_generation=tracked.label_generation,
            label=label,
            voided=tracked.label,
            voided_at=issued_at,
            command_event_id=cause.command_event_id,
        )
        if not committed:
            raise LabelChangedMeanwhile(
                f"return {tracked.return_id} no longer has {tracked.label_generation} label(s)"
            )
        logger.info(
            "label generated",
            extra={
                "return_id": tracked.return_id,
                "label_id": label_id,
                "generation": generation,
                "voided_label_id": tracked.label.label_id if tracked.label else None,
            },
        )
        await self.announce(tracked, label, cause)

    async def announce(self, tracked: TrackedReturn, label: Label, cause: Cause) -> None:
        """Publish LabelGenerated for the label; the same cause gives the same event id."""
        await self.publisher.publish(
            LabelGenerated(
                event_id=derived_event_id(cause.event_id, f"LabelGenerated:{label.label_id}"),
                occurred_at=label.created_at,
                merchant_id=tracked.merchant_id,
                correlation_id=cause.correlation_id,
                producer=PRODUCER,
                payload=LabelGeneratedPayload(
                    return_id=tracked.return_id,
                    label_id=label.label_id,
                    tracking_number=label.tracking_number,
                    carrier=label.carrier,
                    download_url=self.links.url(label.label_id, label.created_at),
                    regenerated=label.regenerated,
                    requested_by=cause.requested_by,
                ),
            )
        )

    async def reject(
        self, command: LabelRequested, reason: LabelRejectionReason, detail: str
    ) -> None:
        """Answer a label request that cannot be served with LabelRejected (R11)."""
        logger.info(
            "label request rejected",
            extra={"return_id": command.payload.return_id, "reason": reason, "detail": detail},
        )
        await self.publisher.publish(
            LabelRejected(
                event_id=derived_event_id(command.event_id, "LabelRejected"),
                merchant_id=command.merchant_id,
                correlation_id=command.correlation_id,
                producer=PRODUCER,
                payload=LabelRejectedPayload(
                    return_id=command.payload.return_id,
                    reason=reason,
                    detail=detail,
                    requested_by=command.payload.requested_by,
                ),
            )
        )

    async def reject_malformed(
        self, *, merchant_id: str, return_id: str, cause: UUID, correlation_id: str, detail: str
    ) -> None:
        """Answer a label request that does not follow the contract (it is not retried)."""
        await self.publisher.publish(
            LabelRejected(
                event_id=derived_event_id(cause, "LabelRejected"),
                merchant_id=merchant_id,
                correlation_id=correlation_id,
                producer=PRODUCER,
                payload=LabelRejectedPayload(
                    return_id=return_id,
                    reason="malformed_command",
                    detail=detail[:500],
                ),
            )
        )
