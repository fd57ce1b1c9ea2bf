"""`returns-infra [--profile dev|test] COMMAND [components...]`"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time
from collections.abc import Sequence

from .build import BuildError
from .config import COMPONENTS, KAFKA_NODE_COUNTS, KAFKA_NODES_ENV, PROFILES, ConfigError
from .infra import Infra, InfraError, ServerStatus
from .processes import ProcessError
from .run import run
from .services import stop_services

_EPILOG = f"""\
components: {", ".join(COMPONENTS)} (default: all); with --kafka-nodes 3 also kafka-1,
            kafka-2, kafka-3 (one cluster node each; `kafka` is all three)
profiles:   dev (make run), test (make test) and bench (make bench) use different
            ports and state dirs, so they can run at once. Default: $RETURNS_PROFILE, else dev.
overrides:  RETURNS_CACHE_DIR, RETURNS_STATE_DIR, RETURNS_KAFKA_PORT,
            RETURNS_KAFKA_CONTROLLER_PORT, RETURNS_MONGO_PORT, RETURNS_S3_PORT,
            RETURNS_SMTP_PORT, RETURNS_MAILPIT_UI_PORT, S3_ACCESS_KEY, S3_SECRET_KEY,
            RETURNS_KAFKA_NODES (1 or 3), RETURNS_KAFKA_CLUSTER_PORT_BASE (six ports)
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
    with_components("status", "show each server; exit 0 only if all are healthy")
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


def _line(status: ServerStatus) -> str:
    state = "running" if status.running else "stopped"
    health = "healthy" if status.healthy else "unhealthy"
    pid = f"pid {status.pid}" if status.pid is not None else "-"
    detail = f"  ({status.detail})" if status.detail else ""
    return f"{status.name:<7} {state:<8} {pid:<11} {health:<9} {status.address}{detail}"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    components: list[str] | None = getattr(args, "components", None) or None
    if hasattr(args, "kafka_nodes"):
        # Through the environment, so that `run` and the services it starts see it too.
        os.environ[KAFKA_NODES_ENV] = str(args.kafka_nodes)
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
            statuses = infra.status(components)
            for status in statuses:
                print(_line(status))
            return 0 if all(status.healthy for status in statuses) else 1
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
