"""Who burns the CPU during the load: CPU seconds of each process of the system, from /proc."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

from returns_infra.infra import Infra
from returns_infra.processes import read_pid
from returns_infra.services import SERVICES_DIR, service_logs

# The bench's own process among the measured ones: it shares the machine it measures, but a
# portal's load would not.
BENCH_PROCESS = "returns-bench"

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of `pid` so far, or None when it cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the command: state is field 3, utime and stime are fields 14 and 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / _TICKS


def system_pids(infra: Infra) -> dict[str, int]:
    """The running servers and services of a profile, by name, and the bench itself."""
    pids: dict[str, int] = {BENCH_PROCESS: os.getpid()}
    for component in infra.components():
        pid = read_pid(component.pid_path)
        if pid is not None:
            pids[component.name] = pid
    state = infra.settings.state_dir
    for name in service_logs(state):
        pid = read_pid(state / SERVICES_DIR / name / f"{name}.pid")
        if pid is not None:
            pids[name] = pid
    return pids


class CpuMeter:
    """CPU use of each process between `start()` and `stop()`, in % of one core."""

    def __init__(self, pids: Mapping[str, int]) -> None:
        self.pids = dict(pids)
        self._before: dict[str, float] = {}
        self._began = 0.0

    def start(self) -> None:
        self._began = time.monotonic()
        self._before = {
            name: seconds
            for name, pid in self.pids.items()
            if (seconds := cpu_seconds(pid)) is not None
        }

    def seconds(self) -> dict[str, float]:
        """CPU seconds each process used since `start()`."""
        used: dict[str, float] = {}
        for name, before in self._before.items():
            after = cpu_seconds(self.pids[name])
            if after is not None:
                used[name] = after - before
        return used

    def stop(self) -> dict[str, float]:
        elapsed = max(time.monotonic() - self._began, 1e-9)
        used = {name: round(cpu / elapsed * 100.0, 1) for name, cpu in self.seconds().items()}
        return dict(sorted(used.items(), key=lambda item: -item[1]))


def per_submission(used: Mapping[str, float], submissions: int) -> dict[str, float]:
    """CPU milliseconds per submission of each process, and of all of them (`all`).

    Taken over the load and the drain, it counts every stage a submission causes (relay,
    e-mails, labels) and, unlike latencies, changes little when other programs share the
    machine: the figure to compare a change with."""
    if submissions <= 0:
        return {}
    per = {name: round(cpu * 1000.0 / submissions, 2) for name, cpu in used.items()}
    per["all"] = round(sum(used.values()) * 1000.0 / submissions, 2)
    return dict(sorted(per.items(), key=lambda item: -item[1]))
