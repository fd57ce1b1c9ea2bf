"""Run long-lived programs detached from the caller, with a log file, a pid file and a health check.

Generic on purpose: the same helper starts the infrastructure servers and the project's own
services. Linux only (it reads /proc to tell a live process from a zombie or a reused pid).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

HealthCheck = Callable[[], bool]


class ProcessError(RuntimeError):
    """A process did not start, did not become healthy, or would not stop."""


# On one machine the services and servers share its cores. What only drains topics (the
# notifier's e-mails, the labels' PDFs, and the SMTP capture that takes the notifier's e-mails)
# runs at a lower priority than what answers people (declaration, media, and the servers they
# wait on): in a burst of submits the portal keeps its latency and the consumers lag, then catch
# up with the CPU left over. At nice 5 they still took a share of what the front door wanted
# (labels 27 %, notifier 20 %, the capture 12 % of a core in a burst of 150 submits/s, which
# then held 102-115 submissions/s); at 19 they take what it leaves (16-18 %, 13-15 %, 9 %: 146
# submissions/s). Nothing starves: the front door waits on the store between its steps and
# leaves CPU idle, and even on full cores the kernel gives nice 19 a weight of 15 against 1,024
# (about 1.5 %). In production each runs on its own pods.
#
# At that niceness a process also runs under SCHED_IDLE, which a normal task preempts at once
# when it wakes. At nice 19 alone the scheduler may let a running consumer finish its slice
# first, at each hop of each store round trip of a submit (our reading of why it helped; we
# measured the effect, not the mechanism). Bursts of 150 submits/s for 20 s, in turns: submit
# p50 / p99 194 / 377 and 247 / 594 ms at nice 19 alone, 108 / 285 and 120 / 322 ms with
# SCHED_IDLE; the consumers drained in about the same time (40-49 s) and lost nothing.
BACKGROUND_NICENESS = 19


@dataclass(frozen=True)
class ProcessSpec:
    """What to run and where its traces go.

    ``env`` is laid over the caller's environment; a value of ``None`` removes that variable.
    """

    name: str
    command: Sequence[str]
    log_path: Path
    pid_path: Path
    env: Mapping[str, str | None] = field(default_factory=dict)
    cwd: Path | None = None
    # Added to the process's nice value: > 0 yields the CPU to the processes at 0 when both
    # want it, and takes what they leave.
    niceness: int = 0


def _proc_stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may contain spaces and parentheses; fields resume after ')'.
    rest = raw[raw.rfind(")") + 2 :].split()
    return rest  # rest[0] is the state (field 3), rest[19] the start time (field 22)


# How our own children ended, by pid, as collected by _reap (for the supervisor's reports).
_exit_statuses: dict[int, int] = {}


def _reap(pid: int) -> None:
    # Only succeeds for our own children (a fixture that starts and stops in one process);
    # without it they would linger as zombies until the caller exits.
    with contextlib.suppress(ChildProcessError, OSError):
        reaped, status = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            _exit_statuses[pid] = status


def exit_description(pid: int) -> str:
    """How process `pid` ended ("exit code 1", "killed by SIGKILL"), if it was our child."""
    _reap(pid)
    status = _exit_statuses.get(pid)
    if status is None:
        return "exited (not our child: status unknown)"
    if os.WIFSIGNALED(status):
        return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit code {os.WEXITSTATUS(status)}"


def _live(pid: int, stat: list[str]) -> bool:
    if stat[0] not in ("Z", "X"):
        return True
    # A multi-threaded process whose main thread has exited shows as a zombie while its other
    # threads still run (and hold its ports); it is only gone once they are.
    try:
        return len(os.listdir(f"/proc/{pid}/task")) > 1
    except OSError:
        return False


def is_alive(pid: int) -> bool:
    _reap(pid)
    stat = _proc_stat(pid)
    return stat is not None and _live(pid, stat)


def start_time(pid: int) -> str | None:
    stat = _proc_stat(pid)
    return stat[19] if stat is not None else None


def group_members(pgid: int) -> list[int]:
    """Live processes of a process group: the servers may fork helpers that must go too."""
    members: list[int] = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _proc_stat(int(entry.name))
        # rest[2] is the process group id (field 5)
        if stat is not None and stat[2] == str(pgid) and _live(int(entry.name), stat):
            members.append(int(entry.name))
    return members


def read_pid(pid_path: Path) -> int | None:
    """The pid recorded in ``pid_path`` if that very process still runs, else None.

    The pid file also records the process start time, so a pid that the kernel has since
    handed to an unrelated process is not mistaken for ours.
    """
    try:
        lines = pid_path.read_text().split()
    except OSError:
        return None
    if not lines or not lines[0].isdigit():
        return None
    pid = int(lines[0])
    if not is_alive(pid):
        return None
    if len(lines) > 1 and start_time(pid) != lines[1]:
        return None
    return pid


def tail(path: Path, lines: int = 40) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            data = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


def spawn(spec: ProcessSpec) -> int:
    """Start ``spec`` in its own session (so it outlives the caller and stops as a group)."""
    spec.log_path.parent.mkdir(parents=True, exist_ok=True)
    spec.pid_path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    for key, value in spec.env.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    with spec.log_path.open("ab") as log:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        log.write(f"\n=== {stamp} starting {spec.name}: {' '.join(spec.command)}\n".encode())
        log.flush()
        try:
            proc = subprocess.Popen(
                list(spec.command),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=spec.cwd,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            raise ProcessError(f"{spec.name}: cannot run {spec.command[0]}: {exc}") from exc
    if spec.niceness:
        _lower_priority(proc.pid, spec.niceness)
    # The process is managed through its pid file from now on. Marking the Popen object done
    # keeps its destructor from warning about a child that still runs; is_alive() reaps it.
    proc.returncode = 0
    tmp = spec.pid_path.with_suffix(".tmp")
    tmp.write_text(f"{proc.pid}\n{start_time(proc.pid) or ''}\n")
    tmp.replace(spec.pid_path)
    return proc.pid


_LOWEST_PRIORITY = 19
"""The highest nice value Linux takes (the autogroup file refuses more)."""


def _lower_priority(pid: int, niceness: int) -> None:
    """Run `pid` `niceness` below us. Gone already (its log says why) or not allowed: then it
    runs at our priority."""
    with contextlib.suppress(OSError):
        target = min(os.getpriority(os.PRIO_PROCESS, 0) + niceness, _LOWEST_PRIORITY)
        os.setpriority(os.PRIO_PROCESS, pid, target)
        # With the kernel's autogroups (most desktop and CI kernels), each session is one group
        # and the groups share the CPU equally, whatever the nice values inside them: a process
        # in a session of its own (start_new_session) kept a full share at any nice value
        # (make bench: nice 5, 10 or 19 changed nothing). The group's own nice value is what
        # weighs against the other groups.
        autogroup = Path(f"/proc/{pid}/autogroup")
        if autogroup.exists():
            autogroup.write_text(f"{target}\n")
    if niceness >= BACKGROUND_NICENESS:
        _run_on_idle_cpu_only(pid)


def _run_on_idle_cpu_only(pid: int) -> None:
    """Put every thread of `pid` under SCHED_IDLE; threads started later inherit it from the
    thread that starts them. Where the platform or the kernel refuses, the niceness stays."""
    if not hasattr(os, "sched_setscheduler"):
        return
    seen: set[int] = set()
    # Again until no new thread shows up: one started meanwhile by a thread not yet switched
    # would keep the normal policy.
    while True:
        try:
            threads = {int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()}
        except OSError:
            return
        if threads <= seen:
            return
        for thread in threads - seen:
            with contextlib.suppress(OSError):
                os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))
        seen |= threads


def wait_healthy(
    spec: ProcessSpec,
    pid: int,
    health: HealthCheck,
    timeout: float,
    interval: float = 0.5,
) -> None:
    """Poll ``health`` until it returns True; fail early if the process dies."""
    deadline = time.monotonic() + timeout
    while True:
        if not is_alive(pid):
            spec.pid_path.unlink(missing_ok=True)
            raise ProcessError(
                f"{spec.name} exited during start-up; last lines of {spec.log_path}:\n"
                + tail(spec.log_path)
            )
        try:
            if health():
                return
        except Exception:  # a health probe that raises just means "not yet"
            pass
        if time.monotonic() >= deadline:
            raise ProcessError(
                f"{spec.name} was not healthy within {timeout:.0f}s; last lines of "
                f"{spec.log_path}:\n" + tail(spec.log_path)
            )
        time.sleep(interval)


def start(
    spec: ProcessSpec, health: HealthCheck, timeout: float = 60.0, interval: float = 0.5
) -> int:
    """Start ``spec`` unless its pid file names a live process; wait until healthy.

    A process that fails its health check in time is stopped again, so a failed start leaves
    nothing running.
    """
    pid = read_pid(spec.pid_path)
    if pid is not None:
        wait_healthy(spec, pid, health, timeout, interval)
        return pid
    pid = spawn(spec)
    try:
        wait_healthy(spec, pid, health, timeout, interval)
    except ProcessError:
        stop(spec.pid_path, timeout=10.0)
        raise
    return pid


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _wait_group_gone(pgid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if not group_members(pgid):
            # The leader may now be a zombie child of ours (members skip zombies): collect it.
            _reap(pgid)
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)


def _recorded_pid(pid_path: Path) -> int | None:
    try:
        first = pid_path.read_text().split()[0]
    except (OSError, IndexError):
        return None
    return int(first) if first.isdigit() else None


def stop(pid_path: Path, timeout: float = 30.0) -> bool:
    """SIGTERM the process group named by ``pid_path``, SIGKILL it after ``timeout``.

    Returns True if something was running. Raises ProcessError if even SIGKILL left a member.
    """
    pgid = read_pid(pid_path)
    if pgid is None:
        # The leader may have died and left children behind. Their group id cannot have been
        # reused while they live, so they are still ours to stop.
        recorded = _recorded_pid(pid_path)
        if recorded is None or not group_members(recorded):
            pid_path.unlink(missing_ok=True)
            return False
        pgid = recorded
    # spawn() made the process a session leader, so its pid is also its process group id.
    _signal_group(pgid, signal.SIGTERM)
    if not _wait_group_gone(pgid, timeout):
        _signal_group(pgid, signal.SIGKILL)
        if not _wait_group_gone(pgid, 10.0):
            raise ProcessError(f"processes {group_members(pgid)} of group {pgid} survived SIGKILL")
    pid_path.unlink(missing_ok=True)
    return True


def kill(pid_path: Path, timeout: float = 10.0) -> int | None:
    """SIGKILL the process group named by ``pid_path`` at once, as a crash would (no SIGTERM).

    Returns the pid it killed, None if nothing ran. The pid file stays, as after a crash.
    """
    pgid = read_pid(pid_path)
    if pgid is None:
        return None
    _signal_group(pgid, signal.SIGKILL)
    if not _wait_group_gone(pgid, timeout):
        raise ProcessError(f"processes {group_members(pgid)} of group {pgid} survived SIGKILL")
    return pgid
