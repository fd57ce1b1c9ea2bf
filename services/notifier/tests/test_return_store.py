"""The notifier's copy of each return in MongoDB (FerretDB): the status link round-trips, and a
record written before the link existed still reads (issue 15)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from returns_contracts.examples import return_submitted
from returns_notifier.adapters.repository import MongoReturnStore
from returns_notifier.domain.model import ReturnRecord

pytestmark = pytest.mark.integration


@pytest.fixture
async def database(mongodb_url: str) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    name = f"notifier_returns_{uuid.uuid4().hex[:8]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)
        await client.close()


async def test_a_return_keeps_its_status_link(database: AsyncDatabase[dict[str, Any]]) -> None:
    payload = return_submitted(defective=True).payload
    record = ReturnRecord.from_payload("m-atelier", payload)
    assert record.status_url is not None
    store = MongoReturnStore(database)

    await store.save(record)

    assert await store.get(record.return_id) == record


async def test_a_return_recorded_before_the_status_link_reads_without_it(
    database: AsyncDatabase[dict[str, Any]],
) -> None:
    payload = return_submitted(defective=True).payload
    record = ReturnRecord.from_payload("m-atelier", payload)
    await database["returns"].insert_one(
        {
            "_id": record.return_id,
            "merchant_id": record.merchant_id,
            "order_number": record.order_number,
            "locale": record.locale,
            "customer_name": record.customer_name,
            "customer_email": record.customer_email,
        }
    )

    stored = await MongoReturnStore(database).get(record.return_id)

    assert stored is not None and stored.status_url is None
    assert stored.customer_email == record.customer_email
