"""MongoDB writes that more than one service makes the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

# What a driver sends to keep its connections (handshakes, monitoring, session ends), not work
# the code asked for: left out wherever store commands are counted.
CONNECTION_UPKEEP_COMMANDS = frozenset(
    {"hello", "ismaster", "isMaster", "ping", "endSessions", "buildInfo"}
)


async def save_if_newer_revision(
    collection: AsyncCollection[dict[str, Any]],
    key: str,
    revision: int,
    fields: Mapping[str, Any],
) -> bool:
    """Keep only the newest revision of document `key`: write `fields` (and `revision`) unless
    the stored revision is the same or newer. True when written.

    One atomic write, no read before it: the filter matches only an older revision (or nothing,
    and then the upsert inserts); when a same-or-newer revision is stored the upsert collides on
    `_id`, which means "ignore". So a redelivered or late snapshot never undoes a newer one.
    """
    try:
        await collection.update_one(
            {"_id": key, "revision": {"$lt": revision}},
            {"$set": {**fields, "revision": revision}},
            upsert=True,
        )
    except DuplicateKeyError:
        return False
    return True
