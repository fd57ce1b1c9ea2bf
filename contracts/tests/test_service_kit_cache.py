"""The kit's short-lived read cache: kept for its time, then read again; forgotten at once."""

from __future__ import annotations

from returns_contracts.service_kit.cache import RecentReads


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_value_is_kept_for_its_time_and_no_longer() -> None:
    clock = _Clock()
    reads: RecentReads[str, int] = RecentReads(1.0, clock=clock)
    reads.keep("m-1", 7)

    clock.now += 0.9
    assert reads.get("m-1") == 7
    clock.now += 0.1
    assert reads.get("m-1") is None
    assert len(reads) == 0


def test_a_forgotten_value_is_read_again_at_once() -> None:
    reads: RecentReads[str, int] = RecentReads(60.0)
    reads.keep("m-1", 7)
    reads.forget("m-1")
    reads.forget("never-kept")

    assert reads.get("m-1") is None


def test_nothing_is_kept_when_the_time_is_zero() -> None:
    reads: RecentReads[str, int] = RecentReads(0.0)
    reads.keep("m-1", 7)

    assert reads.get("m-1") is None


def test_a_full_cache_starts_again_rather_than_growing() -> None:
    reads: RecentReads[str, int] = RecentReads(60.0, capacity=3)
    for number in range(3):
        reads.keep(f"m-{number}", number)
    reads.keep("m-3", 3)

    assert len(reads) == 1
    assert reads.get("m-3") == 3
    assert reads.get("m-0") is None
