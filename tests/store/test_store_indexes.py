"""Lookups by `_id` use an index on the real embedded store, whatever else the filter holds.

FerretDB on SQLite answers `explain` with SQLite's query plan (`SCAN <table>` for a full scan,
`SEARCH <table> USING INDEX ...` for an index lookup); real MongoDB answers with its plan stages
(COLLSCAN for a full scan). Without our patch (deploy/.../patches/ferretdb-sqlite-id-index.patch)
every case below is a SCAN.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection

pytestmark = pytest.mark.integration

DOCUMENTS = 3000
Collection = AsyncCollection[dict[str, Any]]


@pytest.fixture(scope="module")
async def stored(mongodb_url: str) -> AsyncIterator[tuple[Collection, bool]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url)
    name = f"store_indexes_{uuid.uuid4().hex[:8]}"
    collection = client[name]["returns"]
    await collection.insert_many(
        [
            {"_id": f"shop-{i % 7}:{i:06d}", "merchant_id": f"shop-{i % 7}", "n": i}
            for i in range(DOCUMENTS)
        ]
    )
    ferretdb = "ferretdbVersion" in await client.admin.command("buildInfo")
    try:
        yield collection, ferretdb
    finally:
        await client.drop_database(name)
        await client.close()


async def _plan(collection: Collection, filter_: dict[str, Any], ferretdb: bool) -> list[str]:
    explained = await collection.database.command(
        {"explain": {"find": collection.name, "filter": filter_}, "verbosity": "queryPlanner"}
    )
    if ferretdb:
        return [str(line) for line in explained["queryPlanner"]["Plan"]]
    return [str(explained["queryPlanner"]["winningPlan"])]


def _assert_indexed(plan: list[str], ferretdb: bool) -> None:
    text = "\n".join(plan)
    if ferretdb:
        assert "USING INDEX" in text and "SCAN" not in text, f"a full scan: {text}"
    else:
        assert "COLLSCAN" not in text, f"a full scan: {text}"


@pytest.mark.parametrize(
    "filter_",
    [
        {"_id": "shop-3:001235"},
        # Beside other conditions: FerretDB pushed `_id` down only when it was alone.
        {"_id": "shop-3:001235", "merchant_id": "shop-3"},
        {"merchant_id": "shop-3", "_id": "shop-3:001235", "n": {"$gte": 0}},
        {"_id": {"$in": ["shop-3:001235", "shop-1:000001"]}, "merchant_id": "shop-3"},
    ],
    ids=["id-alone", "id-and-field", "id-among-fields", "id-in"],
)
async def test_a_lookup_by_id_uses_the_index(
    stored: tuple[Collection, bool], filter_: dict[str, Any]
) -> None:
    collection, ferretdb = stored
    _assert_indexed(await _plan(collection, filter_, ferretdb), ferretdb)
    # The other conditions still apply.
    found = await collection.find(filter_).to_list()
    assert [document["_id"] for document in found] == ["shop-3:001235"]
    assert await collection.find_one({**filter_, "merchant_id": "shop-4"}) is None


async def test_an_update_by_id_with_a_guard_uses_the_index(stored: tuple[Collection, bool]) -> None:
    collection, ferretdb = stored
    # FerretDB's explain ignores an update's `q`, so explain the same filter as a find: the
    # update reads its document through the same backend query, then writes it back by the same
    # `_id` expression (UpdateAll ... WHERE <_id expression> = ?).
    guard = {"_id": "shop-5:000005", "merchant_id": "shop-5", "n": 5}
    _assert_indexed(await _plan(collection, guard, ferretdb), ferretdb)
    result = await collection.update_one(guard, {"$set": {"seen": True}})
    assert result.matched_count == 1
    stale = await collection.update_one({**guard, "n": 6}, {"$set": {"seen": False}})
    assert stale.matched_count == 0
    assert (await collection.find_one({"_id": "shop-5:000005"}) or {}).get("seen") is True


async def test_a_filter_without_id_is_still_a_scan_on_ferretdb(
    stored: tuple[Collection, bool],
) -> None:
    # What the patch does not change: the hot paths must not filter on anything else.
    collection, ferretdb = stored
    if not ferretdb:
        pytest.skip("real MongoDB uses its secondary indexes")
    assert "SCAN" in "\n".join(await _plan(collection, {"merchant_id": "shop-3"}, ferretdb))
