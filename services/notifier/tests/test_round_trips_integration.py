"""Store round trips of the notifier, counted on the wire (issue 11).

The notifier's use cases on its real store adapters (FerretDB) take returns side by side, as
the consumer does with a batch; a PyMongo command listener counts what they send to the store.
SMTP, media, labels and Kafka are the unit tests' stand-ins: only the store is counted here.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest

from returns_contracts.examples import MERCHANT_ID, merchant_updated, return_submitted
from returns_contracts.service_kit.testing import (
    CommandLog,
    Database,
    RecordingPublisher,
)
from returns_notifier.adapters.repository import (
    MongoMerchantStore,
    MongoReturnStore,
    MongoSentEmailStore,
)
from returns_notifier.bootstrap import Adapters, build_container
from returns_notifier.config import NotifierSettings
from returns_notifier.service.use_cases import Notifier

from .fakes import DOMAIN, FakeLabelFiles, FakePhotoDirectory, FakeSender

pytestmark = pytest.mark.integration

RETURNS = 20
# Alone, a classic return costs 5 commands (its copy, its merchant, the e-mail's record, sent,
# published): 100 for twenty. Side by side, each step of the twenty is a few grouped commands.
TWENTY_RETURNS_BUDGET = 40


def _notifier(
    database: Database, sender: FakeSender, merchant_cache_seconds: float = 0.0
) -> Notifier:
    settings = NotifierSettings(
        mail_from="Returns <returns@demo-shop.example>", message_id_domain=DOMAIN
    )
    return build_container(
        settings,
        Adapters(
            merchants=MongoMerchantStore(database, merchant_cache_seconds),
            returns=MongoReturnStore(database),
            sent_emails=MongoSentEmailStore(database),
            photos=FakePhotoDirectory(),
            labels=FakeLabelFiles(),
            sender=sender,
            publisher=RecordingPublisher(),
        ),
    ).notifier


async def test_returns_handled_side_by_side_share_their_store_commands(
    counted: tuple[Database, CommandLog],
) -> None:
    database, commands = counted
    sender = FakeSender()
    notifier = _notifier(database, sender)
    update = merchant_updated()
    await notifier.record_merchant(update)
    submitted = [
        return_submitted(merchant_id=update.merchant_id, return_id=f"r-{uuid.uuid4().hex[:8]}")
        for _ in range(RETURNS)
    ]
    commands.clear()

    await asyncio.gather(*(notifier.on_return_submitted(event) for event in submitted))

    assert len(sender.sent) == RETURNS
    spent = Counter(command.split()[0] for command in commands.sent)
    assert len(commands.sent) <= TWENTY_RETURNS_BUDGET, spent
    # Each e-mail is recorded as sent and published: none of the grouped writes was lost.
    records = await database["sent_emails"].find({}).to_list(None)
    assert len(records) == RETURNS
    assert all(r["status"] == "sent" and r["published_at"] for r in records)
    assert await database["returns"].count_documents({}) == RETURNS


async def test_returns_one_after_another_read_their_merchant_once(
    counted: tuple[Database, CommandLog],
) -> None:
    database, commands = counted
    sender = FakeSender()
    notifier = _notifier(database, sender, merchant_cache_seconds=600)
    update = merchant_updated()
    await notifier.record_merchant(update)
    commands.clear()

    for _ in range(5):
        await notifier.on_return_submitted(
            return_submitted(merchant_id=update.merchant_id, return_id=f"r-{uuid.uuid4().hex[:8]}")
        )

    assert len(sender.sent) == 5
    assert commands.sent.count("find merchants") == 1, commands.sent


async def test_a_kept_merchant_gives_way_to_a_newer_snapshot_saved_here(
    counted: tuple[Database, CommandLog],
) -> None:
    """Two notifier processes on one store: one keeps what it read; what the other saves shows
    there only after that time, what it saves itself at once."""
    database, _ = counted
    keeping = MongoMerchantStore(database, cache_seconds=600)
    other = MongoMerchantStore(database)
    await other.save_if_newer(merchant_updated(revision=1))
    first = await keeping.get(MERCHANT_ID)
    assert first is not None and first.revision == 1

    await other.save_if_newer(merchant_updated(revision=2))
    kept = await keeping.get(MERCHANT_ID)
    assert kept is not None and kept.revision == 1

    await keeping.save_if_newer(merchant_updated(revision=3))
    own = await keeping.get(MERCHANT_ID)
    assert own is not None and own.revision == 3
