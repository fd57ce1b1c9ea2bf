"""What the use cases need from storage; the MongoDB repository and the test fakes provide it."""

from __future__ import annotations

from typing import Protocol

from returns_labels.domain.model import TrackedReturn


class ReturnStore(Protocol):
    async def add(self, tracked: TrackedReturn) -> bool:
        """Insert the return; False, changing nothing, when its return_id is already there."""
        ...

    async def get(self, return_id: str) -> TrackedReturn | None: ...
