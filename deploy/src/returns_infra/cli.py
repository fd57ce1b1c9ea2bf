"""`returns-infra [--profile dev|test] COMMAND [components...]`"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Sequence
from typing import Any

from .build import BuildError
from .config import (
    COMPONENTS,
    KAFKA_NODE_COUNTS,
    KAFKA_NODES_ENV,
    MONITORING_COMPONENTS,
    MONITORING_ENV,
    PROFILES,
    ConfigError,
)
from .infra import Infra, InfraError, ServerStatus
from .processes import ProcessError, read_pid
from .run import run
from .services import (
    SERVICE_NAMES,
    service_pid_path,
    service_ready,
    service_urls,
    start_service,
    stop_service,
    stop_services,
)
from .supervisor import component_lock, read_state

_EPILOG = f"""\
components: {", ".join(COMPONENTS)} (default: all); with --kafka-nodes 3 also kafka-1,
            kafka-2, kafka-3 (one cluster node each; `kafka` is all three);
            {", ".join(MONITORING_COMPONENTS)} (with --monitoring, or by name)
services:   {", ".join(SERVICE_NAMES)} (restart and status take them too)
profiles:   dev (make run), test (make test) and bench (make bench) use different
            ports and state dirs, so they can run at once. Default: $RETURNS_PROFILE, else dev.
overrides:  RETURNS_CACHE_DIR, RETURNS_STATE_DIR, RETURNS_KAFKA_PORT,
            RETURNS_KAFKA_CONTROLLER_PORT, RETURNS_MONGO_PORT, RETURNS_S3_PORT,
            RETURNS_SMTP_PORT, RETURNS_MAILPIT_UI_PORT, S3_ACCESS_KEY, S3_SECRET_KEY,
            RETURNS_KAFKA_NODES (1 or 3), RETURNS_KAFKA_CLUSTER_PORT_BASE (six ports),
            RETURNS_MONITORING (1: as --monitoring), RETURNS_PROMETHEUS_PORT,
            RETURNS_LAG_EXPORTER_PORT, RETURNS_KAFKA_JMX_EXPORTER_PORT
"""


def _parser() -> argparse.ArgumentParser:
    # --profile is accepted before and after the command; SUPPRESS keeps a subcommand's
    # unset copy from overwriting the value given before it.
    profile = argparse.ArgumentParser(add_help=False)
    profile.add_argument(
        "--profile", choices=PROFILES, default=argparse.SUPPRESS, help="dev, test or bench"
    )
    profile.add_argument(
        "--kafka-nodes",
        type=int,
        choices=KAFKA_NODE_COUNTS,
        default=argparse.SUPPRESS,
        help=f"1 Kafka node, or a 3-node cluster (RF 3, min ISR 2); default ${KAFKA_NODES_ENV}",
    )
    profile.add_argument(
        "--monitoring",
        action="store_true",
        default=argparse.SUPPRESS,
        help="also Prometheus, the lag exporter and Kafka's JMX exporter (make ops); "
        f"default ${MONITORING_ENV}",
    )
    parser = argparse.ArgumentParser(
        prog="returns-infra",
        description="Build, start and stop the local Kafka, MongoDB-protocol, S3 and SMTP "
        "servers of the returns backend.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[profile],
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def with_components(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, parents=[profile])
        # Validated by Infra.components(): argparse rejects an empty list when given choices.
        sub.add_argument("components", nargs="*", metavar="component", help=" ".join(COMPONENTS))
        return sub

    with_components("build", "fetch and build what is missing into the cache")
    start = with_components("start", "build if needed, start and wait until healthy")
    start.add_argument(
        "--timeout", type=float, default=None, help="seconds to wait for each server's health"
    )
    with_components("stop", "stop the servers (SIGTERM, then SIGKILL)")
    with_components(
        "status",
        "show each server and service (restarts by `run`'s supervisor); exit 0 only if all "
        "servers are healthy",
    )
    restart = commands.add_parser(
        "restart",
        help="stop and start again servers or services (also while `run` supervises them)",
        parents=[profile],
    )
    restart.add_argument(
        "components", nargs="+", metavar="component", help=" ".join(COMPONENTS + SERVICE_NAMES)
    )
    commands.add_parser(
        "env", help="print KEY=value lines for services and tests", parents=[profile]
    )
    commands.add_parser(
        "run",
        help="start the servers and the four services, load the demo data, print the URLs, "
        "and stop everything on Ctrl-C (make run)",
        parents=[profile],
    )
    clean = commands.add_parser(
        "clean", help="stop the profile and delete its state dir", parents=[profile]
    )
    clean.add_argument("--cache", action="store_true", help="also delete the built servers")
    return parser


def _line(status: ServerStatus, supervised: dict[str, Any] | None = None) -> str:
    state = "running" if status.running else "stopped"
    health = "healthy" if status.healthy else "unhealthy"
    pid = f"pid {status.pid}" if status.pid is not None else "-"
    details = [status.detail] if status.detail else []
    record = (supervised or {}).get(status.name)
    if record is not None:
        details.append(f"restarts {record.get('restarts', 0)}")
        if record.get("last_exit"):
            details.append(f"last exit: {record['last_exit']} at {record.get('last_exit_at')}")
    detail = f"  ({'; '.join(details)})" if details else ""
    return f"{status.name:<21} {state:<8} {pid:<11} {health:<9} {status.address}{detail}"


def _service_statuses(infra: Infra, names: Sequence[str]) -> list[ServerStatus]:
    profile, state_dir = infra.settings.profile, infra.settings.state_dir
    urls = service_urls(profile)
    statuses = []
    for name in names:
        pid = read_pid(service_pid_path(state_dir, name))
        healthy = pid is not None and service_ready(profile, name)
        detail = "" if healthy or pid is None else "not ready; see its log"
        statuses.append(ServerStatus(name, name, pid is not None, pid, urls[name], healthy, detail))
    return statuses


def _restart(infra: Infra, names: Sequence[str]) -> None:
    """Stop then start each named server or service, holding its lock (see supervisor.py)."""
    # With the Kafka cluster, its nodes (kafka-1...) are components too, and `kafka` all three.
    servers = list(
        dict.fromkeys([*COMPONENTS, *(found.name for found in infra.components(every=True))])
    )
    unknown = [name for name in names if name not in servers and name not in SERVICE_NAMES]
    if unknown:
        raise InfraError(
            f"unknown component(s) {', '.join(unknown)}; choose from "
            f"{', '.join([*servers, *SERVICE_NAMES])}"
        )
    state_dir = infra.settings.state_dir
    for name in names:
        started = time.monotonic()
        with component_lock(state_dir, name, wait=True):
            if name in SERVICE_NAMES:
                stop_service(state_dir, name)
                pids = [start_service(name, infra.settings.profile, state_dir, infra.env())]
            else:
                infra.stop([name])
                infra.start([name])
                pids = [read_pid(found.pid_path) or 0 for found in infra.components([name])]
        shown = ("pid " if len(pids) == 1 else "pids ") + ", ".join(map(str, pids))
        print(f"restarted {name} ({shown}) in {time.monotonic() - started:.1f}s")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    components: list[str] | None = getattr(args, "components", None) or None
    if hasattr(args, "kafka_nodes"):
        # Through the environment, so that `run` and the services it starts see it too.
        os.environ[KAFKA_NODES_ENV] = str(args.kafka_nodes)
    if getattr(args, "monitoring", False):
        os.environ[MONITORING_ENV] = "1"
    try:
        infra = Infra.for_profile(getattr(args, "profile", None))
        if args.command == "build":
            started = time.monotonic()
            built = infra.build(components)
            what = ", ".join(built) if built else "nothing (all cached)"
            print(
                f"built {what} in {time.monotonic() - started:.1f}s; cache: "
                f"{infra.settings.cache_dir}"
            )
        elif args.command == "start":
            started = time.monotonic()
            for status in infra.start(components, timeout=args.timeout):
                print(_line(status))
            print(
                f"{infra.settings.profile} profile up in {time.monotonic() - started:.1f}s; "
                f"state in {infra.settings.state_dir}"
            )
        elif args.command == "stop":
            if components is None:
                # Without a list, "everything": the services first, then the servers they use.
                stop_services(infra.settings.state_dir)
            stopped = infra.stop(components)
            print(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
        elif args.command == "status":
            monitoring = MONITORING_COMPONENTS if infra.settings.monitoring else ()
            wanted = components or [*COMPONENTS, *monitoring, *SERVICE_NAMES]
            services = [name for name in wanted if name in SERVICE_NAMES]
            servers = [name for name in wanted if name not in SERVICE_NAMES]
            statuses = infra.status(servers) if servers else []
            state = read_state(infra.settings.state_dir)
            supervised = state["components"] if state else None
            if state:
                print(f"supervised by returns-infra run (pid {state['supervisor_pid']})")
            for status in statuses:
                print(_line(status, supervised))
            for status in _service_statuses(infra, services):
                print(_line(status, supervised))
            return 0 if all(status.healthy for status in statuses) else 1
        elif args.command == "restart":
            _restart(infra, args.components)
        elif args.command == "env":
            for key, value in infra.env().items():
                print(f"{key}={shlex.quote(value)}")
        elif args.command == "clean":
            infra.clean(cache=args.cache)
        elif args.command == "run":
            return run(infra.settings.profile)
    except (BuildError, ConfigError, InfraError, ProcessError) as exc:
        print(f"returns-infra: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
