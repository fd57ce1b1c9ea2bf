"""Issue 15: with the merchant's setting for mixed returns, the classic lines of a mixed return
get their label at once; without it (and from producers that predate it) one defective line
holds the whole return."""

from __future__ import annotations

from returns_contracts import ReturnSubmitted
from returns_contracts.examples import merchant_updated, return_submitted

from .fakes import World
from .test_use_cases import request
from .test_use_cases import world as world  # the fixture


def split(event: ReturnSubmitted) -> ReturnSubmitted:
    payload = event.payload.model_copy(update={"split_mixed": True})
    return event.model_copy(update={"payload": payload})


async def test_a_split_mixed_return_gets_its_label_at_once(world: World) -> None:
    await world.service.automatic.record_merchant(merchant_updated())

    await world.service.automatic.record_submitted(
        split(return_submitted(return_id="r-1", defective=True))
    )

    tracked = world.returns.returns["r-1"]
    [generated] = world.labels("r-1")
    assert tracked.split_mixed is True and tracked.defective is True
    assert tracked.status == "generated"
    assert generated.payload.requested_by is None


async def test_an_unsplit_mixed_return_still_waits_for_the_merchant(world: World) -> None:
    await world.service.automatic.record_merchant(merchant_updated())

    await world.service.automatic.record_submitted(
        return_submitted(return_id="r-1", defective=True)
    )

    assert world.returns.returns["r-1"].status == "awaiting_merchant"
    assert world.labels("r-1") == []


async def test_a_split_return_waits_for_its_merchant_s_address_like_a_classic_one(
    world: World,
) -> None:
    await world.service.automatic.record_submitted(
        split(return_submitted(return_id="r-1", defective=True))
    )
    assert world.labels("r-1") == []

    await world.service.automatic.record_merchant(merchant_updated())

    assert len(world.labels("r-1")) == 1


async def test_a_label_resolution_on_a_split_return_gives_back_its_one_label(
    world: World,
) -> None:
    await world.service.automatic.record_merchant(merchant_updated())
    await world.service.automatic.record_submitted(
        split(return_submitted(return_id="r-1", defective=True))
    )

    await world.service.requests.on_label_requested(request("r-1"))

    first, again = world.labels("r-1")
    assert again.payload.label_id == first.payload.label_id
    assert len(world.carrier.printed) == 1
