"""The send lease on the real store: of members racing for one e-mail, one may send it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from returns_notifier.adapters.repository import MongoSentEmailStore
from returns_notifier.domain.emails import SentEmail

pytestmark = pytest.mark.integration

MEMBERS = 4
NOW = datetime(2026, 3, 2, 9, 31, tzinfo=UTC)
LEASE = timedelta(seconds=60)


@pytest.fixture
async def stores(mongodb_url: str) -> AsyncIterator[list[MongoSentEmailStore]]:
    """One store per member, each over its own client (separate connections, as processes)."""
    clients: list[AsyncMongoClient[dict[str, Any]]] = [
        AsyncMongoClient(mongodb_url, tz_aware=True) for _ in range(MEMBERS)
    ]
    name = f"notifier_lease_{uuid.uuid4().hex[:8]}"
    try:
        yield [MongoSentEmailStore(client[name]) for client in clients]
    finally:
        await clients[0].drop_database(name)
        for client in clients:
            await client.close()


def _planned(key: str) -> SentEmail:
    event_id = uuid.uuid4()
    return SentEmail(
        key=key,
        event_id=event_id,
        template="customer_return_confirmation",
        merchant_id="shop",
        return_id="r-1",
        recipient="lea@example.com",
        message_id=f"<{event_id}.customer_return_confirmation@returns.test>",
        status="sending",
        created_at=NOW,
    )


async def test_one_member_of_many_racing_gets_the_lease(
    stores: list[MongoSentEmailStore],
) -> None:
    for round_number in range(5):
        key = f"lease-{round_number}"
        await stores[0].begin(_planned(key))
        won = await asyncio.gather(
            *(
                store.claim(key, f"member-{index}", NOW, NOW + LEASE)
                for index, store in enumerate(stores)
            )
        )
        assert sum(won) == 1, won


async def test_of_members_racing_to_record_an_email_only_its_creator_holds_the_lease(
    stores: list[MongoSentEmailStore],
) -> None:
    # The record is created with its lease (one write instead of an insert and a claim): the
    # other members find it recorded, do not hold the lease, and cannot claim it while it lasts.
    for round_number in range(5):
        key = f"created-{round_number}"
        begun = await asyncio.gather(
            *(
                store.begin(_planned(key), (f"member-{index}", NOW + LEASE))
                for index, store in enumerate(stores)
            )
        )
        creators = [index for index, (_, leased) in enumerate(begun) if leased]
        assert len(creators) == 1, begun
        others = [store for index, store in enumerate(stores) if index not in creators]
        for index, store in enumerate(others):
            assert not await store.claim(key, f"other-{index}", NOW, NOW + LEASE)
        assert await stores[creators[0]].claim(key, f"member-{creators[0]}", NOW, NOW + LEASE)
        assert await others[0].claim(key, "other-0", NOW + LEASE, NOW + LEASE * 2)


async def test_the_holder_renews_others_wait_until_it_ends_and_sent_is_final(
    stores: list[MongoSentEmailStore],
) -> None:
    store = stores[0]
    await store.begin(_planned("k"))
    assert await store.claim("k", "a", NOW, NOW + LEASE)
    assert await store.claim("k", "a", NOW + timedelta(seconds=5), NOW + LEASE * 2)
    assert not await store.claim("k", "b", NOW + LEASE, NOW + LEASE * 3)
    assert await store.claim("k", "b", NOW + LEASE * 2, NOW + LEASE * 3)
    await store.mark_sent("k", "lea@example.com", NOW + LEASE * 2)
    assert not await store.claim("k", "b", NOW + LEASE * 9, NOW + LEASE * 10)
    assert not await store.claim("missing", "b", NOW, NOW + LEASE)


async def test_the_same_instance_restarted_takes_its_lease_back_at_once_another_waits(
    stores: list[MongoSentEmailStore],
) -> None:
    """The owner is the instance id (`CONSUMER_INSTANCE_ID`): the process restarted after kill -9
    with the lease held (its own store client, as a new process) is the same owner."""
    before_kill, after_restart, other_instance = stores[0], stores[1], stores[2]
    await before_kill.begin(_planned("k"))
    assert await before_kill.claim("k", "notifier-8003", NOW, NOW + LEASE)

    a_second_later = NOW + timedelta(seconds=1)
    assert not await other_instance.claim(
        "k", "notifier-8013", a_second_later, a_second_later + LEASE
    )
    assert await after_restart.claim("k", "notifier-8003", a_second_later, a_second_later + LEASE)
    assert not await other_instance.claim("k", "notifier-8013", NOW + LEASE, NOW + LEASE * 2)
