"""Percentiles, open-loop schedules and per-second counts: the arithmetic of a benchmark."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

PERCENTILES: tuple[float, ...] = (50.0, 95.0, 99.0)


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank percentile (the smallest value with at least q % of values at or below
    it), so p100 is the maximum and every answer is a value that was measured."""
    if not values:
        raise ValueError("no values")
    if not 0.0 < q <= 100.0:
        raise ValueError(f"percentile {q} is outside (0, 100]")
    ordered = sorted(values)
    rank = math.ceil(q / 100.0 * len(ordered))
    return ordered[max(rank, 1) - 1]


def summary(values: Sequence[float], scale: float = 1.0) -> dict[str, float | int | None]:
    """count, p50, p95, p99, max and mean of `values` times `scale` (1000: seconds to ms)."""
    if not values:
        return {"count": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    ordered = sorted(values)
    result: dict[str, float | int | None] = {"count": len(ordered)}
    for q in PERCENTILES:
        result[f"p{q:g}"] = round(percentile(ordered, q) * scale, 3)
    result["max"] = round(ordered[-1] * scale, 3)
    result["mean"] = round(sum(ordered) / len(ordered) * scale, 3)
    return result


@dataclass(frozen=True)
class OpenLoopSchedule:
    """Arrivals at a fixed rate, decided before the run: arrival i is due at start + i / rate,
    whatever happened to the arrivals before it. Latency is counted from the due time, so a
    stall of the system shows in every arrival it delayed (no coordinated omission)."""

    rate: float
    duration: float

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.duration <= 0:
            raise ValueError("an open loop needs a positive rate and duration")

    @property
    def count(self) -> int:
        return max(1, math.floor(self.rate * self.duration + 1e-9))

    def offset(self, index: int) -> float:
        """Seconds after the start at which arrival `index` is due."""
        if not 0 <= index < self.count:
            raise IndexError(index)
        return index / self.rate

    def offsets(self) -> list[float]:
        return [self.offset(index) for index in range(self.count)]


def per_second(times: Iterable[float], start: float, seconds: int) -> list[int]:
    """How many of `times` fell in each whole second after `start`, for `seconds` seconds;
    times outside the window are left out."""
    buckets = [0] * max(seconds, 0)
    for at in times:
        index = math.floor(at - start)
        if 0 <= index < len(buckets):
            buckets[index] += 1
    return buckets


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 3) if seconds > 0 else 0.0


def is_defective(index: int, share: float) -> bool:
    """Whether arrival `index` is defective, so that any run of arrivals holds `share` of them,
    evenly spread (0.3: 3 of every 10)."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"a share is between 0 and 1, not {share}")
    return int((index + 1) * share + 1e-9) > int(index * share + 1e-9)
