"""kill -9 a part of the system, start it again with the same command line, and time what that
cost: until it answers again, and until the whole flow (submit, event, e-mail, label) resumed.

A victim is a process group started by returns_infra (a service by `start_services`, a server
by `Infra.start`), found through its pid file. The kill is SIGKILL to the whole group, so a
server's or service's helper processes die with it. The restart goes through the same code
that started it, and the new process's command line is checked against the killed one's.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from returns_infra import processes

from .portal import Load
from .tables import aligned
from .watch import CUSTOMER_SERVICE_EMAIL, LABEL, SUBMITTED, StageWatcher

GONE_SECONDS = 30.0
# Journeys of each phase that start only once the killed part answers again: three, so that
# one of them is defective (every third journey is) and uploads a photo.
AFTER_RESTART = 3


@dataclass(frozen=True)
class Victim:
    name: str
    pid_path: Path
    restart: Callable[[], object]
    """Start it again and wait until it answers (blocking; raises if it does not)."""
    flow_steps: tuple[str, ...] = ("submit",)
    """The portal steps that must succeed after the restart for its flow to count as resumed."""


@dataclass
class Recovery:
    name: str
    killed_pids: list[int]
    restarted: bool = True
    new_pid: int | None = None
    same_command: bool = False
    ready_seconds: float | None = None
    """From the restart until it answered its health check (a service's /readyz, a server's
    own protocol)."""
    flow_seconds: float | None = None
    """From the restart until a submit was answered and a ReturnSubmitted, a customer-service
    e-mail and a label were produced again (and the victim's own steps succeeded)."""
    error: str | None = None


def command_line(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    return [part.decode() for part in raw.split(b"\0") if part]


def kill_group(pid_path: Path) -> tuple[list[int], list[str]]:
    """SIGKILL every process of the group named by `pid_path`; wait until none is left.
    Returns the pids killed and the leader's command line."""
    leader = processes.read_pid(pid_path)
    if leader is None:
        raise AssertionError(f"{pid_path} names no running process: nothing to kill")
    command = command_line(leader)
    members = processes.group_members(leader)
    os.killpg(leader, signal.SIGKILL)
    deadline = time.monotonic() + GONE_SECONDS
    while processes.group_members(leader) or processes.is_alive(leader):
        if time.monotonic() > deadline:
            raise AssertionError(f"processes of group {leader} survived SIGKILL")
        time.sleep(0.05)
    return members, command


async def kill_and_restart(
    victim: Victim,
    load: Load,
    watcher: StageWatcher,
    flow_timeout: float,
    while_down: int,
    after_restart: int,
) -> Recovery:
    """Kill `victim`, let the first `while_down` journeys start while it is down, restart it,
    let the first `after_restart` start, and time its recovery."""
    killed, command = await asyncio.to_thread(kill_group, victim.pid_path)
    recovery = Recovery(victim.name, killed)
    await load.release_up_to(while_down)
    restarted = time.monotonic()
    restarted_at = time.time()
    try:
        await asyncio.to_thread(victim.restart)
    except Exception as error:  # a server that does not come back is the finding
        recovery.error = f"restart failed: {type(error).__name__}: {str(error)[:400]}"
        return recovery
    recovery.ready_seconds = time.monotonic() - restarted
    await load.release_up_to(after_restart)
    recovery.new_pid = processes.read_pid(victim.pid_path)
    if recovery.new_pid is not None:
        recovery.same_command = command_line(recovery.new_pid) == command
    deadline = time.monotonic() + flow_timeout
    while True:
        moments = [load.succeeded_after(step, restarted_at) for step in victim.flow_steps]
        moments += [
            watcher.first_after(stage, restarted_at)
            for stage in (SUBMITTED, CUSTOMER_SERVICE_EMAIL, LABEL)
        ]
        if all(moment is not None for moment in moments):
            recovery.flow_seconds = max(m for m in moments if m is not None) - restarted_at
            return recovery
        if time.monotonic() > deadline:
            waiting = [
                name
                for name, moment in zip(
                    [*victim.flow_steps, SUBMITTED, CUSTOMER_SERVICE_EMAIL, LABEL],
                    moments,
                    strict=True,
                )
                if moment is None
            ]
            recovery.error = (
                f"the flow did not resume within {flow_timeout:.0f}s of the restart "
                f"(nothing since: {', '.join(waiting)})"
            )
            return recovery
        await asyncio.sleep(0.2)


async def kill_only(victim: Victim) -> Recovery:
    """kill -9 without a restart (scale-out: the other instance takes its partitions)."""
    killed, _ = await asyncio.to_thread(kill_group, victim.pid_path)
    return Recovery(victim.name, killed, restarted=False)


async def drive(
    load: Load,
    watcher: StageWatcher,
    victims: Sequence[Victim],
    phase_timeout: float,
    flow_timeout: float,
    say: Callable[[str], None] = lambda line: None,
) -> list[Recovery]:
    """Release the journeys in one phase per victim, and a last one without a kill.

    In a phase of n journeys, about half start first; once a quarter of the phase has
    finished (the others in flight) the victim is killed; all but the last three start while
    it is down; the last three start once it answers again, so the flow after the restart is
    made of new journeys as well (a defective one among them: every third is). The flow must
    resume, and every journey of the phase finish, before the next phase.
    """
    total = len(load.journeys)
    phases = len(victims) + 1
    recoveries: list[Recovery] = []
    begun = 0
    for number in range(phases):
        end = total if number == phases - 1 else total * (number + 1) // phases
        size = end - begun
        if number < len(victims):
            first = begun + max(1, (size - AFTER_RESTART) // 2)
            await load.release_up_to(first)
            await load.wait_finished(begun + max(1, (first - begun) // 2), phase_timeout)
            say(f"kill -9 {victims[number].name} ({load.finished} of {total} journeys done)")
            recovery = await kill_and_restart(
                victims[number],
                load,
                watcher,
                flow_timeout,
                while_down=max(first, end - AFTER_RESTART),
                after_restart=end,
            )
            say(f"  {summary(recovery)}")
            recoveries.append(recovery)
        await load.release_up_to(end)
        await load.wait_finished(end, phase_timeout)
        begun = end
    return recoveries


def summary(recovery: Recovery) -> str:
    if recovery.error is not None:
        return f"{recovery.name}: {recovery.error}"
    return (
        f"{recovery.name} answers {recovery.ready_seconds or 0:.1f} s after its restart, "
        f"flow resumed after {recovery.flow_seconds or 0:.1f} s"
    )


def table(recoveries: Sequence[Recovery]) -> str:
    header = ("killed", "processes", "same command", "answers after (s)", "flow resumed after (s)")
    rows = [
        (
            recovery.name,
            str(len(recovery.killed_pids)),
            _same_command(recovery),
            "-" if recovery.ready_seconds is None else f"{recovery.ready_seconds:.1f}",
            "-" if recovery.flow_seconds is None else f"{recovery.flow_seconds:.1f}",
        )
        for recovery in recoveries
    ]
    lines = [aligned(header, rows)]
    for recovery in recoveries:
        if recovery.error:
            lines.append(f"{recovery.name}: {recovery.error}")
    return "\n".join(lines)


def _same_command(recovery: Recovery) -> str:
    if not recovery.restarted:
        return "not restarted"
    if recovery.new_pid is None:
        return "-"
    return "yes" if recovery.same_command else "NO"
