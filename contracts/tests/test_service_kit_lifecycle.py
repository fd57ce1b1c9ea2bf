"""The kit's process lifecycle: start order, stop order, loops that outlive a failing round.

The broker is a stand-in that records start and stop: this tests the order, not Kafka.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import cast

import pytest
from faststream.kafka import KafkaBroker

from returns_contracts.service_kit.lifecycle import (
    background,
    every,
    running,
    side_by_side,
    started,
)


class Steps:
    def __init__(self) -> None:
        self.done: list[str] = []

    def step(self, name: str) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            self.done.append(name)

        return run

    def sync_step(self, name: str) -> Callable[[], None]:
        def run() -> None:
            self.done.append(name)

        return run


class Broker:
    def __init__(self, steps: Steps) -> None:
        self.steps = steps

    async def start(self) -> None:
        self.steps.done.append("broker started")

    async def stop(self) -> None:
        self.steps.done.append("broker stopped")


async def _deadline(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while not condition():
        assert loop.time() < end, "condition not met in time"
        await asyncio.sleep(0.005)


async def test_start_prepares_then_broker_then_loops_and_stop_reverses_it() -> None:
    steps = Steps()
    looped = asyncio.Event()

    async def loop() -> None:
        steps.done.append("loop started")
        looped.set()
        try:
            await asyncio.Event().wait()
        finally:
            steps.done.append("loop stopped")

    async with running(
        cast(KafkaBroker, Broker(steps)),
        prepare=[steps.step("indexes"), steps.step("bucket")],
        loops={"sweep": loop},
        close=[steps.sync_step("normaliser closed"), steps.step("mongo closed")],
    ):
        await asyncio.wait_for(looped.wait(), 5)
        assert steps.done == ["indexes", "bucket", "broker started", "loop started"]

    assert steps.done[4:] == [
        "loop stopped",
        "broker stopped",
        "normaliser closed",
        "mongo closed",
    ]


async def test_clients_are_closed_even_when_preparing_fails() -> None:
    steps = Steps()

    async def broken() -> None:
        raise ConnectionError("no MongoDB")

    with pytest.raises(ConnectionError):
        async with running(
            cast(KafkaBroker, Broker(steps)),
            prepare=[broken],
            close=[steps.step("mongo closed")],
        ):
            pass  # pragma: no cover

    assert steps.done == ["mongo closed"]


async def test_a_failing_round_does_not_end_the_loop() -> None:
    rounds: list[int] = []

    async def work() -> None:
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("S3 went away")

    async with background({"clean-up": every(0.001, work, "clean-up")}):
        await _deadline(lambda: len(rounds) >= 3)

    count = len(rounds)
    await asyncio.sleep(0.01)
    assert len(rounds) == count  # cancelled on the way out


async def test_a_full_batch_is_followed_at_once_and_a_partial_one_by_the_pause() -> None:
    # Two full batches of a backlog, then a partial one: three rounds back to back, then the
    # pause (an hour: a fourth round inside the test would mean no pause at all).
    batches = [2, 2, 1, 2]
    rounds: list[int] = []

    async def work() -> int:
        rounds.append(batches[len(rounds)])
        return rounds[-1]

    loop = every(3600, work, "reconciler pass", again_at_once=lambda handled: handled >= 2)
    async with background({"reconciler": loop}):
        await _deadline(lambda: len(rounds) >= 3)
        await asyncio.sleep(0.02)
        assert rounds == [2, 2, 1]


async def test_a_component_with_its_own_task_runs_between_broker_start_and_stop() -> None:
    steps = Steps()
    relay_started = asyncio.Event()

    def start() -> None:
        steps.done.append("relay started")
        relay_started.set()

    async with running(
        cast(KafkaBroker, Broker(steps)),
        loops={"outbox-relay": started(start, steps.step("relay stopped"))},
        close=[steps.step("mongo closed")],
    ):
        await asyncio.wait_for(relay_started.wait(), 5)

    assert steps.done == [
        "broker started",
        "relay started",
        "relay stopped",
        "broker stopped",
        "mongo closed",
    ]


async def test_side_by_side_runs_the_chains_at_once_and_each_chain_in_order() -> None:
    steps = Steps()
    topics_asked = asyncio.Event()

    async def topics() -> None:
        topics_asked.set()
        steps.done.append("topics")

    async def indexes() -> None:
        # Only done once the other chain has started: run one after the other, this waits
        # for ever (bounded by the test's deadline).
        await asyncio.wait_for(topics_asked.wait(), 5)
        steps.done.append("indexes")

    await side_by_side([indexes, steps.step("migration")], [topics])
    assert steps.done.index("indexes") < steps.done.index("migration")
    assert sorted(steps.done) == ["indexes", "migration", "topics"]


async def test_side_by_side_raises_the_first_failure_and_cancels_the_rest() -> None:
    cancelled = asyncio.Event()

    async def slow() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()

    async def broken() -> None:
        raise ConnectionError("store away")

    with pytest.raises(ConnectionError, match="store away"):
        await side_by_side([slow], [broken])
    assert cancelled.is_set()
