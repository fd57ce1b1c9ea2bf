"""Issue 15, the use case on in-memory fakes: a resolution's event, timeline step and label
request go out in one write; the same decision again publishes nothing; a newer one replaces
it; the "to handle" box forgets resolved returns; a split mixed return keeps waiting there."""

from __future__ import annotations

from datetime import timedelta

import pytest

from returns_contracts import LabelRequested, ReturnResolved, ReturnSubmitted
from returns_contracts.service_kit.testing import FakeClock
from returns_declaration.domain.model import Actor, MerchantSettings
from returns_declaration.domain.resolution import NotAllowedToResolve, ResolutionOutdated
from returns_declaration.domain.rules import DeclarationRejected
from returns_declaration.service.errors import NotFound
from returns_declaration.service.ports import ReturnFilter, ReturnRecord

from .builders import NOW, merchant
from .test_use_cases import Harness

JULIE = Actor(kind="user", id="julie@shop.example", display_name="Julie")


@pytest.fixture
async def harness() -> Harness:
    harness = Harness()
    await harness.with_shop()
    return harness


async def _defective_return(harness: Harness) -> str:
    session = await harness.session()
    outcome = await harness.service.portal.submit(
        session, await harness.mixed_draft(session), None, "c"
    )
    return outcome.record.declared.id


def _clock(harness: Harness) -> FakeClock:
    clock = harness.service.resolutions.clock
    assert isinstance(clock, FakeClock)
    return clock


async def _resolve(
    harness: Harness, return_id: str, kind: str, note: str | None = None, merchant_id: str = "shop"
) -> ReturnRecord:
    return await harness.service.resolutions.resolve(
        merchant_id,
        return_id,
        kind=kind,
        note=note,
        resolver="user",
        actor=JULIE,
        locale="fr",
        correlation_id="corr",
    )


def _published(harness: Harness, kind: type) -> list:  # type: ignore[type-arg]
    return [event for event in harness.store.outbox if isinstance(event, kind)]


async def test_a_resolution_publishes_return_resolved_and_joins_the_timeline(
    harness: Harness,
) -> None:
    return_id = await _defective_return(harness)
    wakes = harness.wakes
    _clock(harness).advance(minutes=3)

    record = await _resolve(harness, return_id, "replacement", "  A new mug is on its way.  ")

    [event] = _published(harness, ReturnResolved)
    assert event.merchant_id == "shop" and event.correlation_id == "corr"
    assert event.payload.return_id == return_id
    assert event.payload.resolution == "replacement"
    assert event.payload.note == "A new mug is on its way."
    assert event.payload.resolved_by.id == JULIE.id
    assert event.payload.resolved_at == NOW + timedelta(minutes=3)
    assert _published(harness, LabelRequested) == []
    assert record.resolution is not None and record.resolution.kind == "replacement"
    assert [entry.kind for entry in record.timeline] == ["submitted", "resolved_replacement"]
    assert record.timeline[-1].detail == "A new mug is on its way."
    assert record.label_status == "awaiting_merchant"
    assert harness.wakes == wakes + 1


async def test_a_label_resolution_also_asks_for_the_label_in_the_same_write(
    harness: Harness,
) -> None:
    return_id = await _defective_return(harness)
    _clock(harness).advance(minutes=1)

    record = await _resolve(harness, return_id, "label")

    [resolved] = _published(harness, ReturnResolved)
    [request] = _published(harness, LabelRequested)
    assert request.payload.return_id == return_id and request.payload.regenerate is False
    assert request.payload.requested_by.id == JULIE.id
    assert resolved.correlation_id == request.correlation_id
    assert record.label_status == "requested"


async def test_the_same_decision_twice_publishes_once(harness: Harness) -> None:
    return_id = await _defective_return(harness)
    _clock(harness).advance(minutes=1)
    await _resolve(harness, return_id, "declined", "The mug was broken by a fall.")
    _clock(harness).advance(minutes=1)

    again = await _resolve(harness, return_id, "declined", "The mug was broken by a fall.")

    assert len(_published(harness, ReturnResolved)) == 1
    assert [entry.kind for entry in again.timeline].count("resolved_declined") == 1


async def test_a_newer_resolution_replaces_the_current_one_and_both_stay_on_the_timeline(
    harness: Harness,
) -> None:
    return_id = await _defective_return(harness)
    _clock(harness).advance(minutes=1)
    await _resolve(harness, return_id, "declined", "The mug was broken by a fall.")
    _clock(harness).advance(minutes=1)

    record = await _resolve(harness, return_id, "refund_without_return")

    assert record.resolution is not None and record.resolution.kind == "refund_without_return"
    assert [entry.kind for entry in record.timeline] == [
        "submitted",
        "resolved_declined",
        "resolved_refund_without_return",
    ]
    assert [e.payload.resolution for e in _published(harness, ReturnResolved)] == [
        "declined",
        "refund_without_return",
    ]


async def test_a_decision_not_newer_than_the_recorded_one_is_refused(harness: Harness) -> None:
    return_id = await _defective_return(harness)
    _clock(harness).advance(minutes=1)
    await _resolve(harness, return_id, "replacement")
    _clock(harness).now -= timedelta(seconds=30)  # another process, its clock a little behind

    with pytest.raises(ResolutionOutdated):
        await _resolve(harness, return_id, "refund_without_return")

    assert len(_published(harness, ReturnResolved)) == 1


async def test_the_store_refuses_a_resolution_older_than_one_written_meanwhile(
    harness: Harness,
) -> None:
    """The race: both read "no resolution"; the later write must not undo the newer one."""
    return_id = await _defective_return(harness)
    _clock(harness).advance(minutes=2)
    stale = await harness.store.get_return("shop", return_id)
    await _resolve(harness, return_id, "replacement")
    _clock(harness).now -= timedelta(minutes=1)
    original_get = harness.store.get_return
    reads = 0

    async def first_read_is_stale(merchant_id: str, wanted: str) -> ReturnRecord | None:
        nonlocal reads
        reads += 1
        return stale if reads == 1 else await original_get(merchant_id, wanted)

    harness.store.get_return = first_read_is_stale  # type: ignore[method-assign,assignment]

    with pytest.raises(ResolutionOutdated):
        await _resolve(harness, return_id, "refund_without_return")

    harness.store.get_return = original_get  # type: ignore[method-assign]
    record = await harness.store.get_return("shop", return_id)
    assert record is not None and record.resolution is not None
    assert record.resolution.kind == "replacement"
    assert len(_published(harness, ReturnResolved)) == 1


async def test_only_this_merchant_s_defective_returns_are_resolved(harness: Harness) -> None:
    return_id = await _defective_return(harness)
    await harness.with_shop("other")

    with pytest.raises(NotFound):
        await _resolve(harness, return_id, "replacement", merchant_id="other")
    with pytest.raises(NotAllowedToResolve):
        await harness.service.resolutions.resolve(
            "shop",
            return_id,
            kind="replacement",
            note=None,
            resolver="operator",
            actor=JULIE,
            locale="fr",
            correlation_id="c",
        )
    with pytest.raises(DeclarationRejected):
        await _resolve(harness, return_id, "declined", "")

    assert _published(harness, ReturnResolved) == []


async def test_a_resolved_return_leaves_the_to_handle_box(harness: Harness) -> None:
    return_id = await _defective_return(harness)
    waiting = ReturnFilter(label_status="awaiting_merchant")
    before = await harness.service.back_office.list_returns("shop", waiting, 10, None)
    _clock(harness).advance(minutes=1)

    await _resolve(harness, return_id, "refund_without_return")

    after = await harness.service.back_office.list_returns("shop", waiting, 10, None)
    assert [record.declared.id for record in before.records] == [return_id]
    assert after.records == []


async def test_with_the_setting_on_a_mixed_return_is_labelled_at_once_and_waits_to_be_resolved(
    harness: Harness,
) -> None:
    shop = merchant().model_copy(update={"split_mixed_returns": True})
    settings = MerchantSettings.model_validate(
        shop.model_dump(include=set(MerchantSettings.model_fields))
    )
    await harness.service.merchants.configure_merchant("shop", settings, "c")

    return_id = await _defective_return(harness)

    [submitted] = _published(harness, ReturnSubmitted)
    assert submitted.payload.defective is True and submitted.payload.split_mixed is True
    record = await harness.store.get_return("shop", return_id)
    assert record is not None and record.label_status == "pending"
    waiting = ReturnFilter(label_status="awaiting_merchant")
    listed = await harness.service.back_office.list_returns("shop", waiting, 10, None)
    assert [found.declared.id for found in listed.records] == [return_id]
