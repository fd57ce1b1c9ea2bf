"""The MongoDB and S3 adapters of the labels service against the real servers (FerretDB,
versitygw): the conditional writes that keep one live label per return, and the waiting list."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from returns_contracts.examples import label_requested, merchant_updated
from returns_contracts.service_kit.testing import scratch_database
from returns_infra.fixtures import S3Server
from returns_labels.adapters.repository import (
    MongoMerchantStore,
    MongoReturnStore,
    MongoWaitingStore,
)
from returns_labels.domain.model import Contact, Label, TrackedReturn

from .buckets import fresh_label_bucket

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 2, 9, 31, tzinfo=UTC)


@pytest.fixture
async def database(mongodb_url: str) -> AsyncIterator[Any]:
    async with scratch_database(mongodb_url, "labels_test") as database:
        yield database


def tracked(return_id: str = "r-1") -> TrackedReturn:
    return TrackedReturn(
        return_id=return_id,
        merchant_id="m-atelier",
        order_number="CMD-1",
        defective=True,
        status="awaiting_merchant",
        source_event_id=uuid.uuid4(),
        recorded_at=NOW,
        customer=Contact(name="Léa Dupont", email="lea@example.com"),
        correlation_id="c-1",
    )


def label(generation: int) -> Label:
    return Label(
        label_id=f"lbl-{generation}",
        generation=generation,
        tracking_number=f"LR0000000{generation}0FR",
        carrier="local",
        object_key=f"m-atelier/r-1/lbl-{generation}.pdf",
        created_at=NOW,
    )


async def test_a_label_becomes_live_only_over_the_generation_it_was_made_from(
    database: Any,
) -> None:
    store = MongoReturnStore(database)
    assert await store.add(tracked())
    assert not await store.add(tracked())
    command = uuid.uuid4()

    assert await store.commit_label(
        "r-1",
        expected_generation=0,
        label=label(1),
        voided=None,
        voided_at=NOW,
        command_event_id=command,
    )
    # A second worker that also read generation 0 loses: one live label.
    assert not await store.commit_label(
        "r-1",
        expected_generation=0,
        label=label(9),
        voided=None,
        voided_at=NOW,
        command_event_id=None,
    )
    assert await store.commit_label(
        "r-1",
        expected_generation=1,
        label=label(2),
        voided=label(1),
        voided_at=NOW,
        command_event_id=None,
    )

    stored = await store.get("r-1")
    assert stored is not None
    assert stored.status == "generated"
    assert stored.label == label(2)
    assert stored.voided_labels == (label(1),)
    assert stored.label_made_for(command) == label(1)
    assert stored.customer == Contact(name="Léa Dupont", email="lea@example.com")


async def test_the_label_file_lookup_finds_the_return(database: Any) -> None:
    store = MongoReturnStore(database)
    await store.remember_label_file(label(1), "r-1", "m-atelier")
    await store.remember_label_file(label(1), "r-1", "m-atelier")

    assert await store.return_of_label("lbl-1") == "r-1"
    assert await store.return_of_label("lbl-x") is None


async def test_a_merchant_keeps_its_newest_revision(database: Any) -> None:
    store = MongoMerchantStore(database)
    assert await store.save_if_newer(merchant_updated(revision=2))
    assert not await store.save_if_newer(merchant_updated(revision=2))
    assert not await store.save_if_newer(merchant_updated(revision=1))

    merchant = await store.get("m-atelier")
    assert merchant is not None and merchant.revision == 2
    assert merchant.return_address == merchant_updated().payload.return_address


def snapshot(revision: int, *, name: str = "L'Atelier", with_address: bool = True) -> Any:
    update = merchant_updated(revision=revision)
    changes: dict[str, Any] = {"name": name}
    if not with_address:
        changes["return_address"] = None
    return update.model_copy(update={"payload": update.payload.model_copy(update=changes)})


async def test_a_merchant_is_kept_only_while_it_can_receive_parcels(database: Any) -> None:
    """Two processes on one store: what one saves, the other sees at once when the merchant had
    no return address (a classic return parked for it must see the address come), else after
    the time it keeps merchants; its own saves replace what it kept at once."""
    keeping = MongoMerchantStore(database, cache_seconds=600)
    other = MongoMerchantStore(database)
    await other.save_if_newer(snapshot(1, with_address=False))
    assert (await keeping.get("m-atelier")) is not None

    await other.save_if_newer(snapshot(2))
    with_address = await keeping.get("m-atelier")
    assert with_address is not None and with_address.can_receive_parcels

    await other.save_if_newer(snapshot(3, name="Renamed elsewhere"))
    kept = await keeping.get("m-atelier")
    assert kept is not None and kept.revision == 2  # kept: another process's save shows later

    await keeping.save_if_newer(snapshot(4, name="Renamed here"))
    own = await keeping.get("m-atelier")
    assert own is not None and (own.revision, own.name) == (4, "Renamed here")


async def test_waiting_commands_are_kept_once_and_forgotten_when_done(database: Any) -> None:
    waiting = MongoWaitingStore(database)
    command = label_requested(return_id="r-early")
    other = label_requested(return_id="r-late")
    deadline = NOW + timedelta(seconds=30)

    await waiting.park_command(command, deadline)
    await waiting.park_command(command, deadline + timedelta(seconds=5))
    await waiting.park_command(other, deadline)

    parked = await waiting.get("r-early")
    assert parked is not None
    assert parked.commands == (command,)
    assert parked.commands_deadline == deadline
    assert await waiting.return_ids(after=None, limit=10) == ["r-early", "r-late"]
    assert await waiting.return_ids(after="r-early", limit=10) == ["r-late"]

    await waiting.done_with_command("r-early", command)
    assert await waiting.get("r-early") is None
    assert await waiting.return_ids(after=None, limit=10) == ["r-late"]


async def test_labels_waiting_for_a_merchant_are_found_by_merchant(database: Any) -> None:
    waiting = MongoWaitingStore(database)
    await waiting.create_indexes()
    for return_id in ("r-3", "r-1", "r-2"):
        await waiting.park_automatic_label(return_id, "m-atelier")
    await waiting.park_automatic_label("r-1", "m-atelier")
    await waiting.park_automatic_label("r-9", "m-other")

    assert await waiting.automatic_labels_of("m-atelier", after=None, limit=2) == ["r-1", "r-2"]
    assert await waiting.automatic_labels_of("m-atelier", after="r-2", limit=2) == ["r-3"]

    await waiting.done_with_automatic_label("r-2")
    assert await waiting.automatic_labels_of("m-atelier", after=None, limit=10) == ["r-1", "r-3"]


async def test_the_bucket_keeps_and_gives_back_a_pdf(s3_server: S3Server) -> None:
    bucket = fresh_label_bucket(s3_server, "labels-test")
    await bucket.ensure_exists()
    await bucket.ensure_exists()

    await bucket.put("m/r/lbl-1.pdf", b"%PDF-1.4 test")

    assert await bucket.get("m/r/lbl-1.pdf") == b"%PDF-1.4 test"
    assert await bucket.get("m/r/missing.pdf") is None
    assert await bucket.check() is True


async def test_successive_requests_to_the_bucket_share_one_connection(
    s3_server: S3Server, caplog: pytest.LogCaptureFixture
) -> None:
    """The embedded S3 keeps connections open: a connection per label cost a TCP handshake."""
    bucket = fresh_label_bucket(s3_server, "labels-test")
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")

    await bucket.ensure_exists()
    for number in range(5):
        await bucket.put(f"m/r/lbl-{number}.pdf", b"%PDF-1.4 test")
        assert await bucket.get(f"m/r/lbl-{number}.pdf") == b"%PDF-1.4 test"

    # urllib3 says so each time it opens a TCP connection, new or to replace a closed one.
    opened = [
        record
        for record in caplog.records
        if record.getMessage().startswith(("Starting new", "Resetting dropped connection"))
    ]
    assert len(opened) == 1


async def test_a_split_mixed_return_is_read_back_split(database: Any) -> None:
    """Issue 15: whether the classic lines get their label at once survives the store."""
    store = MongoReturnStore(database)
    split = dataclasses.replace(tracked("r-split"), split_mixed=True, status="pending")
    await store.add(split)
    await store.add(tracked("r-whole"))

    read_split = await store.get("r-split")
    read_whole = await store.get("r-whole")

    assert read_split is not None and read_split.split_mixed is True
    assert read_split.awaits_automatic_label
    assert read_whole is not None and read_whole.split_mixed is False
    assert not read_whole.awaits_automatic_label
