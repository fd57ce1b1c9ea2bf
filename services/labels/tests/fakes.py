"""In-memory stand-ins for the labels service's ports, and the use cases the composition root
builds on them, for unit tests of the use cases and the routes."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from uuid import UUID

from returns_contracts import LabelGenerated, LabelRejected, LabelRequested, MerchantUpdated
from returns_contracts.service_kit.testing import FakeClock, RecordingPublisher
from returns_labels.bootstrap import Adapters, Container, build_container
from returns_labels.config import LabelsSettings
from returns_labels.domain.model import (
    HandledCommand,
    Label,
    LabelContent,
    Merchant,
    TrackedReturn,
)
from returns_labels.service.ports import CarrierLabel, Waiting
from returns_labels.service.use_cases import UseCases


class FakeReturnStore:
    def __init__(self) -> None:
        self.returns: dict[str, TrackedReturn] = {}
        self.label_files: dict[str, str] = {}

    async def add(self, tracked: TrackedReturn) -> bool:
        if tracked.return_id in self.returns:
            return False
        self.returns[tracked.return_id] = tracked
        return True

    async def get(self, return_id: str) -> TrackedReturn | None:
        return self.returns.get(return_id)

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
        tracked = self.returns[return_id]
        if tracked.label_generation != expected_generation:
            return False
        handled = tracked.handled_commands
        if command_event_id is not None:
            handled = (*handled, HandledCommand(command_event_id, label.label_id))
        self.returns[return_id] = dataclasses.replace(
            tracked,
            label=label,
            label_generation=label.generation,
            status="generated",
            voided_labels=(*tracked.voided_labels, *([voided] if voided else [])),
            handled_commands=handled,
        )
        return True

    async def remember_label_file(self, label: Label, return_id: str, merchant_id: str) -> None:
        self.label_files[label.label_id] = return_id

    async def return_of_label(self, label_id: str) -> str | None:
        return self.label_files.get(label_id)


class FakeMerchantStore:
    def __init__(self) -> None:
        self.merchants: dict[str, Merchant] = {}

    async def save_if_newer(self, update: MerchantUpdated) -> bool:
        known = self.merchants.get(update.merchant_id)
        if known is not None and known.revision >= update.payload.revision:
            return False
        self.merchants[update.merchant_id] = Merchant(
            merchant_id=update.merchant_id,
            revision=update.payload.revision,
            name=update.payload.name,
            return_address=update.payload.return_address,
        )
        return True

    async def get(self, merchant_id: str) -> Merchant | None:
        return self.merchants.get(merchant_id)


class FakeWaitingStore:
    def __init__(self) -> None:
        self.waiting: dict[str, Waiting] = {}
        self.for_merchant: dict[str, str] = {}

    async def park_command(self, command: LabelRequested, deadline: datetime) -> None:
        return_id = command.payload.return_id
        known = self.waiting.get(return_id) or Waiting(return_id, (), None)
        commands = known.commands if command in known.commands else (*known.commands, command)
        current = known.commands_deadline
        self.waiting[return_id] = dataclasses.replace(
            known,
            commands=commands,
            commands_deadline=deadline if current is None else min(current, deadline),
        )

    async def get(self, return_id: str) -> Waiting | None:
        return self.waiting.get(return_id)

    async def done_with_command(self, return_id: str, command: LabelRequested) -> None:
        known = self.waiting[return_id]
        left = tuple(one for one in known.commands if one != command)
        if left:
            self.waiting[return_id] = dataclasses.replace(known, commands=left)
        else:
            del self.waiting[return_id]

    async def return_ids(self, *, after: str | None, limit: int) -> list[str]:
        return sorted(key for key in self.waiting if after is None or key > after)[:limit]

    async def park_automatic_label(self, return_id: str, merchant_id: str) -> None:
        self.for_merchant[return_id] = merchant_id

    async def done_with_automatic_label(self, return_id: str) -> None:
        self.for_merchant.pop(return_id, None)

    async def automatic_labels_of(
        self, merchant_id: str, *, after: str | None, limit: int
    ) -> list[str]:
        mine = (key for key, owner in self.for_merchant.items() if owner == merchant_id)
        return sorted(key for key in mine if after is None or key > after)[:limit]


class FakeCarrier:
    name = "fake"

    def __init__(self) -> None:
        self.printed: list[LabelContent] = []

    async def create_label(self, content: LabelContent) -> CarrierLabel:
        self.printed.append(content)
        return CarrierLabel(
            tracking_number=f"TRK-{content.label_id}", pdf=f"PDF {content.label_id}".encode()
        )


class FakeFiles:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    async def put(self, key: str, pdf: bytes) -> None:
        self.files[key] = pdf

    async def get(self, key: str) -> bytes | None:
        return self.files.get(key)


@dataclasses.dataclass
class World:
    """The container the composition root builds on the fakes, and the fakes to look into."""

    container: Container
    returns: FakeReturnStore
    merchants: FakeMerchantStore
    waiting: FakeWaitingStore
    carrier: FakeCarrier
    files: FakeFiles
    publisher: RecordingPublisher
    clock: FakeClock

    @property
    def service(self) -> UseCases:
        return self.container.use_cases

    def labels(self, return_id: str) -> list[LabelGenerated]:
        return [
            message
            for message in self.publisher.published
            if isinstance(message, LabelGenerated) and message.payload.return_id == return_id
        ]

    def rejections(self) -> list[LabelRejected]:
        return [m for m in self.publisher.published if isinstance(m, LabelRejected)]


def world_on_fakes(settings: LabelsSettings, clock: FakeClock) -> World:
    returns, merchants, waiting = FakeReturnStore(), FakeMerchantStore(), FakeWaitingStore()
    carrier, files, publisher = FakeCarrier(), FakeFiles(), RecordingPublisher()
    container = build_container(
        settings,
        Adapters(
            returns=returns,
            merchants=merchants,
            waiting=waiting,
            carrier=carrier,
            files=files,
            publisher=publisher,
            clock=clock,
        ),
    )
    return World(container, returns, merchants, waiting, carrier, files, publisher, clock)
