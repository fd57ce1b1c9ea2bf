"""In-memory stand-in for the declaration store, for unit tests of the use cases only."""

from __future__ import annotations

from collections.abc import Sequence

from returns_contracts import Message
from returns_declaration.domain.model import Merchant, Order, Return


class InMemoryStore:
    def __init__(self) -> None:
        self.merchants: dict[str, Merchant] = {}
        self.orders: dict[tuple[str, str], Order] = {}
        self.returns: dict[str, Return] = {}
        self.outbox: list[Message] = []

    async def get_merchant(self, merchant_id: str) -> Merchant | None:
        return self.merchants.get(merchant_id)

    async def save_merchant(self, merchant: Merchant, events: Sequence[Message]) -> Merchant:
        self.merchants[merchant.id] = merchant
        self.outbox.extend(events)
        return merchant

    async def save_order(self, order: Order) -> None:
        self.orders[(order.merchant_id, order.number)] = order

    async def get_order(self, merchant_id: str, order_number: str) -> Order | None:
        return self.orders.get((merchant_id, order_number))

    async def add_return(self, declared: Return, events: Sequence[Message]) -> tuple[Return, bool]:
        if declared.id in self.returns:
            return self.returns[declared.id], False
        self.returns[declared.id] = declared
        self.outbox.extend(events)
        return declared, True

    async def get_return(self, merchant_id: str, return_id: str) -> Return | None:
        found = self.returns.get(return_id)
        return found if found is not None and found.merchant_id == merchant_id else None
