"""The labels use cases and HTTP answers against an in-memory store."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from fastapi import FastAPI

from returns_contracts.examples import return_submitted
from returns_labels.domain.model import TrackedReturn
from returns_labels.entrypoints.http import labels_router
from returns_labels.service.use_cases import LabelsService

NOW = datetime(2026, 3, 2, 9, 31, tzinfo=UTC)


class FakeReturnStore:
    def __init__(self) -> None:
        self.returns: dict[str, TrackedReturn] = {}

    async def add(self, tracked: TrackedReturn) -> bool:
        if tracked.return_id in self.returns:
            return False
        self.returns[tracked.return_id] = tracked
        return True

    async def get(self, return_id: str) -> TrackedReturn | None:
        return self.returns.get(return_id)


@pytest.fixture
def store() -> FakeReturnStore:
    return FakeReturnStore()


@pytest.fixture
def service(store: FakeReturnStore) -> LabelsService:
    return LabelsService(store, clock=lambda: NOW)


async def test_a_classic_return_is_recorded_label_pending(
    store: FakeReturnStore, service: LabelsService
) -> None:
    event = return_submitted(defective=False, return_id="r-classic")

    assert await service.record_submitted(event)

    assert store.returns["r-classic"] == TrackedReturn(
        return_id="r-classic",
        merchant_id="m-atelier",
        order_number="CMD-2026-0042",
        defective=False,
        status="label_pending",
        source_event_id=event.event_id,
        recorded_at=NOW,
    )


async def test_a_defective_return_is_recorded_awaiting_the_merchant(
    store: FakeReturnStore, service: LabelsService
) -> None:
    await service.record_submitted(return_submitted(defective=True, return_id="r-defective"))

    assert store.returns["r-defective"].status == "awaiting_merchant"
    assert store.returns["r-defective"].defective


async def test_a_redelivered_return_changes_nothing(
    store: FakeReturnStore, service: LabelsService
) -> None:
    event = return_submitted(return_id="r-1")
    await service.record_submitted(event)
    first = store.returns["r-1"]

    later = LabelsService(store, clock=lambda: NOW.replace(hour=12))
    assert not await later.record_submitted(event)

    assert store.returns == {"r-1": first}


async def test_the_label_status_is_given_to_the_return_s_merchant_only(
    service: LabelsService,
) -> None:
    await service.record_submitted(return_submitted(return_id="r-1", merchant_id="m-atelier"))

    found = await service.label_status("m-atelier", "r-1")
    assert found is not None and found.status == "label_pending"
    assert await service.label_status("m-other", "r-1") is None
    assert await service.label_status("m-atelier", "r-unknown") is None


async def test_the_label_endpoint_answers_the_status_or_a_404(service: LabelsService) -> None:
    await service.record_submitted(return_submitted(return_id="r-1", defective=True))
    app = FastAPI()
    app.include_router(labels_router(service))
    transport = httpx.ASGITransport(app=app)

    async with httpx.AsyncClient(transport=transport, base_url="http://labels") as client:
        found = await client.get("/v1/merchants/m-atelier/returns/r-1/label")
        unknown = await client.get("/v1/merchants/m-atelier/returns/r-2/label")
        foreign = await client.get("/v1/merchants/m-other/returns/r-1/label")

    assert found.status_code == 200
    assert found.json() == {
        "return_id": "r-1",
        "merchant_id": "m-atelier",
        "status": "awaiting_merchant",
    }
    not_found = {"error": {"code": "not_found", "message": "No such return.", "fields": []}}
    assert (unknown.status_code, unknown.json()) == (404, not_found)
    assert (foreign.status_code, foreign.json()) == (404, not_found)
