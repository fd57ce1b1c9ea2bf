"""The reconciler of reservations left by submits that died (see `domain.reservations`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from returns_contracts.service_kit.clock import utc_now
from returns_declaration.domain import rules
from returns_declaration.domain.reservations import Fate, PendingReservation, fate_of
from returns_declaration.service.ports import ReconcilerStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reconciled:
    """What one pass did."""

    completed: int = 0
    released: int = 0
    # Notes of submits that reserved nothing: refused by the rules, a replay of another draft's
    # key, or a crash before the reservation. Settled without a warning.
    dropped: int = 0

    @property
    def handled(self) -> int:
        return self.completed + self.released + self.dropped


class ReservationReconciler:
    """Completes or releases the reservations of submits older than `grace`, in batches."""

    def __init__(
        self,
        store: ReconcilerStore,
        grace: timedelta,
        batch_size: int = 100,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.grace = grace
        self.batch_size = batch_size
        self.clock = clock

    async def run_once(self) -> Reconciled:
        """One batch: at most `batch_size` notes, the oldest first."""
        now = self.clock()
        completed = released = dropped = 0
        for pending in await self.store.pending_reservations(now - self.grace, self.batch_size):
            record = await self.store.get_return(pending.merchant_id, pending.return_id)
            fate = fate_of(pending, record is not None, now, self.grace)
            if fate is Fate.WAIT:
                continue
            if fate is Fate.COMPLETE:
                completed += 1
            elif await self._release(pending):
                released += 1
            else:
                dropped += 1
            await self.store.settle_reservation(pending.merchant_id, pending.return_id)
        return Reconciled(completed, released, dropped)

    async def _release(self, pending: PendingReservation) -> bool:
        """Whether the note's submit held quantities, now given back."""
        if not await self.store.release(
            pending.merchant_id, pending.order_number, pending.return_id
        ):
            return False
        logger.warning(
            "released the reservation of a submit that did not finish",
            extra={"merchant_id": pending.merchant_id, "return_id": pending.return_id},
        )
        # A client retrying at the very end of the grace period may have inserted its return
        # between our read and the release: it keeps its quantities.
        record = await self.store.get_return(pending.merchant_id, pending.return_id)
        stored = await self.store.get_order(pending.merchant_id, pending.order_number)
        if record is not None and stored is not None:
            await self.store.reserve(
                stored.order, pending.return_id, rules.reservation_of(record.declared), stored
            )
        return True

    def left_more(self, done: Reconciled) -> bool:
        """Whether a pass handled a full batch, so that more may be waiting: the next pass comes
        at once (the kit's `every(..., again_at_once=...)`), not after the pause."""
        return done.handled >= self.batch_size
