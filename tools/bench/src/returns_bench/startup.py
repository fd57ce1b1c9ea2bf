"""Service start-up: wall time from exec until /readyz answers 200, with the servers up and every
topic and index already there (issue 13 asks for under 3 s). A benchmark, never a timed test.

    make bench-startup                                   # the bench profile's servers
    .venv/bin/python -m returns_bench.startup --profile test --runs 5   # servers already up

Each service is started as an extra instance with the command line and environment `make run`
gives it, on its own port (--port) with its own log and pid file under
`<state dir>/services/<name>-startup/`: once untimed (so that its topics and indexes exist),
then --runs times, each stopped with SIGTERM before the next. Per start: the wall time until
/readyz answered 200 (polled every 10 ms) and the CPU time the process had used by then; per
service also the CPU time of importing its entry point alone in a fresh interpreter. Printed
with the machine's load average before and after, which these figures depend on.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from returns_bench.cpu import cpu_seconds
from returns_infra import processes
from returns_infra.config import PROFILES
from returns_infra.infra import Infra
from returns_infra.services import (
    EXTRA_PORT_OFFSET,
    SERVICE_NAMES,
    SERVICES,
    ready_check,
    service_spec,
)

POLL_SECONDS = 0.01


@dataclass(frozen=True)
class Start:
    wall: float
    """Seconds from exec until /readyz answered 200."""
    cpu: float
    """CPU seconds the process had used by then (user + system)."""


@dataclass(frozen=True)
class Summary:
    service: str
    starts: Sequence[Start]
    import_cpu: float

    def row(self) -> tuple[str, ...]:
        walls = [start.wall for start in self.starts]
        cpus = [start.cpu for start in self.starts]
        return (
            self.service,
            str(len(self.starts)),
            f"{statistics.median(walls):.2f}",
            f"{min(walls):.2f}",
            f"{max(walls):.2f}",
            f"{statistics.median(cpus):.2f}",
            f"{self.import_cpu:.2f}",
        )


HEADER = (
    "service",
    "starts",
    "wall median (s)",
    "wall min",
    "wall max",
    "CPU at ready (s)",
    "CPU of imports (s)",
)


def table(summaries: Sequence[Summary]) -> str:
    rows = [HEADER, *(summary.row() for summary in summaries)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADER))]
    lines = []
    for number, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _ready(url: str) -> bool:
    try:
        return ready_check(url)()
    except OSError:
        return False


def start_once(
    spec: processes.ProcessSpec,
    url: str,
    timeout: float,
    ready: Callable[[str], bool] = _ready,
) -> Start:
    """Exec the service, poll until it is ready, note wall and CPU time, stop it."""
    began = time.perf_counter()
    pid = processes.spawn(spec)
    try:
        while not ready(url):
            if not processes.is_alive(pid):
                raise processes.ProcessError(
                    f"{spec.name} exited during start-up:\n{processes.tail(spec.log_path)}"
                )
            if time.perf_counter() - began > timeout:
                raise processes.ProcessError(f"{spec.name} not ready within {timeout:.0f}s")
            time.sleep(POLL_SECONDS)
        wall = time.perf_counter() - began
        cpu = cpu_seconds(pid) or 0.0
    finally:
        processes.stop(spec.pid_path, timeout=30.0)
    return Start(wall, cpu)


def import_cpu(service: str, times: int = 3) -> float:
    """CPU seconds of a fresh interpreter importing the service's entry point, and nothing else
    (the median of `times` interpreters)."""
    return statistics.median(_import_cpu_once(service) for _ in range(times))


def _import_cpu_once(service: str) -> float:
    # Told by the interpreter itself: the rusage of our children would also count the service
    # processes this bench started and reaped.
    code = f"import time, returns_{service}.entrypoints.main; print(time.process_time())"
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(done.stdout.strip())


def measure(
    infra: Infra, profile: str, services: Sequence[str], runs: int, port: int, timeout: float
) -> list[Summary]:
    env = infra.env()
    summaries = []
    for name in services:
        spec = service_spec(
            name, profile, infra.settings.state_dir, env, instance=f"{name}-startup", port=port
        )
        url = f"http://127.0.0.1:{port}"
        start_once(spec, url, timeout)  # creates what is missing: topics, indexes, buckets
        starts = [start_once(spec, url, timeout) for _ in range(runs)]
        summaries.append(Summary(name, starts, import_cpu(name)))
        print(f"  {name}: " + ", ".join(f"{start.wall:.2f}" for start in starts) + " s", flush=True)
    return summaries


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m returns_bench.startup",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--profile", choices=PROFILES, default="bench")
    parser.add_argument(
        "--start", action="store_true", help="start the profile's servers first, stop them after"
    )
    parser.add_argument("--runs", type=int, default=5, help="timed starts per service")
    parser.add_argument("--port", type=int, help="port of the measured instance")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per start at most")
    parser.add_argument(
        "services", nargs="*", metavar="SERVICE", help=f"of {', '.join(SERVICE_NAMES)} (all)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    unknown = sorted(set(arguments.services) - set(SERVICE_NAMES))
    if unknown:
        parser().error(f"unknown service(s) {', '.join(unknown)}")
    infra = Infra.for_profile(arguments.profile)
    # Past the profile's own service processes.
    port = arguments.port or SERVICES[0].port(arguments.profile) + EXTRA_PORT_OFFSET
    services = arguments.services or list(SERVICE_NAMES)
    try:
        if arguments.start:
            infra.start()
        before = load_average()
        print(f"start-up of {', '.join(services)} ({arguments.runs} starts each)", flush=True)
        summaries = measure(
            infra, arguments.profile, services, max(arguments.runs, 1), port, arguments.timeout
        )
        print()
        print(table(summaries))
        print(f"\nload average (1, 5, 15 min): {before} before, {load_average()} after")
        return 0
    except processes.ProcessError as error:
        print(f"start-up bench: {error}", file=sys.stderr)
        return 1
    finally:
        if arguments.start:
            infra.stop()


if __name__ == "__main__":
    sys.exit(main())
