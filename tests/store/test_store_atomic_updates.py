"""Single-document updates are atomic on the embedded store, as on MongoDB.

Several clients (separate connections) update one document at once. Unpatched FerretDB reads,
changes in Go and writes back with nothing in between, so changes are lost and filter guards let
too many through; our patch (deploy/.../patches/ferretdb-sqlite-atomic-update.patch) makes the
write a compare-and-swap and runs the update again on conflict.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

pytestmark = pytest.mark.integration

CLIENTS = 4
Collection = AsyncCollection[dict[str, Any]]


@pytest.fixture
async def collections(mongodb_url: str) -> AsyncIterator[list[Collection]]:
    clients: list[AsyncMongoClient[dict[str, Any]]] = [
        AsyncMongoClient(mongodb_url) for _ in range(CLIENTS)
    ]
    name = f"store_atomic_{uuid.uuid4().hex[:8]}"
    try:
        yield [client[name]["counters"] for client in clients]
    finally:
        await clients[0].drop_database(name)
        for client in clients:
            await client.close()


async def test_concurrent_increments_of_one_document_all_count(
    collections: list[Collection],
) -> None:
    await collections[0].insert_one({"_id": "c", "n": 0, "other": "x"})
    await asyncio.gather(
        *(collections[i % CLIENTS].update_one({"_id": "c"}, {"$inc": {"n": 1}}) for i in range(40))
    )
    assert await collections[0].find_one({"_id": "c"}) == {"_id": "c", "n": 40, "other": "x"}


async def test_a_filter_guard_lets_through_only_what_the_document_allows(
    collections: list[Collection],
) -> None:
    await collections[0].insert_one({"_id": "stock", "left": 6})
    results = await asyncio.gather(
        *(
            collections[i % CLIENTS].update_one(
                {"_id": "stock", "left": {"$gte": 2}}, {"$inc": {"left": -2}}
            )
            for i in range(16)
        )
    )
    assert sum(result.modified_count for result in results) == 3
    assert (await collections[0].find_one({"_id": "stock"}) or {})["left"] == 0


async def test_appends_and_a_guarded_mark_of_one_document_lose_nothing(
    collections: list[Collection],
) -> None:
    """The outbox's pattern: writers append events while the relay marks what it sent."""
    await collections[0].insert_one({"_id": "r", "outbox": [], "sent": 0})
    appends = [
        collections[i % CLIENTS].update_one({"_id": "r"}, {"$push": {"outbox": i}})
        for i in range(20)
    ]
    marks = [
        collections[i % CLIENTS].bulk_write(
            [UpdateOne({"_id": "r", "outbox.0": {"$exists": True}}, {"$max": {"sent": 1}})]
        )
        for i in range(4)
    ]
    await asyncio.gather(*appends, *marks)
    document = await collections[0].find_one({"_id": "r"})
    assert document is not None
    assert sorted(document["outbox"]) == list(range(20)) and document["sent"] == 1
