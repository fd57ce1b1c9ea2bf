"""Store round trips of media's consumer, counted on the wire (issue 11).

Media's use cases on its real store adapter (FerretDB) keep the photos of defective returns
handled side by side, as the consumer does with a batch; a PyMongo command listener counts what
they send to the store. The object store and the image work are the unit tests' stand-ins.
"""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from datetime import timedelta

import pytest

from returns_contracts.service_kit.testing import (
    CommandLog,
    Database,
    FakeClock,
)
from returns_media.adapters.repository import MongoPhotoStore
from returns_media.domain.model import DraftRef, UploadLimits
from returns_media.service.links import LinkSigner
from returns_media.service.use_cases import MediaService, ReceivedFile

from .fakes import SECRET, T0, FakeNormaliser, FakeObjects
from .submitted import return_with_photos

pytestmark = pytest.mark.integration

RETURNS = 10
# Alone, keeping one photo costs 4 commands (the photo, its mark, the draft, the draft's save):
# 40 for ten returns. Side by side, the reads and marks are grouped; each draft's save is its
# own (19 today; the groups drift a little with timing).
TEN_RETURNS_BUDGET = 25


async def _received() -> ReceivedFile:
    return ReceivedFile(io.BytesIO(b"px"), 2, "sha-of-original")


async def test_returns_kept_side_by_side_share_their_store_commands(
    counted: tuple[Database, CommandLog],
) -> None:
    database, listener = counted
    media = MediaService(
        store=MongoPhotoStore(database),
        objects=FakeObjects(),
        normaliser=FakeNormaliser(),
        signer=LinkSigner("unit-link-secret", "https://media.example", timedelta(days=30)),
        limits=UploadLimits(5, 10, timedelta(minutes=10)),
        portal_token_secret=SECRET,
        draft_retention=timedelta(hours=48),
        clock=FakeClock(T0),
    )
    photo_ids = [
        (await media.upload(DraftRef("shop", f"d-{number}"), "1", _received)).photo.photo_id
        for number in range(RETURNS)
    ]
    listener.clear()

    await asyncio.gather(
        *(
            media.record_submitted(return_with_photos("shop", [photo_id], f"r-{number}"))
            for number, photo_id in enumerate(photo_ids)
        )
    )

    report = f"{len(listener.sent)} {dict(Counter(c.split()[0] for c in listener.sent))}"
    print(report)
    assert len(listener.sent) <= TEN_RETURNS_BUDGET, report
    kept = {d["_id"]: d["kept_for_return_id"] async for d in database["photos"].find({})}
    assert kept == {photo_id: f"r-{number}" for number, photo_id in enumerate(photo_ids)}
