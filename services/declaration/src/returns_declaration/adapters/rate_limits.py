"""MongoDB storage of the portal's sign-in attempts, counted per key and fixed window."""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from returns_declaration.adapters.outbox import Document


class MongoRateLimiter:
    """Fixed windows: attempt n of a key in a window inserts `<key>:<window>:<n>`.

    An insert of an existing `_id` is refused atomically even on FerretDB (where a counter's
    `$inc` from several connections loses increments), so concurrent attempts cannot slip
    under the limit. FerretDB has no TTL index, so finished windows are swept now and then.
    """

    SWEEP_EVERY = 500

    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.collection = database["rate_limits"]
        self.calls = 0
        # Where the next free slot probably is, so that attempt n does not probe n slots.
        self.next_slot: dict[str, int] = {}

    async def create_indexes(self) -> None:
        # The sweep of finished windows; FerretDB on SQLite scans the (small) collection anyway.
        await self.collection.create_index("expires_at")

    async def allow(self, key: str, limit: int, window_seconds: int, now: datetime) -> bool:
        window = int(now.timestamp()) // window_seconds
        expires_at = datetime.fromtimestamp((window + 1) * window_seconds, UTC)
        window_key = f"{key}:{window}"
        self.calls += 1
        if self.calls % self.SWEEP_EVERY == 0:
            self.next_slot.clear()
            await self.collection.delete_many({"expires_at": {"$lt": now}})
        slot = self.next_slot.get(window_key, 1)
        while slot <= limit:
            try:
                await self.collection.insert_one(
                    {"_id": f"{window_key}:{slot}", "expires_at": expires_at}
                )
                self.next_slot[window_key] = slot + 1
                return True
            except DuplicateKeyError:
                slot += 1
        self.next_slot[window_key] = slot
        return False

    async def exceeded(self, key: str, limit: int, window_seconds: int, now: datetime) -> bool:
        window = int(now.timestamp()) // window_seconds
        return await self.collection.find_one({"_id": f"{key}:{window}:{limit}"}) is not None
