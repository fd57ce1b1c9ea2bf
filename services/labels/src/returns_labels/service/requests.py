"""A merchant's label requests (R11): answered with LabelGenerated or LabelRejected.

A request that cannot be served yet (its return, or its merchant's settings, have not arrived)
waits in a store instead of blocking the consumer: one consumer reads every topic, so blocking
would also hold back the very ReturnSubmitted or MerchantUpdated being waited for. It is served
when its return arrives or by the periodic sweep; one that still cannot be served at its
deadline is rejected.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from returns_contracts import LabelRequested
from returns_contracts.service_kit.clock import Clock
from returns_labels.service.making import Cause, LabelMaker
from returns_labels.service.ports import MerchantStore, ReturnStore, WaitingStore

logger = logging.getLogger(__name__)


class LabelRequests:
    def __init__(
        self,
        *,
        maker: LabelMaker,
        returns: ReturnStore,
        merchants: MerchantStore,
        waiting: WaitingStore,
        request_wait: timedelta,
        clock: Clock,
    ) -> None:
        self.maker = maker
        self.returns = returns
        self.merchants = merchants
        self.waiting = waiting
        self.request_wait = request_wait
        self.clock = clock
        self._swept_up_to: str | None = None

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
            await self.maker.reject(
                command,
                "unknown_return",
                f"Return {payload.return_id} is unknown to the labels service.",
            )
            return True
        if not tracked.visible_to(command.merchant_id):
            await self.maker.reject(
                command,
                "wrong_merchant",
                f"Return {payload.return_id} does not belong to merchant {command.merchant_id}.",
            )
            return True
        earlier = tracked.label_made_for(command.event_id)
        if earlier is not None:
            await self.maker.announce(tracked, earlier, Cause.of_request(command))
            return True
        if tracked.label is not None and not payload.regenerate:
            # A repeated request gives back the label there is (R11).
            await self.maker.announce(tracked, tracked.label, Cause.of_request(command))
            return True
        merchant = await self.merchants.get(tracked.merchant_id)
        if merchant is None:
            if not past_deadline:
                return False
            await self.maker.reject(
                command,
                "not_ready",
                f"The settings of merchant {tracked.merchant_id} have not reached the labels "
                "service yet; try again in a moment.",
            )
            return True
        if not merchant.can_receive_parcels:
            await self.maker.reject(
                command,
                "not_ready",
                "The merchant has no return address yet: add one in the settings, then ask "
                "for the label again.",
            )
            return True
        await self.maker.make(tracked, merchant, Cause.of_request(command))
        return True

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
