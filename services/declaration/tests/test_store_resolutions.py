"""Issue 15, the store's promises about resolutions, on the in-memory fake and on MongoDB (the
embedded FerretDB): a resolution is written with its entry and events in one write, only over
none or an older one; the "to handle" box forgets a resolved return and keeps a split mixed one
until it is resolved."""

from __future__ import annotations

from datetime import timedelta

from returns_declaration.domain.model import Actor, Return, TimelineEntry
from returns_declaration.domain.resolution import Resolution, timeline_kind
from returns_declaration.service.ports import DeclarationStore, ReturnFilter, TimelineChange

from .builders import NOW
from .test_store_contract import _add, _listed, _return
from .test_store_contract import store as store  # the fixture: fake, then MongoDB

JULIE = Actor(kind="user", id="julie@shop.example", display_name="Julie")
WAITING = ReturnFilter(label_status="awaiting_merchant")


def _resolution(kind: str, minutes: int) -> TimelineChange:
    resolution = Resolution.model_validate(
        {
            "kind": kind,
            "note": f"note {minutes}",
            "actor": JULIE,
            "at": NOW + timedelta(minutes=minutes),
            "event_id": f"res-{kind}-{minutes}",
        }
    )
    return TimelineChange(
        entry=TimelineEntry(
            event_id=resolution.event_id,
            kind=timeline_kind(resolution.kind),
            at=resolution.at,
            detail=resolution.note,
            actor=JULIE,
        ),
        resolution=resolution,
    )


async def test_a_resolution_is_kept_on_the_record_with_its_timeline_step(
    store: DeclarationStore,
) -> None:
    declared = await _add(store, _return(1, defective=True))

    assert await store.change_timeline("shop", declared.id, _resolution("replacement", 5))

    record = await store.get_return("shop", declared.id)
    assert record is not None and record.resolution is not None
    assert (record.resolution.kind, record.resolution.note) == ("replacement", "note 5")
    assert record.resolution.actor == JULIE
    assert record.resolution.at == NOW + timedelta(minutes=5)
    assert [entry.kind for entry in record.timeline] == ["submitted", "resolved_replacement"]


async def test_only_a_newer_resolution_replaces_the_recorded_one(store: DeclarationStore) -> None:
    declared = await _add(store, _return(1, defective=True))
    await store.change_timeline("shop", declared.id, _resolution("replacement", 5))

    await store.change_timeline("shop", declared.id, _resolution("declined", 4))
    await store.change_timeline("shop", declared.id, _resolution("label", 5))
    stale = await store.get_return("shop", declared.id)
    await store.change_timeline("shop", declared.id, _resolution("refund_without_return", 6))
    newer = await store.get_return("shop", declared.id)

    assert stale is not None and stale.resolution is not None
    assert stale.resolution.kind == "replacement"
    assert [entry.kind for entry in stale.timeline] == ["submitted", "resolved_replacement"]
    assert newer is not None and newer.resolution is not None
    assert newer.resolution.kind == "refund_without_return"
    assert [entry.kind for entry in newer.timeline][-1] == "resolved_refund_without_return"


async def test_a_resolved_return_leaves_the_to_handle_box(store: DeclarationStore) -> None:
    waiting = await _add(store, _return(1, defective=True))
    resolved = await _add(store, _return(2, defective=True))

    await store.change_timeline("shop", resolved.id, _resolution("refund_without_return", 1))

    assert await _listed(store, WAITING) == [waiting.id]


async def test_a_split_mixed_return_waits_in_the_box_until_resolved(
    store: DeclarationStore,
) -> None:
    base = _return(1, defective=True)
    classic_line = _return(2).lines[0].model_copy(update={"line_id": "2"})
    split = Return.model_validate(
        {**base.model_dump(), "lines": [*base.lines, classic_line], "split_mixed": True}
    )
    await _add(store, split)
    record = await store.get_return("shop", split.id)
    assert record is not None and record.label_status == "pending"
    labelled = TimelineChange(
        entry=TimelineEntry(event_id="gen", kind="label_generated", at=NOW),
        label_status="generated",
    )
    await store.change_timeline("shop", split.id, labelled)

    still_waiting = await _listed(store, WAITING)
    await store.change_timeline("shop", split.id, _resolution("replacement", 3))

    assert still_waiting == [split.id]
    assert await _listed(store, WAITING) == []
