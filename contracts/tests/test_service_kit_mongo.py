"""The kit's "keep only the newest revision" write, on the real MongoDB-protocol server."""

from __future__ import annotations

import pytest

from returns_contracts.service_kit.mongo import save_if_newer_revision
from returns_contracts.service_kit.testing import scratch_database

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
