"""Use cases against the in-memory store: events are written with the state they describe."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from returns_contracts import MerchantUpdated, ReturnSubmitted
from returns_declaration.domain.model import RequestedLine, ReturnRequest
from returns_declaration.service.use_cases import DeclarationService, UnknownMerchant

from .builders import merchant, order
from .fakes import InMemoryStore

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class WakeCounter:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> None:
        self.calls += 1


async def configured() -> tuple[DeclarationService, InMemoryStore, WakeCounter]:
    store = InMemoryStore()
    wake = WakeCounter()
    service = DeclarationService(store, wake, "http://bo.example/", clock=lambda: NOW)
    await service.configure_merchant(merchant(), "corr-1")
    await service.save_order(order())
    return service, store, wake


REQUEST = ReturnRequest(
    order_number="A-1",
    email="ana@example.com",
    lines=(
        RequestedLine(
            line_id="1",
            quantity=2,
            reason_code="damaged",
            comment="Broken in two pieces.",
            media_ids=("p1", "p2"),
        ),
    ),
)


async def test_configuring_a_merchant_publishes_its_next_revision() -> None:
    service, store, _ = await configured()
    await service.configure_merchant(merchant(), "corr-2")
    revisions = [
        event.payload.revision for event in store.outbox if isinstance(event, MerchantUpdated)
    ]
    assert revisions == [1, 2]


async def test_submit_stores_the_return_with_its_event_and_wakes_the_relay() -> None:
    service, store, wake = await configured()
    outcome = await service.submit_return("shop", REQUEST, None, "corr-3")
    [event] = [event for event in store.outbox if isinstance(event, ReturnSubmitted)]
    assert outcome.created
    assert event.payload.return_id == outcome.declared.id
    assert event.payload.defective is True
    assert event.payload.items[0].media_ids == ["p1", "p2"]
    assert event.correlation_id == "corr-3"
    assert event.payload.back_office_url == (
        f"http://bo.example/merchants/shop/returns/{outcome.declared.id}"
    )
    assert wake.calls == 2  # the merchant, then the return


async def test_the_same_idempotency_key_gives_the_same_return_and_one_event() -> None:
    service, store, _ = await configured()
    first = await service.submit_return("shop", REQUEST, "key-1", "c")
    second = await service.submit_return("shop", REQUEST, "key-1", "c")
    assert first.declared.id == second.declared.id
    assert (first.created, second.created) == (True, False)
    assert sum(isinstance(event, ReturnSubmitted) for event in store.outbox) == 1


async def test_a_merchant_never_reads_another_merchants_return() -> None:
    service, _, _ = await configured()
    outcome = await service.submit_return("shop", REQUEST, None, "c")
    assert await service.get_return("other-shop", outcome.declared.id) is None


async def test_unknown_merchant_is_reported() -> None:
    service, _, _ = await configured()
    with pytest.raises(UnknownMerchant):
        await service.submit_return("nobody", REQUEST, None, "c")
