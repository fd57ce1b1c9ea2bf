"""The labels use cases (R10, R11) against in-memory fakes of storage, carrier and Kafka."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from returns_contracts import (
    Actor,
    LabelRequested,
    LabelRequestedPayload,
    MerchantUpdated,
)
from returns_contracts.examples import WAREHOUSE, merchant_updated, return_submitted
from returns_contracts.service_kit.testing import FakeClock
from returns_contracts.signing import InvalidToken
from returns_labels.config import LabelsSettings
from returns_labels.service.errors import LabelChangedMeanwhile
from returns_labels.service.links import LabelLinks

from .fakes import World, world_on_fakes

NOW = datetime(2026, 3, 2, 9, 31, tzinfo=UTC)
SUPPORT = Actor(kind="user", id="u-7")
MERCHANT = "m-atelier"


@pytest.fixture
def world() -> World:
    clock = FakeClock(NOW)
    settings = LabelsSettings(
        labels_base_url="http://labels.test",
        label_link_secret="test-secret",
        label_link_lifetime_days=30,
        label_request_wait_seconds=30,
    )
    return world_on_fakes(settings, clock)


def request(
    return_id: str, merchant_id: str = MERCHANT, regenerate: bool = False
) -> LabelRequested:
    return LabelRequested(
        merchant_id=merchant_id,
        producer="declaration",
        payload=LabelRequestedPayload(
            return_id=return_id, requested_by=SUPPORT, regenerate=regenerate
        ),
    )


async def test_a_classic_return_gets_its_label_at_once(world: World) -> None:
    await world.service.automatic.record_merchant(merchant_updated())
    event = return_submitted(return_id="r-1")

    assert await world.service.automatic.record_submitted(event)

    [generated] = world.labels("r-1")
    tracked = world.returns.returns["r-1"]
    assert tracked.status == "generated"
    assert tracked.label is not None
    assert generated.payload.label_id == tracked.label.label_id
    assert generated.payload.tracking_number == f"TRK-{tracked.label.label_id}"
    assert generated.payload.requested_by is None
    assert generated.correlation_id == event.correlation_id
    assert world.files.files[tracked.label.object_key] == f"PDF {tracked.label.label_id}".encode()
    [printed] = world.carrier.printed
    assert printed.recipient == WAREHOUSE
    assert printed.sender.name == "Léa Dupont"
    assert printed.order_number == "CMD-2026-0042"


async def test_a_redelivery_announces_a_label_whose_announcement_was_lost(
    world: World,
) -> None:
    await world.service.automatic.record_merchant(merchant_updated())
    event = return_submitted(return_id="r-1")
    publish = world.publisher.publish

    async def broker_gone(message: object) -> None:
        raise ConnectionError("Kafka went away")

    world.publisher.publish = broker_gone  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        await world.service.automatic.record_submitted(event)
    world.publisher.publish = publish  # type: ignore[method-assign]
    assert world.returns.returns["r-1"].label is not None

    await world.service.automatic.record_submitted(event)
    await world.service.automatic.record_submitted(event)

    first, again = world.labels("r-1")
    assert first == again  # same event: consumers keep one
    assert len(world.carrier.printed) == 1


async def test_a_defective_return_waits_for_the_merchant_and_nothing_else(world: World) -> None:
    await world.service.automatic.record_merchant(merchant_updated())

    await world.service.automatic.record_submitted(
        return_submitted(return_id="r-1", defective=True)
    )

    assert world.returns.returns["r-1"].status == "awaiting_merchant"
    assert world.publisher.published == []
    assert world.files.files == {}


async def test_a_redelivered_return_makes_no_second_label(world: World) -> None:
    await world.service.automatic.record_merchant(merchant_updated())
    event = return_submitted(return_id="r-1")

    await world.service.automatic.record_submitted(event)
    assert not await world.service.automatic.record_submitted(event)

    # One label; announced again with the same event id, which consumers drop.
    first, again = world.labels("r-1")
    assert first == again
    assert len(world.carrier.printed) == 1


async def test_a_requested_label_is_made_once_then_given_back_then_regenerated(
    world: World,
) -> None:
    await world.service.automatic.record_merchant(merchant_updated())
    await world.service.automatic.record_submitted(
        return_submitted(return_id="r-1", defective=True)
    )

    first_request = request("r-1")
    await world.service.requests.on_label_requested(first_request)
    await world.service.requests.on_label_requested(request("r-1"))
    [first, again] = world.labels("r-1")
    assert first.payload.label_id == again.payload.label_id
    assert first.payload.requested_by == SUPPORT
    assert first.event_id != again.event_id  # two requests, two answers
    assert len(world.carrier.printed) == 1

    regenerate = request("r-1", regenerate=True)
    await world.service.requests.on_label_requested(regenerate)
    renewed = world.labels("r-1")[2]
    assert renewed.payload.label_id != first.payload.label_id
    assert renewed.payload.regenerated
    tracked = world.returns.returns["r-1"]
    assert tracked.label is not None and tracked.label.label_id == renewed.payload.label_id
    assert [old.label_id for old in tracked.voided_labels] == [first.payload.label_id]

    # The same regenerate command delivered again makes no third label, and says the same.
    await world.service.requests.on_label_requested(regenerate)
    assert len(world.carrier.printed) == 2
    assert world.labels("r-1")[3] == renewed
    # So does the first request, redelivered after the regeneration.
    await world.service.requests.on_label_requested(first_request)
    assert world.labels("r-1")[4] == first


async def test_a_request_for_another_merchant_s_return_is_rejected(world: World) -> None:
    await world.service.automatic.record_merchant(merchant_updated())
    await world.service.automatic.record_submitted(
        return_submitted(return_id="r-1", defective=True)
    )

    await world.service.requests.on_label_requested(request("r-1", merchant_id="m-other"))

    [rejected] = world.rejections()
    assert rejected.merchant_id == "m-other"
    assert rejected.payload.reason == "wrong_merchant"
    assert rejected.payload.requested_by == SUPPORT
    assert world.returns.returns["r-1"].label is None


async def test_a_request_before_its_return_waits_then_is_served(world: World) -> None:
    await world.service.automatic.record_merchant(merchant_updated())

    await world.service.requests.on_label_requested(request("r-1"))
    assert world.publisher.published == []
    assert "r-1" in world.waiting.waiting

    await world.service.automatic.record_submitted(
        return_submitted(return_id="r-1", defective=True)
    )

    [generated] = world.labels("r-1")
    assert generated.payload.requested_by == SUPPORT
    assert world.waiting.waiting == {}


async def test_a_regeneration_asked_before_its_classic_return_is_served_by_the_sweep(
    world: World,
) -> None:
    """A classic return does not look for waiting requests on arrival (a store round trip per
    label for a rare case): the sweep serves them, after the automatic label."""
    await world.service.automatic.record_merchant(merchant_updated())
    await world.service.requests.on_label_requested(request("r-1", regenerate=True))

    await world.service.automatic.record_submitted(return_submitted(return_id="r-1"))
    [automatic] = world.labels("r-1")
    assert automatic.payload.requested_by is None

    await world.service.requests.sweep()

    first, regenerated = world.labels("r-1")
    assert first == automatic
    assert regenerated.payload.regenerated and regenerated.payload.requested_by == SUPPORT
    assert world.waiting.waiting == {}


async def test_a_request_whose_return_never_comes_is_rejected_at_the_deadline(
    world: World,
) -> None:
    await world.service.requests.on_label_requested(request("r-ghost"))

    world.clock.now = NOW + timedelta(seconds=29)
    await world.service.requests.sweep()
    assert world.rejections() == []

    world.clock.now = NOW + timedelta(seconds=30)
    await world.service.requests.sweep()
    [rejected] = world.rejections()
    assert rejected.payload.reason == "unknown_return"
    assert "r-ghost" in rejected.payload.detail
    assert world.waiting.waiting == {}


async def test_a_classic_return_before_its_merchant_gets_its_label_when_the_merchant_comes(
    world: World,
) -> None:
    await world.service.automatic.record_submitted(return_submitted(return_id="r-1"))
    assert world.returns.returns["r-1"].status == "pending"
    assert world.publisher.published == []

    no_address = merchant_updated(revision=1)
    no_address = no_address.model_copy(
        update={"payload": no_address.payload.model_copy(update={"return_address": None})}
    )
    await world.service.automatic.record_merchant(no_address)
    assert world.publisher.published == []
    assert world.waiting.for_merchant == {"r-1": MERCHANT}

    await world.service.automatic.record_merchant(merchant_updated(revision=2))

    assert len(world.labels("r-1")) == 1
    assert world.waiting.for_merchant == {}


async def test_a_merchant_without_return_address_gets_a_clear_rejection(world: World) -> None:
    update = merchant_updated()
    no_address = update.model_copy(
        update={"payload": update.payload.model_copy(update={"return_address": None})}
    )
    await world.service.automatic.record_merchant(
        MerchantUpdated.model_validate(no_address.model_dump())
    )
    await world.service.automatic.record_submitted(
        return_submitted(return_id="r-1", defective=True)
    )

    await world.service.requests.on_label_requested(request("r-1"))

    [rejected] = world.rejections()
    assert rejected.payload.reason == "not_ready"
    assert "return address" in rejected.payload.detail


async def test_an_older_merchant_revision_does_not_replace_a_newer_one(world: World) -> None:
    assert await world.service.automatic.record_merchant(merchant_updated(revision=2))
    assert not await world.service.automatic.record_merchant(merchant_updated(revision=1))
    assert world.merchants.merchants[MERCHANT].revision == 2


async def test_a_label_made_meanwhile_by_another_worker_is_not_overwritten(
    world: World,
) -> None:
    await world.service.automatic.record_merchant(merchant_updated())
    await world.service.automatic.record_submitted(
        return_submitted(return_id="r-1", defective=True)
    )
    stale = world.returns.returns["r-1"]
    await world.service.requests.on_label_requested(request("r-1"))
    live = world.returns.returns["r-1"].label

    # A worker that read the return before that label was made must not replace it.
    world.returns.returns["r-1"], current = stale, world.returns.returns["r-1"]
    original_get = world.returns.get

    async def stale_then_current(return_id: str) -> object:
        world.returns.returns["r-1"] = current
        return stale

    world.returns.get = stale_then_current  # type: ignore[assignment,method-assign]
    with pytest.raises(LabelChangedMeanwhile):
        await world.service.requests.on_label_requested(request("r-1"))
    world.returns.get = original_get  # type: ignore[method-assign]
    assert world.returns.returns["r-1"].label == live


async def test_only_the_live_label_s_pdf_is_served(world: World) -> None:
    await world.service.automatic.record_merchant(merchant_updated())
    await world.service.automatic.record_submitted(return_submitted(return_id="r-1"))
    [first] = world.labels("r-1")
    await world.service.requests.on_label_requested(request("r-1", regenerate=True))
    renewed = world.labels("r-1")[1]

    assert await world.service.queries.live_label_pdf(first.payload.label_id) is None
    assert await world.service.queries.live_label_pdf(renewed.payload.label_id) == (
        f"PDF {renewed.payload.label_id}".encode()
    )
    assert await world.service.queries.live_label_pdf("lbl-unknown") is None


def test_a_label_link_is_checked_against_its_label_and_expiry() -> None:
    links = LabelLinks("http://labels.test", "test-secret", timedelta(days=30))
    url = links.url("lbl-1", NOW)
    query = dict(part.split("=", 1) for part in url.split("?", 1)[1].split("&"))
    assert url.startswith("http://labels.test/l/lbl-1.pdf?")

    links.check("lbl-1", query["exp"], query["sig"], NOW + timedelta(days=29))
    with pytest.raises(InvalidToken):
        links.check("lbl-2", query["exp"], query["sig"], NOW)
    with pytest.raises(InvalidToken):
        links.check("lbl-1", query["exp"], query["sig"], NOW + timedelta(days=30))
