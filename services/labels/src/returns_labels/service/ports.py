"""What the use cases need from the outside; the adapters and the test fakes provide it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

from returns_contracts import LabelRequested, MerchantUpdated
from returns_labels.domain.model import Label, LabelContent, Merchant, TrackedReturn


class ReturnStore(Protocol):
    async def add(self, tracked: TrackedReturn) -> bool:
        """Insert the return; False, changing nothing, when its return_id is already there."""
        ...

    async def get(self, return_id: str) -> TrackedReturn | None: ...

    async def commit_label(
        self,
        return_id: str,
        *,
        expected_generation: int,
        label: Label,
        voided: Label | None,
        voided_at: datetime,
        command_event_id: UUID | None,
    ) -> bool:
        """Make `label` the live one, in one document write, only if the return still has
        `expected_generation` labels; False, changing nothing, otherwise."""
        ...

    async def remember_label_file(self, label: Label, return_id: str, merchant_id: str) -> None:
        """Record which return a label id belongs to, for the download link."""
        ...

    async def return_of_label(self, label_id: str) -> str | None: ...


class MerchantStore(Protocol):
    async def save_if_newer(self, update: MerchantUpdated) -> bool: ...

    async def get(self, merchant_id: str) -> Merchant | None: ...


@dataclass(frozen=True, slots=True)
class Waiting:
    """Label requests for one return that cannot be served yet: the return (or its merchant)
    is not known yet."""

    return_id: str
    commands: tuple[LabelRequested, ...]
    commands_deadline: datetime | None
    """After it, a command still waiting is rejected instead of waiting longer."""


class WaitingStore(Protocol):
    async def park_command(self, command: LabelRequested, deadline: datetime) -> None: ...

    async def get(self, return_id: str) -> Waiting | None: ...

    async def done_with_command(self, return_id: str, command: LabelRequested) -> None: ...

    async def return_ids(self, *, after: str | None, limit: int) -> list[str]:
        """Up to `limit` returns with requests waiting, in return_id order, after `after`."""
        ...

    async def park_automatic_label(self, return_id: str, merchant_id: str) -> None:
        """A classic return's label waits for its merchant's return address."""
        ...

    async def done_with_automatic_label(self, return_id: str) -> None: ...

    async def automatic_labels_of(
        self, merchant_id: str, *, after: str | None, limit: int
    ) -> list[str]:
        """Up to `limit` returns of the merchant whose label waits, in return_id order."""
        ...


@dataclass(frozen=True, slots=True)
class CarrierLabel:
    tracking_number: str
    pdf: bytes


class Carrier(Protocol):
    """Who ships the parcel and prints its label. The same `label_id` always gives the same
    tracking number, so a retried request does not book a second parcel."""

    name: str

    async def create_label(self, content: LabelContent) -> CarrierLabel: ...


class LabelFiles(Protocol):
    async def put(self, key: str, pdf: bytes) -> None: ...

    async def get(self, key: str) -> bytes | None: ...
