"""`returns-bench`: the portal API under load, the consumers' delays, the servers' raw limits.

    returns-bench --start --fresh --stored 1000 --concurrency 8 --duration 30   # make bench
    returns-bench --rate 10 --duration 60        # open loop against a running profile
    returns-bench --start --fresh --burst 150 --duration 10   # submits of prepared journeys

With --start it starts the profile's servers and the four services the way `make run` does
(the bench profile by default: its own ports and state dir) and stops them at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType

from returns_bench.bench import BenchConfig, Target, run_bench
from returns_bench.cpu import system_pids
from returns_bench.load import LoadPlan
from returns_infra.config import PROFILES
from returns_infra.infra import Infra
from returns_infra.services import service_logs, service_urls, start_services, stop_services

DEMO_ADMIN_TOKEN = "demo-admin-token-change-me"


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not WIDTHxHEIGHT") from None
    return width, height


def _share(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError("a share is between 0 and 1")
    return value


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = kind(text)
        if value <= 0:
            raise argparse.ArgumentTypeError(f"{text} is not positive")
        return value

    return parse


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="returns-bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--rate", type=_positive(float), help="open loop: journeys per second")
    mode.add_argument(
        "--burst",
        type=_positive(float),
        metavar="RATE",
        help="burst: walk every journey to its summary first, then fire the submits at RATE "
        "per second for --duration seconds",
    )
    mode.add_argument(
        "--concurrency",
        type=_positive(int),
        default=4,
        help="closed loop (default): journeys walking at once, each starting when one ends",
    )
    parser.add_argument("--duration", type=_positive(float), default=30.0, help="seconds of load")
    parser.add_argument("--defective-share", type=_share, default=0.3)
    parser.add_argument(
        "--stored", type=int, default=0, help="returns loaded straight into the store first"
    )
    parser.add_argument(
        "--max-journeys",
        type=_positive(int),
        default=1000,
        help="closed loop: orders prepared, so journeys at most",
    )
    parser.add_argument(
        "--max-in-flight",
        type=_positive(int),
        default=512,
        help="open loop or burst: journeys (submits) walking at once at most",
    )
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=900.0,
        help="seconds to wait for every event, e-mail and label after the load, at most",
    )
    parser.add_argument(
        "--drain-stall",
        type=float,
        default=60.0,
        help="seconds without a new event, e-mail or label after which the drain gives up",
    )
    parser.add_argument(
        "--raw-seconds", type=float, default=4.0, help="seconds per raw probe (0: none)"
    )
    parser.add_argument("--raw-concurrency", type=_positive(int), default=8)
    parser.add_argument(
        "--request-timeout",
        type=_positive(float),
        default=60.0,
        help="seconds one request may take before its journey counts as failed",
    )
    parser.add_argument("--photo-size", type=_size, default=(1600, 1200), help="WxH of the JPEG")
    parser.add_argument("--out", type=Path, default=Path(".bench"), help="report folder")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--no-plots", action="store_true")
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="bench",
        help="whose servers and services (default: bench)",
    )
    parser.add_argument(
        "--start",
        action="store_true",
        help="start the profile's servers and services first, stop them at the end",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="with --start: delete the profile's state first"
    )
    parser.add_argument(
        "--media-bench",
        action="store_true",
        help="also run media's upload bench (services/media/scripts/upload_bench.py)",
    )
    return parser


def config_of(arguments: argparse.Namespace) -> BenchConfig:
    if arguments.burst is not None:
        plan = LoadPlan(
            "burst",
            arguments.duration,
            rate=arguments.burst,
            defective_share=arguments.defective_share,
            max_in_flight=arguments.max_in_flight,
        )
    elif arguments.rate is not None:
        plan = LoadPlan(
            "open",
            arguments.duration,
            rate=arguments.rate,
            defective_share=arguments.defective_share,
            max_in_flight=arguments.max_in_flight,
        )
    else:
        plan = LoadPlan(
            "closed",
            arguments.duration,
            concurrency=arguments.concurrency,
            defective_share=arguments.defective_share,
        )
    return BenchConfig(
        plan=plan,
        stored=max(arguments.stored, 0),
        max_journeys=arguments.max_journeys,
        drain_timeout=max(arguments.drain_timeout, 0.0),
        drain_stall=max(arguments.drain_stall, 0.0),
        raw_seconds=max(arguments.raw_seconds, 0.0),
        raw_concurrency=arguments.raw_concurrency,
        photo_size=arguments.photo_size,
        request_timeout=arguments.request_timeout,
        out=arguments.out,
        progress=not arguments.no_progress,
        plots=not arguments.no_plots,
        extra={"profile": arguments.profile},
    )


def _media_bench() -> int:
    script = (
        Path(__file__).resolve().parents[4] / "services" / "media" / "scripts" / "upload_bench.py"
    )
    if not script.is_file():
        print(f"media's upload bench is not at {script}", file=sys.stderr)
        return 1
    return subprocess.run([sys.executable, str(script)], check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    config = config_of(arguments)
    infra = Infra.for_profile(arguments.profile)

    def stop_requested(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_requested)
    started = False
    try:
        if arguments.start:
            if arguments.fresh:
                infra.clean()
            started = True
            infra.start()
            urls = start_services(arguments.profile, infra.settings.state_dir, infra.env())
        else:
            urls = service_urls(arguments.profile)
        env = infra.env()
        target = Target(
            declaration_url=urls["declaration"],
            media_url=urls["media"],
            kafka_bootstrap_servers=env["KAFKA_BOOTSTRAP_SERVERS"],
            mongodb_url=env["MONGODB_URL"],
            topic_prefix=os.environ.get("TOPIC_PREFIX", ""),
            admin_token=os.environ.get("ADMIN_API_TOKEN", DEMO_ADMIN_TOKEN),
            kafka_replication_factor=int(env["KAFKA_REPLICATION_FACTOR"]),
            service_urls=urls,
        )
        config = dataclasses.replace(config, pids=system_pids(infra))
        report = asyncio.run(run_bench(config, target))
        print(report["summary"])
        print(f"\nreport: {report['files']['json']}", flush=True)
        lost = sum(report["drain"]["lost"].values())
        status = 0 if lost == 0 and report["load"]["journeys_failed"] == 0 else 2
        if arguments.media_bench:
            status = _media_bench() or status
        return status
    except KeyboardInterrupt:
        print("returns-bench: interrupted", file=sys.stderr)
        return 130
    except Exception as error:
        print(f"returns-bench: {type(error).__name__}: {error}", file=sys.stderr)
        if started:
            for name, log in service_logs(infra.settings.state_dir).items():
                print(f"  {name} log: {log}", file=sys.stderr)
        return 1
    finally:
        if started:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            stop_services(infra.settings.state_dir)
            infra.stop()
            print("returns-bench: everything it started is stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
