"""What the use cases need from storage; the MongoDB repository and the test fakes provide it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from returns_contracts import Message
from returns_declaration.domain.model import Merchant, Order, Return


class DeclarationStore(Protocol):
    async def get_merchant(self, merchant_id: str) -> Merchant | None: ...

    async def save_merchant(self, merchant: Merchant, events: Sequence[Message]) -> Merchant: ...

    async def save_order(self, order: Order) -> None: ...

    async def get_order(self, merchant_id: str, order_number: str) -> Order | None: ...

    async def add_return(
        self, declared: Return, events: Sequence[Message]
    ) -> tuple[Return, bool]: ...

    async def get_return(self, merchant_id: str, return_id: str) -> Return | None: ...
