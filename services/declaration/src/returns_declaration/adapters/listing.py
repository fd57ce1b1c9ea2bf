"""Per-merchant numbered listings, so that a merchant's returns are paged without a scan.

FerretDB turns only `_id` filters into SQL; a back-office list filtered on `merchant_id` read
every return of every merchant. Instead each return takes the next number of its merchant,
inserting `<merchant id>|<number:012d>` (the insert of an existing `_id` is refused atomically,
so it is the compare-and-swap, whatever the number of processes). The numbers of a merchant are
nearly contiguous from 1, so the newest is found by probing `_id`s, and a page is the `_id`s of
the numbers below the cursor, fetched with `_id $in`.

Nearly: a process killed while its inserts were in flight leaves the numbers it claimed but
never inserted as holes below numbers that others (or its own earlier claims) took. A probe
that asked one number at a time stopped at such a hole and took it for the newest: a process
started after the crash listed nothing above it (the back-office missed those returns until the
next submit of the merchant) and walked its next takes up through every taken number. So each
look is at a window of `WINDOW` numbers at once (one `_id $in`): holes narrower than the window,
that many submits of one process in flight when it died, mislead no reader.

A number is taken before the document it lists is written; the document keeps the number it
got, and an entry whose document holds another number (a retried write, a crash between the
two writes) is skipped by the reader.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from returns_contracts.service_kit.mongo import GroupedInserts

Document = dict[str, Any]

_TAKE_ATTEMPTS = 1000
WINDOW = 256
"""Numbers looked at in one query by the searches for the newest number (see above)."""


def entry_id(merchant_id: str, number: int) -> str:
    return f"{merchant_id}|{number:012d}"


class MerchantListing:
    def __init__(self, entries: AsyncCollection[Document]) -> None:
        self.entries = entries
        self._inserts = GroupedInserts(entries)
        # The highest number taken or claimed by this process, per merchant; other processes
        # may have taken more since.
        self._heads: dict[str, int] = {}
        # One probe per merchant at a time: a burst of submits arriving before the first probe
        # returned each ran their own (2 log2(n / WINDOW) + 2 queries apiece).
        self._probing: dict[str, asyncio.Lock] = {}

    async def _highest_near(self, merchant_id: str, first: int) -> int | None:
        """The highest number taken among `first` and the `WINDOW - 1` after it, or None."""
        ids = [entry_id(merchant_id, number) for number in range(first, first + WINDOW)]
        # One reply: a window holds up to WINDOW entries, more than a first batch's default
        # 101, and a getMore under load could meet a cursor FerretDB had already dropped.
        found = await self.entries.find(
            {"_id": {"$in": ids}}, {"_id": 1}, batch_size=WINDOW
        ).to_list(None)
        if not found:
            return None
        return max(int(str(document["_id"]).rsplit("|", 1)[1]) for document in found)

    async def _walk(self, merchant_id: str, number: int) -> int:
        """The highest number taken, from `number` up, past any hole narrower than WINDOW."""
        while (higher := await self._highest_near(merchant_id, number + 1)) is not None:
            number = higher
        return number

    async def _probe(self, merchant_id: str) -> int:
        """The highest number taken, in about 2 log2(n / WINDOW) + 2 queries: the last window
        with a number taken, galloping then halving, then a walk from it."""
        if await self._highest_near(merchant_id, 1) is None:
            return 0
        low, high = 1, WINDOW
        while await self._highest_near(merchant_id, high) is not None:
            low, high = high, high * 2
        while high - low > 1:
            middle = (low + high) // 2
            if await self._highest_near(merchant_id, middle) is not None:
                low = middle
            else:
                high = middle
        return await self._walk(merchant_id, low - 1)

    async def take(self, merchant_id: str, listed_id: str) -> int:
        """The next number of the merchant, now bound to `listed_id`.

        Each number is claimed in this process before its insert is sent, so the submits this
        process serves at once try different numbers and only another process can take one
        first (then the next is tried). Without the claim, k submits at once all tried the same
        number: k(k-1)/2 refused inserts, which a burst of submits turned into seconds."""
        if merchant_id not in self._heads:
            async with self._probing.setdefault(merchant_id, asyncio.Lock()):
                if merchant_id not in self._heads:
                    probed = await self._probe(merchant_id)
                    self._heads[merchant_id] = max(self._heads.get(merchant_id, 0), probed)
        for _ in range(_TAKE_ATTEMPTS):
            number = self._heads[merchant_id] + 1
            self._heads[merchant_id] = number
            try:
                await self._inserts.insert_one(
                    {"_id": entry_id(merchant_id, number), "listed_id": listed_id}
                )
            except DuplicateKeyError:
                continue  # taken by another process meanwhile: the next one
            except BaseException:
                # Not taken: the next take of this process fills it, so numbers stay contiguous.
                self._heads[merchant_id] = min(self._heads[merchant_id], number - 1)
                raise
            return number
        raise RuntimeError(f"could not number a return of {merchant_id}: too much contention")

    async def take_many(self, merchant_id: str, listed_ids: Sequence[str]) -> list[int]:
        """The next numbers of the merchant for `listed_ids`, in order, in one write when no
        other process takes numbers of this merchant meanwhile (a bulk load)."""
        if not listed_ids:
            return []
        first = self._heads.get(merchant_id)
        if first is None:
            first = await self._probe(merchant_id)
        first += 1
        try:
            await self.entries.insert_many(
                [
                    {"_id": entry_id(merchant_id, first + offset), "listed_id": listed_id}
                    for offset, listed_id in enumerate(listed_ids)
                ],
                ordered=True,
            )
        except BulkWriteError as error:
            # Ordered: those before the first refused one are ours; the rest one by one.
            done = int(error.details.get("nInserted", 0))
            self._heads[merchant_id] = first + done - 1
            rest = [await self.take(merchant_id, listed_id) for listed_id in listed_ids[done:]]
            return [first + offset for offset in range(done)] + rest
        self._heads[merchant_id] = first + len(listed_ids) - 1
        return [first + offset for offset in range(len(listed_ids))]

    async def head(self, merchant_id: str) -> int:
        """The newest number of the merchant, including those other processes took."""
        number = self._heads.get(merchant_id)
        if number is None:
            number = await self._probe(merchant_id)
        else:
            number = await self._walk(merchant_id, number)
        self._heads[merchant_id] = number
        return number

    async def listed(self, merchant_id: str, below: int, count: int) -> list[tuple[int, str]]:
        """(number, listed id) of the up to `count` numbers below `below`, newest first."""
        numbers = range(below - 1, max(below - 1 - count, 0), -1)
        if not numbers:
            return []
        found = await self.entries.find(
            {"_id": {"$in": [entry_id(merchant_id, number) for number in numbers]}}
        ).to_list(None)
        by_id = {document["_id"]: str(document["listed_id"]) for document in found}
        return [
            (number, by_id[entry_id(merchant_id, number)])
            for number in numbers
            if entry_id(merchant_id, number) in by_id
        ]
