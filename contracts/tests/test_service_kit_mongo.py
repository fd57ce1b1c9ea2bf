"""The kit's store helpers (newest revision only; grouped inserts, reads, updates and deletes) on
the real MongoDB-protocol server."""

from __future__ import annotations

import asyncio

import pytest
from pymongo.errors import DuplicateKeyError

from returns_contracts.service_kit.mongo import (
    GroupedDeletes,
    GroupedGuardedUpdates,
    GroupedInserts,
    GroupedReads,
    GroupedUpdates,
    save_if_newer_revision,
)
from returns_contracts.service_kit.testing import CommandLog, Database, scratch_database

pytestmark = pytest.mark.integration


async def test_only_a_newer_revision_replaces_the_stored_one(mongodb_url: str) -> None:
    async with scratch_database(mongodb_url, "kit_mongo") as database:
        merchants = database["merchants"]

        assert await save_if_newer_revision(merchants, "m-1", 2, {"name": "Two"})
        assert not await save_if_newer_revision(merchants, "m-1", 2, {"name": "Again"})
        assert not await save_if_newer_revision(merchants, "m-1", 1, {"name": "Late"})
        assert await merchants.find_one({"_id": "m-1"}) == {
            "_id": "m-1",
            "name": "Two",
            "revision": 2,
        }
        assert await save_if_newer_revision(merchants, "m-1", 3, {"name": "Three"})
        stored = await merchants.find_one({"_id": "m-1"})
        assert stored is not None and (stored["name"], stored["revision"]) == ("Three", 3)


async def test_grouped_inserts_answer_each_caller_for_its_own_document(
    counted: tuple[Database, CommandLog],
) -> None:
    database, log = counted
    notes = database["notes"]
    await notes.insert_one({"_id": "taken"})
    grouped = GroupedInserts(notes)
    log.sent.clear()

    ids = [f"n-{number}" for number in range(40)] + ["taken"]
    outcomes = await asyncio.gather(
        *(grouped.insert_one({"_id": key, "n": 1}) for key in ids), return_exceptions=True
    )

    # The first went alone, the others waited for it and went together.
    assert log.sent == ["insert notes", "insert notes"]
    refused = [key for key, outcome in zip(ids, outcomes, strict=True) if outcome is not None]
    assert refused == ["taken"]
    assert isinstance(outcomes[-1], DuplicateKeyError)
    stored = {document["_id"] async for document in notes.find({"n": 1})}
    assert stored == set(ids[:-1])


async def test_a_lone_grouped_insert_goes_at_once_in_its_own_command(
    counted: tuple[Database, CommandLog],
) -> None:
    database, log = counted
    grouped = GroupedInserts(database["notes"])
    log.sent.clear()
    await grouped.insert_one({"_id": "one"})
    await grouped.insert_one({"_id": "two"})
    with pytest.raises(DuplicateKeyError):
        await grouped.insert_one({"_id": "one"})
    assert log.sent == ["insert notes"] * 3
    assert await database["notes"].count_documents({}) == 2


async def test_grouped_reads_give_each_caller_the_documents_it_asked_for(
    counted: tuple[Database, CommandLog],
) -> None:
    database, log = counted
    drafts = database["drafts"]
    await drafts.insert_many([{"_id": f"d-{number}", "n": number} for number in range(30)])
    grouped = GroupedReads(drafts)
    log.sent.clear()

    asked = [f"d-{number}" for number in range(30)] + ["missing", "d-3"]
    singles = await asyncio.gather(*(grouped.find_one(key) for key in asked))
    assert [None if found is None else found["_id"] for found in singles] == [
        *asked[:-2],
        None,
        "d-3",
    ]
    assert log.sent == ["find drafts", "find drafts"]

    log.sent.clear()
    windows = await asyncio.gather(
        grouped.find_many(["d-1", "d-2", "nothing"]), grouped.find_many(["d-2", "d-29"])
    )
    assert [[found["n"] for found in window] for window in windows] == [[1, 2], [2, 29]]


async def test_grouped_deletes_delete_every_callers_document(
    counted: tuple[Database, CommandLog],
) -> None:
    database, log = counted
    notes = database["notes"]
    await notes.insert_many([{"_id": f"n-{number}"} for number in range(20)])
    grouped = GroupedDeletes(notes)
    log.sent.clear()

    await asyncio.gather(*(grouped.delete_one(f"n-{number}") for number in range(15)))

    assert log.sent == ["delete notes", "delete notes"]
    left = sorted([document["_id"] async for document in notes.find({})])
    assert left == [f"n-{number}" for number in range(15, 20)]


async def test_grouped_updates_apply_every_callers_update(
    counted: tuple[Database, CommandLog],
) -> None:
    database, log = counted
    drafts = database["drafts"]
    await drafts.insert_many([{"_id": f"d-{number}", "seen": 0} for number in range(12)])
    grouped = GroupedUpdates(drafts)
    log.sent.clear()

    await asyncio.gather(
        *(grouped.update_one({"_id": f"d-{n % 6}"}, {"$inc": {"seen": 1}}) for n in range(12))
    )

    assert log.sent == ["update drafts", "update drafts"]
    seen = {document["_id"]: document["seen"] async for document in drafts.find({})}
    assert seen == {f"d-{number}": 2 if number < 6 else 0 for number in range(12)}


async def test_a_refused_grouped_update_fails_its_caller_and_reports_no_false_success(
    mongodb_url: str,
) -> None:
    async with scratch_database(mongodb_url, "kit_mongo") as database:
        drafts = database["drafts"]
        await drafts.insert_many([{"_id": f"d-{number}", "seen": 0} for number in range(4)])
        grouped = GroupedUpdates(drafts)

        outcomes = await asyncio.gather(
            grouped.update_one({"_id": "d-0"}, {"$inc": {"seen": 1}}),
            grouped.update_one({"_id": "d-1"}, {"$inc": {"seen": 1}}),
            grouped.update_one({"_id": "d-2"}, {"$inc": {"seen": "not a number"}}),
            grouped.update_one({"_id": "d-3"}, {"$inc": {"seen": 1}}),
            return_exceptions=True,
        )

        assert outcomes[0] is None  # it went alone
        assert isinstance(outcomes[2], Exception)
        seen = {document["_id"]: document["seen"] async for document in drafts.find({})}
        assert seen["d-2"] == 0
        # MongoDB applies and reports the others of the group; FerretDB v1 stops at the refused
        # statement and answers without a count, and then all of them get the error.
        for key, outcome in [("d-0", outcomes[0]), ("d-1", outcomes[1]), ("d-3", outcomes[3])]:
            assert outcome is not None or seen[key] == 1, key


async def test_grouped_guarded_updates_say_true_only_when_every_guard_held(
    counted: tuple[Database, CommandLog],
) -> None:
    database, log = counted
    returns = database["returns"]
    await returns.insert_many([{"_id": f"r-{number}", "seen": []} for number in range(8)])
    grouped = GroupedGuardedUpdates(returns)

    def once(return_id: str, event: str) -> tuple[dict[str, object], dict[str, object]]:
        return {"_id": return_id, "seen": {"$ne": event}}, {"$push": {"seen": event}}

    log.sent.clear()
    all_held = await asyncio.gather(
        *(grouped.update_one(*once(f"r-{number}", "e-1")) for number in range(8))
    )
    # The first alone (exact), the seven others in one command, each of whose guards held.
    assert log.sent == ["update returns", "update returns"]
    assert all_held == [True] * 8

    one_failed = await asyncio.gather(
        grouped.update_one(*once("r-0", "e-2")),
        grouped.update_one(*once("r-1", "e-2")),
        grouped.update_one(*once("r-2", "e-1")),  # applied already: its guard fails
        grouped.update_one(*once("r-3", "e-2")),
    )
    # Alone, exact; in the group, nobody can tell whose guard failed: never a false True.
    assert list(one_failed) == [True, None, None, None]
    seen = {document["_id"]: document["seen"] async for document in returns.find({})}
    assert seen["r-2"] == ["e-1"]
    assert seen["r-1"] == seen["r-3"] == ["e-1", "e-2"]
