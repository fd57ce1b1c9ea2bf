"""Drive journeys: an open loop at a set rate, a closed loop as fast as it goes, or a burst of
submits at a set rate on journeys prepared beforehand."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from returns_bench.http import Http
from returns_bench.journey import (
    JourneyResult,
    Portal,
    Prepared,
    prepare,
    submit_prepared,
    walk,
)
from returns_bench.stats import OpenLoopSchedule, is_defective

Mode = Literal["open", "closed", "burst"]
# Once the last journey was due, how long the unfinished ones may still take (each request
# has its own timeout too): every loop of the bench ends.
GRACE_SECONDS = 120.0


@dataclass(frozen=True)
class LoadPlan:
    mode: Mode
    duration: float
    rate: float = 0.0
    concurrency: int = 4
    defective_share: float = 0.3
    max_in_flight: int = 512
    """Open loop: journeys walking at once at most; a journey waiting for a place still
    counts its latency from its scheduled time."""
    prepare_concurrency: int = 16
    """Burst: journeys walked to their summary at once while preparing."""

    def journeys_needed(self, cap: int) -> int:
        """How many orders to prepare: exactly the schedule for an open loop or a burst, `cap`
        else."""
        if self.mode in ("open", "burst"):
            return OpenLoopSchedule(self.rate, self.duration).count
        return cap


async def run_load(
    http: Http,
    portal: Portal,
    orders: Sequence[str],
    plan: LoadPlan,
    on_done: Callable[[JourneyResult], None] = lambda _: None,
    on_start: Callable[[], None] = lambda: None,
) -> tuple[list[JourneyResult], float]:
    """Every journey's result and the time (epoch seconds) the load started (for a burst, the
    time its submits started). `on_start` is called then: after a burst's preparation."""
    if plan.mode == "burst":
        return await _burst(http, portal, orders, plan, on_done, on_start)
    on_start()
    if plan.mode == "open":
        return await _open_loop(http, portal, orders, plan, on_done)
    return await _closed_loop(http, portal, orders, plan, on_done)


async def _finish(tasks: list[asyncio.Task[JourneyResult]], results: list[JourneyResult]) -> None:
    if not tasks:
        return
    _, pending = await asyncio.wait(tasks, timeout=GRACE_SECONDS)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for result in results:
        if result.finished == 0.0:
            result.error = result.error or "unfinished when the bench stopped waiting"
            result.finished = time.time()


async def _open_loop(
    http: Http,
    portal: Portal,
    orders: Sequence[str],
    plan: LoadPlan,
    on_done: Callable[[JourneyResult], None],
) -> tuple[list[JourneyResult], float]:
    schedule = OpenLoopSchedule(plan.rate, plan.duration)
    places = asyncio.Semaphore(plan.max_in_flight)
    start = time.time() + 0.2
    results: list[JourneyResult] = []
    tasks: list[asyncio.Task[JourneyResult]] = []

    async def journey(result: JourneyResult, order: str) -> JourneyResult:
        async with places:
            await walk(http, portal, order, result)
        on_done(result)
        return result

    for index, offset in enumerate(schedule.offsets()[: len(orders)]):
        due = start + offset
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        result = JourneyResult(index, is_defective(index, plan.defective_share), due)
        results.append(result)
        tasks.append(asyncio.create_task(journey(result, orders[index])))
    await _finish(tasks, results)
    return results, start


async def _closed_loop(
    http: Http,
    portal: Portal,
    orders: Sequence[str],
    plan: LoadPlan,
    on_done: Callable[[JourneyResult], None],
) -> tuple[list[JourneyResult], float]:
    start = time.time()
    deadline = start + plan.duration
    results: list[JourneyResult] = []
    indexes = iter(range(len(orders)))

    async def worker() -> None:
        for index in indexes:
            now = time.time()
            if now >= deadline:
                return
            result = JourneyResult(index, is_defective(index, plan.defective_share), now)
            results.append(result)
            await walk(http, portal, orders[index], result)
            on_done(result)

    workers = [asyncio.create_task(worker()) for _ in range(plan.concurrency)]
    _, pending = await asyncio.wait(workers, timeout=plan.duration + GRACE_SECONDS)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for result in results:
        if result.finished == 0.0:
            result.error = "unfinished when the bench stopped waiting"
            result.finished = time.time()
    return results, start


async def _burst(
    http: Http,
    portal: Portal,
    orders: Sequence[str],
    plan: LoadPlan,
    on_done: Callable[[JourneyResult], None],
    on_start: Callable[[], None],
) -> tuple[list[JourneyResult], float]:
    """Walk every journey to its summary first (`prepare_concurrency` at a time, untimed),
    then fire the submits open loop at `plan.rate` for `plan.duration`: each submit's latency
    counts from its scheduled time."""
    schedule = OpenLoopSchedule(plan.rate, plan.duration)
    count = min(schedule.count, len(orders))
    results = [
        JourneyResult(index, is_defective(index, plan.defective_share), 0.0)
        for index in range(count)
    ]
    prepared: list[Prepared | None] = [None] * count
    indexes = iter(range(count))

    async def preparer() -> None:
        for index in indexes:
            prepared[index] = await prepare(http, portal, orders[index], results[index])
            if prepared[index] is None:
                on_done(results[index])

    await asyncio.gather(*(preparer() for _ in range(max(1, min(plan.prepare_concurrency, count)))))
    places = asyncio.Semaphore(plan.max_in_flight)
    on_start()
    start = time.time() + 0.2
    tasks: list[asyncio.Task[JourneyResult]] = []

    async def fire(result: JourneyResult, ready: Prepared) -> JourneyResult:
        async with places:
            await submit_prepared(http, portal, ready, result)
        on_done(result)
        return result

    for index, offset in enumerate(schedule.offsets()[:count]):
        result, ready = results[index], prepared[index]
        if ready is None:
            continue
        due = start + offset
        delay = due - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        result.due = result.submit_due = due
        tasks.append(asyncio.create_task(fire(result, ready)))
    await _finish(tasks, results)
    return results, start
