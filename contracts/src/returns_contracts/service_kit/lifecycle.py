"""The start and stop order of a service process, and its background loops.

Start: prepare the stores (indexes, buckets, topics), start the Kafka broker, then the loops.
Stop, in reverse: cancel the loops and wait for them, stop the broker, then close the clients.
Every closer runs even when an earlier one fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

from faststream.kafka import KafkaBroker

logger = logging.getLogger(__name__)

Step = Callable[[], Awaitable[object]]
Loop = Callable[[], Coroutine[Any, Any, None]]
Closer = Callable[[], Awaitable[object] | object]


def every(
    seconds: float,
    work: Step,
    what: str,
    *,
    again_at_once: Callable[[Any], bool] | None = None,
) -> Loop:
    """A loop that does `work` every `seconds` for as long as the process runs.

    A failing round is logged (`what` failed) and the next one comes as usual: a server that is
    away for a while only delays the work. With `again_at_once`, a round whose result it says
    left more to do (a full batch) is followed by the next one without the pause, so a backlog
    drains back to back.
    """

    async def loop() -> None:
        while True:
            more = False
            try:
                done = await work()
                more = again_at_once is not None and again_at_once(done)
            except Exception:
                logger.exception("%s failed; trying again later", what)
            if not more:
                await asyncio.sleep(seconds)

    return loop


def started(start: Callable[[], object], stop: Callable[[], Awaitable[object]]) -> Loop:
    """A component that runs its own task between `start()` and `stop()` (an outbox relay), as
    a loop of `running`: started with the loops, after the broker; stopped with them, before
    the broker stops."""

    async def loop() -> None:
        start()
        try:
            await asyncio.Event().wait()
        finally:
            await stop()

    return loop


async def side_by_side(*chains: Sequence[Step]) -> None:
    """Run each chain's steps in order, the chains at the same time; the first failure cancels
    the others and is raised.

    Start-up with topics, indexes and buckets already there is only round trips to different
    servers (Kafka, MongoDB, S3): side by side, the slowest chain sets the pace, not their sum.
    """

    async def run(chain: Sequence[Step]) -> None:
        for step in chain:
            await step()

    try:
        async with asyncio.TaskGroup() as group:
            for chain in chains:
                group.create_task(run(chain))
    except BaseExceptionGroup as failed:
        raise failed.exceptions[0] from None


@asynccontextmanager
async def background(loops: Mapping[str, Loop]) -> AsyncIterator[None]:
    """Run `loops` (name -> loop) as tasks while inside; cancel and await them on the way out."""
    tasks: list[asyncio.Task[None]] = [
        asyncio.create_task(loop(), name=name) for name, loop in loops.items()
    ]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@asynccontextmanager
async def running(
    broker: KafkaBroker,
    *,
    prepare: Sequence[Step] = (),
    loops: Mapping[str, Loop] | None = None,
    close: Sequence[Closer] = (),
) -> AsyncIterator[None]:
    """A service's lifespan: `prepare` in order, the broker, the loops; then all of it stopped
    in reverse order, `close` last (in order)."""
    async with contextlib.AsyncExitStack() as stack:
        for closer in reversed(close):
            stack.push_async_callback(_call, closer)
        for step in prepare:
            await step()
        await broker.start()
        stack.push_async_callback(broker.stop)
        await stack.enter_async_context(background(loops or {}))
        yield


async def _call(closer: Closer) -> None:
    result = closer()
    if inspect.isawaitable(result):
        await result
