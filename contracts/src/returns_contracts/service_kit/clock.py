"""The clock every service injects into its use cases, so tests can set the time.

One definition instead of a `_utc_now` in each service; tests use `testing.FakeClock`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from returns_contracts.envelope import utc_now

Clock = Callable[[], datetime]
"""Answers the current time as an aware UTC datetime."""

__all__ = ["Clock", "utc_now", "utc_now_millis"]


def utc_now_millis() -> datetime:
    """The current UTC time cut to milliseconds, the precision MongoDB stores: a value answered
    right after a write equals what a later read of it gives."""
    now = utc_now()
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
