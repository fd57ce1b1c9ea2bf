"""The kit's clock, its fake and the publisher fake the four services' tests share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from returns_contracts import LabelRequested, ReturnSubmitted
from returns_contracts.examples import return_submitted
from returns_contracts.service_kit.clock import utc_now, utc_now_millis
from returns_contracts.service_kit.testing import FakeClock, RecordingPublisher

START = datetime(2026, 3, 2, 9, 31, tzinfo=UTC)


def test_the_clock_is_aware_utc_and_the_millisecond_one_is_cut() -> None:
    assert utc_now().tzinfo is UTC
    assert utc_now_millis().microsecond % 1000 == 0


def test_the_fake_clock_stands_still_moves_when_told_or_ticks() -> None:
    still = FakeClock(START)
    assert still() == still() == START
    still.advance(hours=2)
    assert still() == START + timedelta(hours=2)
    still.now = START
    assert still() == START

    ticking = FakeClock(START, tick=timedelta(seconds=1))
    assert [ticking(), ticking()] == [START + timedelta(seconds=1), START + timedelta(seconds=2)]


def test_the_fake_clock_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError):
        FakeClock(datetime(2026, 3, 2, 9, 31))


async def test_the_publisher_fake_keeps_what_was_published_in_order() -> None:
    publisher = RecordingPublisher()
    event = return_submitted()
    await publisher.publish(event)

    assert publisher.published == [event]
    assert publisher.of_type(ReturnSubmitted) == [event]
    assert publisher.of_type(LabelRequested) == []
