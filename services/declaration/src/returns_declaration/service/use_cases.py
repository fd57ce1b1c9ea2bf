"""Use cases of the declaration service: configure a merchant, load orders, submit a return."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from returns_declaration.domain.model import Merchant, Order, Return, ReturnRequest
from returns_declaration.domain.rules import declare_return
from returns_declaration.service.events import merchant_updated, return_submitted
from returns_declaration.service.ports import DeclarationStore

PRODUCER = "declaration"
# Fixed namespace so that the same idempotency key always names the same return.
_RETURN_ID_NAMESPACE = uuid.UUID("0b7c8a52-58a8-4d0c-9a47-3f4c1d3e6a10")


class UnknownMerchant(LookupError):
    pass


@dataclass(frozen=True)
class Submission:
    declared: Return
    created: bool


def return_id_for(merchant_id: str, idempotency_key: str | None) -> str:
    if idempotency_key:
        return str(uuid.uuid5(_RETURN_ID_NAMESPACE, f"{merchant_id}:{idempotency_key}"))
    return str(uuid.uuid4())


def _utc_now() -> datetime:
    # Milliseconds, as MongoDB stores them: the answer to a submit equals what a read gives.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


class DeclarationService:
    def __init__(
        self,
        store: DeclarationStore,
        on_events: Callable[[], None],
        back_office_base_url: str,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.store = store
        self.on_events = on_events
        self.back_office_base_url = back_office_base_url.rstrip("/")
        self.clock = clock

    async def configure_merchant(self, merchant: Merchant, correlation_id: str) -> Merchant:
        current = await self.store.get_merchant(merchant.id)
        next_revision = 1 if current is None else current.revision + 1
        stored = merchant.model_copy(update={"revision": next_revision})
        event = merchant_updated(stored, self.back_office_base_url, correlation_id, PRODUCER)
        saved = await self.store.save_merchant(stored, [event])
        self.on_events()
        return saved

    async def save_order(self, order: Order) -> None:
        if await self.store.get_merchant(order.merchant_id) is None:
            raise UnknownMerchant(order.merchant_id)
        await self.store.save_order(order)

    async def submit_return(
        self,
        merchant_id: str,
        request: ReturnRequest,
        idempotency_key: str | None,
        correlation_id: str,
    ) -> Submission:
        merchant = await self.store.get_merchant(merchant_id)
        if merchant is None:
            raise UnknownMerchant(merchant_id)
        return_id = return_id_for(merchant_id, idempotency_key)
        if idempotency_key:
            existing = await self.store.get_return(merchant_id, return_id)
            if existing is not None:
                return Submission(existing, created=False)
        order = await self.store.get_order(merchant_id, request.order_number)
        declared = declare_return(merchant, order, request, return_id=return_id, now=self.clock())
        event = return_submitted(declared, self.back_office_url(declared), correlation_id, PRODUCER)
        stored, created = await self.store.add_return(declared, [event])
        if created:
            self.on_events()
        return Submission(stored, created)

    async def get_return(self, merchant_id: str, return_id: str) -> Return | None:
        return await self.store.get_return(merchant_id, return_id)

    def back_office_url(self, declared: Return) -> str:
        return f"{self.back_office_base_url}/merchants/{declared.merchant_id}/returns/{declared.id}"
