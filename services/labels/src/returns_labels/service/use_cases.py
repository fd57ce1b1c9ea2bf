"""Use cases of the labels service: track returns and merchants, make labels (R10, R11).

At most one live label per return, whatever the redeliveries (issue 6, item 5):
- the `n`-th label of a return has an id derived from (return_id, n), so a retry after a crash
  rewrites the same PDF under the same key rather than leaving a second label behind;
- a label becomes live in one conditional write of the return's document ("only if it still
  has n-1 labels"), which also records the command that asked for it;
- a redelivered command finds itself among the handled ones and republishes its answer with
  the same event_id, which consumers drop as a duplicate.

Work that cannot be done yet waits in a store instead of blocking the consumer (one consumer
reads every topic, so blocking would also hold back the very ReturnSubmitted or MerchantUpdated
being waited for):
- a label request that arrives before its return is served when the return arrives, or by the
  periodic sweep; one that still cannot be served at its deadline is rejected;
- a classic return whose merchant's return address is not known yet gets its label when that
  merchant's settings arrive with one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from returns_contracts import (
    Actor,
    LabelGenerated,
    LabelGeneratedPayload,
    LabelRejected,
    LabelRejectedPayload,
    LabelRequested,
    MerchantUpdated,
    ReturnSubmitted,
)
from returns_contracts.messages import LabelRejectionReason
from returns_contracts.service_kit.clock import Clock, utc_now
from returns_contracts.service_kit.publisher import EventPublisher
from returns_labels.domain.model import (
    Contact,
    Label,
    LabelContent,
    Merchant,
    TrackedReturn,
    derived_event_id,
    initial_status,
    label_id_for,
)
from returns_labels.service.errors import LabelChangedMeanwhile
from returns_labels.service.links import LabelLinks
from returns_labels.service.ports import (
    Carrier,
    LabelFiles,
    MerchantStore,
    ReturnStore,
    WaitingStore,
)

PRODUCER = "labels"

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Cause:
    """The message a label is made for: its id derives the published event's id."""

    event_id: UUID
    correlation_id: str
    requested_by: Actor | None
    command_event_id: UUID | None


class LabelsService:
    def __init__(
        self,
        *,
        returns: ReturnStore,
        merchants: MerchantStore,
        waiting: WaitingStore,
        carrier: Carrier,
        files: LabelFiles,
        publisher: EventPublisher,
        links: LabelLinks,
        request_wait: timedelta = timedelta(seconds=30),
        clock: Clock = utc_now,
    ) -> None:
        self.returns = returns
        self.merchants = merchants
        self.waiting = waiting
        self.carrier = carrier
        self.files = files
        self.publisher = publisher
        self.links = links
        self.request_wait = request_wait
        self.clock = clock
        self._swept_up_to: str | None = None

    # --- projections --------------------------------------------------------------------------

    async def record_merchant(self, update: MerchantUpdated) -> bool:
        """Keep the merchant's newest snapshot; an older or repeated revision changes nothing.

        Labels waiting for this merchant's return address are made by the next sweep.
        """
        stored = await self.merchants.save_if_newer(update)
        if not stored:
            logger.info(
                "merchant snapshot ignored: not newer than ours",
                extra={"merchant_id": update.merchant_id, "revision": update.payload.revision},
            )
        # Even when not newer: a redelivery after a failure here must finish the work.
        await self._labels_waiting_for(update.merchant_id)
        return stored

    async def _labels_waiting_for(self, merchant_id: str, batch: int = 100) -> None:
        merchant = await self.merchants.get(merchant_id)
        if merchant is None or not merchant.can_receive_parcels:
            return
        after: str | None = None
        while return_ids := await self.waiting.automatic_labels_of(
            merchant_id, after=after, limit=batch
        ):
            for return_id in return_ids:
                tracked = await self.returns.get(return_id)
                nothing_to_do = tracked is None or not tracked.awaits_automatic_label
                if nothing_to_do or (tracked and await self._automatic_label(tracked)):
                    await self.waiting.done_with_automatic_label(return_id)
            after = return_ids[-1]

    async def record_submitted(self, event: ReturnSubmitted) -> bool:
        """Track a submitted return; a classic one gets its label at once (R10), a defective one
        waits for the merchant (R9), unless the merchant splits mixed returns: then its classic
        lines get the label at once (issue 15). A redelivery makes nothing twice. Returns
        whether the return was new."""
        payload = event.payload
        customer = payload.customer
        tracked = TrackedReturn(
            return_id=payload.return_id,
            merchant_id=event.merchant_id,
            order_number=payload.order_number,
            defective=payload.defective,
            split_mixed=payload.split_mixed,
            status=initial_status(payload.defective, payload.split_mixed),
            source_event_id=event.event_id,
            recorded_at=self.clock(),
            customer=Contact(name=customer.name, email=customer.email, address=customer.address),
            correlation_id=event.correlation_id,
        )
        created = await self.returns.add(tracked)
        if not created:
            logger.info(
                "return already tracked; redelivery ignored",
                extra={"return_id": payload.return_id, "event_id": str(event.event_id)},
            )
        stored = await self.returns.get(payload.return_id)
        automatic = None if created or stored is None else stored.automatic_label
        if stored is not None and automatic is not None:
            # Announce it again, same event id: the first delivery may have stopped between
            # making the label and publishing LabelGenerated.
            await self._announce(stored, automatic, self._automatic_cause(stored))
        if (
            stored is not None
            and stored.awaits_automatic_label
            and not (await self._automatic_label(stored))
        ):
            await self.waiting.park_automatic_label(stored.return_id, stored.merchant_id)
            logger.warning(
                "classic return waits for its merchant's return address",
                extra={"return_id": stored.return_id, "merchant_id": stored.merchant_id},
            )
            # The merchant's update may have been handled between our read and the parking.
            if await self._automatic_label(stored):
                await self.waiting.done_with_automatic_label(stored.return_id)
        await self.resume(payload.return_id)
        return created

    # --- label requests -----------------------------------------------------------------------

    async def on_label_requested(self, command: LabelRequested) -> None:
        """Answer a label request with LabelGenerated or LabelRejected (R11).

        A request for a return not known yet waits for it (bounded), then is rejected.
        """
        if await self._serve(command, past_deadline=False):
            return
        await self.waiting.park_command(command, self.clock() + self.request_wait)
        logger.info(
            "label request waits for its return or merchant",
            extra={"return_id": command.payload.return_id, "event_id": str(command.event_id)},
        )
        # The return may have been recorded between our read and the parking.
        await self.resume(command.payload.return_id)

    async def _serve(self, command: LabelRequested, *, past_deadline: bool) -> bool:
        """Serve the request if it can be now; False when it has to wait."""
        payload = command.payload
        tracked = await self.returns.get(payload.return_id)
        if tracked is None:
            if not past_deadline:
                return False
            await self._reject(
                command,
                "unknown_return",
                f"Return {payload.return_id} is unknown to the labels service.",
            )
            return True
        if not tracked.visible_to(command.merchant_id):
            await self._reject(
                command,
                "wrong_merchant",
                f"Return {payload.return_id} does not belong to merchant {command.merchant_id}.",
            )
            return True
        earlier = tracked.label_made_for(command.event_id)
        if earlier is not None:
            await self._announce(tracked, earlier, self._cause_of(command))
            return True
        if tracked.label is not None and not payload.regenerate:
            # A repeated request gives back the label there is (R11).
            await self._announce(tracked, tracked.label, self._cause_of(command))
            return True
        merchant = await self.merchants.get(tracked.merchant_id)
        if merchant is None:
            if not past_deadline:
                return False
            await self._reject(
                command,
                "not_ready",
                f"The settings of merchant {tracked.merchant_id} have not reached the labels "
                "service yet; try again in a moment.",
            )
            return True
        if not merchant.can_receive_parcels:
            await self._reject(
                command,
                "not_ready",
                "The merchant has no return address yet: add one in the settings, then ask "
                "for the label again.",
            )
            return True
        await self._make_label(tracked, merchant, self._cause_of(command))
        return True

    @staticmethod
    def _cause_of(command: LabelRequested) -> Cause:
        return Cause(
            event_id=command.event_id,
            correlation_id=command.correlation_id,
            requested_by=command.payload.requested_by,
            command_event_id=command.event_id,
        )

    async def _automatic_label(self, tracked: TrackedReturn) -> bool:
        """Make a classic return's label; False when its merchant cannot receive parcels yet."""
        merchant = await self.merchants.get(tracked.merchant_id)
        if merchant is None or not merchant.can_receive_parcels:
            return False
        await self._make_label(tracked, merchant, self._automatic_cause(tracked))
        return True

    @staticmethod
    def _automatic_cause(tracked: TrackedReturn) -> Cause:
        return Cause(
            event_id=tracked.source_event_id,
            correlation_id=tracked.correlation_id or tracked.source_event_id.hex,
            requested_by=None,
            command_event_id=None,
        )

    async def _make_label(self, tracked: TrackedReturn, merchant: Merchant, cause: Cause) -> None:
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
        await self._announce(tracked, label, cause)

    async def _announce(self, tracked: TrackedReturn, label: Label, cause: Cause) -> None:
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

    async def _reject(
        self, command: LabelRequested, reason: LabelRejectionReason, detail: str
    ) -> None:
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

    # --- waiting work -------------------------------------------------------------------------

    async def resume(self, return_id: str) -> None:
        """Serve the label requests waiting for this return that can be served now."""
        waiting = await self.waiting.get(return_id)
        if waiting is None:
            return
        past_deadline = (
            waiting.commands_deadline is not None and self.clock() >= waiting.commands_deadline
        )
        for command in waiting.commands:
            if await self._serve(command, past_deadline=past_deadline):
                await self.waiting.done_with_command(return_id, command)

    async def sweep(self, batch: int = 100) -> int:
        """Look again at the next batch of waiting label requests (their merchant may have
        arrived, their deadline passed); returns how many returns it looked at. Successive
        sweeps page through all of them."""
        return_ids = await self.waiting.return_ids(after=self._swept_up_to, limit=batch)
        self._swept_up_to = return_ids[-1] if len(return_ids) == batch else None
        for return_id in return_ids:
            try:
                await self.resume(return_id)
            except Exception:
                logger.exception(
                    "waiting work failed; next sweep retries", extra={"return_id": return_id}
                )
        return len(return_ids)

    # --- queries ------------------------------------------------------------------------------

    async def label_status(self, merchant_id: str, return_id: str) -> TrackedReturn | None:
        """The return, if it exists and belongs to `merchant_id`; None otherwise (R12)."""
        tracked = await self.returns.get(return_id)
        if tracked is None or not tracked.visible_to(merchant_id):
            return None
        return tracked

    async def live_label_pdf(self, label_id: str) -> bytes | None:
        """The PDF of a live label; None for an unknown or voided one."""
        return_id = await self.returns.return_of_label(label_id)
        if return_id is None:
            return None
        tracked = await self.returns.get(return_id)
        if tracked is None or tracked.label is None or tracked.label.label_id != label_id:
            return None
        return await self.files.get(tracked.label.object_key)
