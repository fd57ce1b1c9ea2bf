"""Single-document updates are atomic on the embedded store, as on MongoDB.

Several clients (separate connections) update one document at once. Unpatched FerretDB reads,
changes in Go and writes back with nothing in between, so changes are lost and filter guards let
too many through; our patch (deploy/.../patches/ferretdb-sqlite-atomic-update.patch) makes the
write a compare-and-swap and runs the update again on conflict.

The statements of one bulk write are read and applied first, then written together
(ferretdb-update-statements-share-one-write.patch): each still behaves as if it ran after the
statements before it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient, UpdateMany, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import PyMongoError

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


async def test_statements_of_one_bulk_write_on_one_document_each_see_the_one_before(
    collections: list[Collection],
) -> None:
    """Read together, written together: each statement after the first finds its document
    changed by the one before it, and must run again over that change."""
    await collections[0].insert_many([{"_id": "c", "n": 0}, {"_id": "stock", "left": 6}])
    result = await collections[0].bulk_write(
        [UpdateOne({"_id": "c"}, {"$inc": {"n": 1}}) for _ in range(10)]
        + [
            UpdateOne({"_id": "stock", "left": {"$gte": 2}}, {"$inc": {"left": -2}})
            for _ in range(5)
        ],
        ordered=False,
    )
    assert (await collections[0].find_one({"_id": "c"}) or {})["n"] == 10
    assert (await collections[0].find_one({"_id": "stock"}) or {})["left"] == 0
    assert (result.matched_count, result.modified_count) == (13, 13)


async def test_bulk_writes_of_several_clients_on_the_same_documents_lose_nothing(
    collections: list[Collection],
) -> None:
    await collections[0].insert_many([{"_id": key, "n": 0} for key in ("a", "b", "c")])
    await asyncio.gather(
        *(
            collections[i % CLIENTS].bulk_write(
                [UpdateOne({"_id": key}, {"$inc": {"n": 1}}) for key in ("a", "b", "c") * 3],
                ordered=False,
            )
            for i in range(12)
        )
    )
    counts = {document["_id"]: document["n"] async for document in collections[0].find({})}
    assert counts == {"a": 36, "b": 36, "c": 36}


async def test_a_multi_document_statement_sees_the_single_ones_before_it(
    collections: list[Collection],
) -> None:
    await collections[0].insert_many([{"_id": "a", "n": 0}, {"_id": "b", "n": 0}])
    await collections[0].bulk_write(
        [
            UpdateOne({"_id": "a"}, {"$set": {"flag": True}}),
            UpdateOne({"_id": "b"}, {"$set": {"flag": True}}),
            UpdateMany({"flag": True}, {"$inc": {"n": 1}}),
            UpdateOne({"_id": "new", "flag": True}, {"$inc": {"n": 5}}, upsert=True),
        ],
        ordered=False,
    )
    documents = {document["_id"]: document async for document in collections[0].find({})}
    assert {key: document["n"] for key, document in documents.items()} == {
        "a": 1,
        "b": 1,
        "new": 5,
    }


async def test_a_statement_that_fails_leaves_those_before_it_written_and_not_those_after(
    collections: list[Collection],
) -> None:
    """As when each statement was written alone: FerretDB v1 stops the command at the refused
    statement (its answer lacks the count PyMongo reads, hence the broad error)."""
    await collections[0].insert_many(
        [{"_id": "a", "n": 0}, {"_id": "b", "n": "not a number"}, {"_id": "c", "n": 0}]
    )
    with pytest.raises((PyMongoError, KeyError)):
        await collections[0].bulk_write(
            [UpdateOne({"_id": key}, {"$inc": {"n": 1}}) for key in ("a", "b", "c")],
            ordered=False,
        )
    counts = {document["_id"]: document["n"] async for document in collections[0].find({})}
    assert counts == {"a": 1, "b": "not a number", "c": 0}
