"""The one fake of the injected clock (`service_kit.clock.Clock`)."""

from __future__ import annotations

from datetime import datetime, timedelta


class FakeClock:
    """Answers `now`; the test sets it (`clock.now = ...`) or moves it (`clock.advance(...)`).

    `tick`: how far each reading moves the time first, for code that must see time pass
    between two readings (timestamps in order); zero by default, a clock that stands still.
    """

    def __init__(self, start: datetime, *, tick: timedelta = timedelta(0)) -> None:
        if start.tzinfo is None:
            raise ValueError("the fake clock answers aware datetimes, like the real one")
        self.now = start
        self.tick = tick

    def __call__(self) -> datetime:
        self.now += self.tick
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the time forward: `clock.advance(hours=2)`."""
        self.now += timedelta(**delta)
