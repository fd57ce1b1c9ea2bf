"""What a process read from its store a moment ago, kept for a moment: a merchant is read by
every portal call, label and e-mail of its returns, and changes a few times a year.

A value is kept `seconds` after it was read. The process's own change replaces or forgets it
at once; a change another process makes shows here at most `seconds` later, as if its event
had arrived that much later. Nothing is kept when `seconds` is 0.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from time import monotonic
from typing import Generic, TypeVar

Key = TypeVar("Key", bound=Hashable)
Value = TypeVar("Value")

# Past this many entries the whole cache is dropped: simpler than an eviction order, and a
# shop's merchants fit many times over.
DEFAULT_CAPACITY = 10_000


class RecentReads(Generic[Key, Value]):
    def __init__(
        self,
        seconds: float,
        *,
        capacity: int = DEFAULT_CAPACITY,
        clock: Callable[[], float] = monotonic,
    ) -> None:
        self.seconds = seconds
        self.capacity = capacity
        self._clock = clock
        self._kept: dict[Key, tuple[float, Value]] = {}

    def get(self, key: Key) -> Value | None:
        """The value read less than `seconds` ago, else None."""
        kept = self._kept.get(key)
        if kept is None:
            return None
        if kept[0] <= self._clock():
            del self._kept[key]
            return None
        return kept[1]

    def keep(self, key: Key, value: Value) -> None:
        if self.seconds <= 0:
            return
        if len(self._kept) >= self.capacity:
            self._kept.clear()
        self._kept[key] = (self._clock() + self.seconds, value)

    def forget(self, key: Key) -> None:
        self._kept.pop(key, None)

    def __len__(self) -> int:
        return len(self._kept)
