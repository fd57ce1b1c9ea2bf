"""What becomes of a reservation whose submit did not say it finished (no I/O here).

A submit notes that it is about to reserve, reserves the quantities on the order, inserts the
return with its event, then settles the note. A note left behind means the process died (or
the store failed) somewhere in between. The reconciler looks at notes older than a grace
period and decides:

- the return exists: the submit got through its insert; the reservation is the return's for
  good, and only the note is left to drop (**complete**);
- the return does not exist and the note is older than the grace period: the submit died
  before its insert and its client did not retry in time; the quantities go back to the order
  (**release**), and a client that retries later reserves them again;
- younger than the grace period: a submit may still be under way, or its client retrying
  (**wait**).

The grace period is long next to a submit (seconds) so that a live submit is never released
under its feet; a retry refreshes the note's time, which pushes it out again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


@dataclass(frozen=True)
class PendingReservation:
    """A submit's note: `return_id` is reserving on the order, and has not said it finished."""

    merchant_id: str
    order_number: str
    return_id: str
    noted_at: datetime


class Fate(StrEnum):
    COMPLETE = "complete"
    RELEASE = "release"
    WAIT = "wait"


def fate_of(
    pending: PendingReservation, return_exists: bool, now: datetime, grace: timedelta
) -> Fate:
    """What the reconciler does with one note (see the module docstring)."""
    if return_exists:
        return Fate.COMPLETE
    if now - pending.noted_at >= grace:
        return Fate.RELEASE
    return Fate.WAIT
