"""Reservations of an order's quantities by its returns, and the notes of submits in flight.

Reservations are versions inserted under `<order id>#<version>`: the insert of the next version
is the compare-and-swap, in any number of processes (an insert of an existing `_id` is refused
atomically, by MongoDB and FerretDB alike). Versions are numbered from 1 without gaps, so the
latest is found by `_id $in` over a window of versions, never by a scan.

A submit notes its reservation before it reserves and settles the note once its return is
stored; `ReservationReconciler` gives back the quantities of notes left by a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from returns_contracts.service_kit.mongo import GroupedDeletes, GroupedInserts, GroupedReads
from returns_declaration.domain.model import Order, Reservations
from returns_declaration.domain.reservations import PendingReservation
from returns_declaration.domain.rules import fits_in_order
from returns_declaration.service.ports import StoredOrder

Document = dict[str, Any]

_RESERVATION_ATTEMPTS = 100
_RESERVATION_WINDOW = 16


def order_id(merchant_id: str, order_number: str) -> str:
    return f"{merchant_id}:{order_number}"


def _reservation_id(order_document_id: str, version: int) -> str:
    return f"{order_document_id}#{version:010d}"


def _pending_id(merchant_id: str, return_id: str) -> str:
    return f"{merchant_id}:{return_id}"


class OrderReservations:
    def __init__(
        self, versions: AsyncCollection[Document], notes: AsyncCollection[Document]
    ) -> None:
        self.versions = versions
        self.notes = notes
        # Submits in flight at once write and read their versions and notes in a few commands.
        self._version_inserts = GroupedInserts(versions)
        self._version_reads = GroupedReads(versions)
        self._note_inserts = GroupedInserts(notes)
        self._note_deletes = GroupedDeletes(notes)

    async def latest(self, order_document_id: str) -> tuple[int, Reservations]:
        # Versions are numbered from 1 without gaps; an order has few returns, so one `_id $in`
        # over the first versions finds the latest (another window only past them).
        version, latest = 0, None
        while True:
            window = range(version + 1, version + 1 + _RESERVATION_WINDOW)
            found = await self._version_reads.find_many(
                [_reservation_id(order_document_id, n) for n in window]
            )
            if found:
                latest = max(found, key=lambda document: str(document["_id"]))
                version = int(str(latest["_id"]).rsplit("#", 1)[1])
            if len(found) < _RESERVATION_WINDOW:
                break
        if latest is None:
            return 0, {}
        return version, {
            return_id: {line_id: int(quantity) for line_id, quantity in lines.items()}
            for return_id, lines in latest["reservations"].items()
        }

    async def reserve(
        self,
        order: Order,
        return_id: str,
        quantities: Mapping[str, int],
        seen: StoredOrder | None = None,
    ) -> bool:
        """Insert the next version of the order's reservations, with this return's added, if
        what earlier returns hold leaves room; a concurrent writer of the same version makes
        the insert fail and this one reads again. A retry finds its own reservation."""
        document_id = order_id(order.merchant_id, order.number)
        from_seen = seen is not None and seen.order.number == order.number
        for _ in range(_RESERVATION_ATTEMPTS):
            if seen is not None and from_seen:
                version, reservations = seen.reservations_version, seen.reservations
            else:
                version, reservations = await self.latest(document_id)
            if return_id in reservations:
                return True
            if not fits_in_order(order, reservations, quantities):
                if from_seen:
                    from_seen = False  # decide on the latest version, not on what was seen
                    continue
                return False
            from_seen = False
            try:
                await self._version_inserts.insert_one(
                    {
                        "_id": _reservation_id(document_id, version + 1),
                        "reservations": {**reservations, return_id: dict(quantities)},
                    }
                )
                return True
            except DuplicateKeyError:
                continue
        raise RuntimeError(f"could not reserve on order {document_id}: too much contention")

    async def release(self, merchant_id: str, order_number: str, return_id: str) -> bool:
        """Insert the next version of the order's reservations without this return's, as
        `reserve` inserts one with it: a concurrent writer makes the insert fail, and this
        one reads again."""
        document_id = order_id(merchant_id, order_number)
        for _ in range(_RESERVATION_ATTEMPTS):
            version, reservations = await self.latest(document_id)
            if return_id not in reservations:
                return False
            kept = {other: lines for other, lines in reservations.items() if other != return_id}
            try:
                await self._version_inserts.insert_one(
                    {"_id": _reservation_id(document_id, version + 1), "reservations": kept}
                )
                return True
            except DuplicateKeyError:
                continue
        raise RuntimeError(f"could not release on order {document_id}: too much contention")

    # One note per submit in flight, under the return's natural id; one write each.

    async def note(self, pending: PendingReservation) -> None:
        where = {"_id": _pending_id(pending.merchant_id, pending.return_id)}
        note = {
            "merchant_id": pending.merchant_id,
            "order_number": pending.order_number,
            "return_id": pending.return_id,
            "noted_at": pending.noted_at,
        }
        # An insert, not an upsert: on FerretDB an upsert first looks for the document, and a
        # note is almost always new. A retried or concurrent submit of the same draft renews it.
        try:
            await self._note_inserts.insert_one({**where, **note})
        except DuplicateKeyError:
            await self.notes.replace_one(where, note)

    async def settle(self, merchant_id: str, return_id: str) -> None:
        await self._note_deletes.delete_one(_pending_id(merchant_id, return_id))

    async def pending(self, noted_until: datetime, limit: int) -> list[PendingReservation]:
        found = (
            self.notes.find({"noted_at": {"$lte": noted_until}})
            .sort([("noted_at", 1), ("_id", 1)])
            .limit(limit)
        )
        return [
            PendingReservation(
                merchant_id=document["merchant_id"],
                order_number=document["order_number"],
                return_id=document["return_id"],
                noted_at=document["noted_at"],
            )
            async for document in found
        ]
