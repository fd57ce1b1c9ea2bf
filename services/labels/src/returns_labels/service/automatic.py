"""The copies labels keeps (returns and merchants) and a classic return's label, made at once
(R10): on ReturnSubmitted, or on the MerchantUpdated that brings the missing return address.

A classic return whose merchant's return address is not known yet waits in a store and gets
its label when that merchant's settings arrive with one. A redelivered ReturnSubmitted makes
nothing twice: it announces again the label the first delivery made (it may have stopped
between making it and publishing LabelGenerated).
"""

from __future__ import annotations

import logging

from returns_contracts import MerchantUpdated, ReturnSubmitted
from returns_contracts.service_kit.clock import Clock
from returns_labels.domain.model import Contact, TrackedReturn, initial_status
from returns_labels.service.making import Cause, LabelMaker
from returns_labels.service.ports import MerchantStore, ReturnStore, WaitingStore
from returns_labels.service.requests import LabelRequests

logger = logging.getLogger(__name__)


class AutomaticLabels:
    def __init__(
        self,
        *,
        maker: LabelMaker,
        requests: LabelRequests,
        returns: ReturnStore,
        merchants: MerchantStore,
        waiting: WaitingStore,
        clock: Clock,
    ) -> None:
        self.maker = maker
        self.requests = requests
        self.returns = returns
        self.merchants = merchants
        self.waiting = waiting
        self.clock = clock

    async def record_merchant(self, update: MerchantUpdated) -> bool:
        """Keep the merchant's newest snapshot; an older or repeated revision changes nothing.

        The labels waiting for this merchant's return address are made now.
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
        stored: TrackedReturn | None = tracked
        if not created:
            logger.info(
                "return already tracked; redelivery ignored",
                extra={"return_id": payload.return_id, "event_id": str(event.event_id)},
            )
            # What the first delivery made of it; a new return is what was just inserted.
            stored = await self.returns.get(payload.return_id)
        automatic = None if created or stored is None else stored.automatic_label
        if stored is not None and automatic is not None:
            # Announce it again, same event id: the first delivery may have stopped between
            # making the label and publishing LabelGenerated.
            await self.maker.announce(stored, automatic, Cause.of_submission(stored))
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
        # Label requests that arrived before their return are served now; those of a classic
        # return (a merchant asking again for a label labels has not made yet) by the sweep:
        # looking for them here cost a store round trip on every classic return for a case that
        # hardly happens.
        if payload.defective:
            await self.requests.resume(payload.return_id)
        return created

    async def _automatic_label(self, tracked: TrackedReturn) -> bool:
        """Make a classic return's label; False when its merchant cannot receive parcels yet."""
        merchant = await self.merchants.get(tracked.merchant_id)
        if merchant is None or not merchant.can_receive_parcels:
            return False
        await self.maker.make(tracked, merchant, Cause.of_submission(tracked))
        return True
