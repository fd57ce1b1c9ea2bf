"""`returns-bench` for a few seconds at a low rate against the real services of the e2e tests."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from returns_bench.bench import BenchConfig, Target, run_bench
from returns_bench.load import LoadPlan
from returns_infra.fixtures import RunningServices

pytestmark = pytest.mark.e2e

LATENCIES = (
    "submit_latency_ms",
    "journey_latency_from_schedule_ms",
    "submit_to_return_submitted_ms",
    "submit_to_customer_service_email_ms",
    "submit_to_label_generated_ms",
)


def _json(path: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(Path(path).read_text())
    return found


def _size(path: str) -> int:
    return Path(path).stat().st_size


async def test_a_short_open_loop_reports_every_figure_and_loses_nothing(
    services: RunningServices, tmp_path: Path
) -> None:
    target = Target(
        declaration_url=services.urls["declaration"],
        media_url=services.urls["media"],
        kafka_bootstrap_servers=services.env["KAFKA_BOOTSTRAP_SERVERS"],
        mongodb_url=services.env["MONGODB_URL"],
        topic_prefix=os.environ.get("TOPIC_PREFIX", ""),
        admin_token=os.environ.get("ADMIN_API_TOKEN", "demo-admin-token-change-me"),
        service_urls=services.urls,
    )
    config = BenchConfig(
        # 6 journeys, 2 of them defective (every third), on 20 returns stored first.
        plan=LoadPlan("open", duration=3.0, rate=2.0, defective_share=0.34),
        stored=20,
        drain_timeout=60.0,
        raw_seconds=0.3,
        raw_concurrency=2,
        photo_size=(320, 240),
        out=tmp_path,
        progress=False,
        pids={"returns-bench": os.getpid()},
    )
    report = await run_bench(config, target)

    written = _json(report["files"]["json"])
    load = written["load"]
    assert load["journeys_failed"] == 0, load["errors"]
    assert load["journeys_ok"] == 6
    assert load["defective_submitted"] == 2 and load["classic_submitted"] == 4
    assert written["drain"]["lost"] == {"submitted": 0, "customer_service_email": 0, "label": 0}
    for name in LATENCIES:
        figures = load[name]
        assert figures["count"] > 0, name
        assert all(figures[key] is not None for key in ("p50", "p95", "p99", "max")), name
    assert load["submissions_per_second"] > 0 and load["journeys_per_second"] > 0
    assert written["stored"]["count"] == 20
    raw = written["raw"]
    for probe in ("insert", "find_by_id", "update_by_id", "find_by_id_in_returns"):
        assert raw["store"][probe]["per_second"] > 0, probe
    assert raw["kafka"]["produce_batched"]["per_second"] > 0
    assert raw["kafka"]["consume"]["messages"] == raw["kafka"]["consume"]["expected"]
    assert raw["http"]["per_second"] > 0
    # The CPU-bound ceilings need the servers' CPU: this test measures only the bench's own.
    ceilings = {name for name in written["ratios"] if name.startswith("cpu_bound_")}
    assert ceilings and all(written["ratios"][name] is None for name in ceilings)
    measured = {name: value for name, value in written["ratios"].items() if name not in ceilings}
    assert all(value is not None for value in measured.values()), written["ratios"]
    assert written["machine"]["nproc"] and written["machine"]["cpu_model"]
    assert "returns-bench" in written["cpu_percent_during_load"]
    # Counted by the store itself: a submission writes the return (insert) and the relay reads
    # it back (find), whatever else the services do.
    commands = written["store_commands_per_submission"]
    assert commands["insert"] >= 1 and commands["find"] >= 1, commands
    assert commands["all"] >= commands["insert"] + commands["find"], commands
    # Counted by each service's client: declaration inserts the return, labels its copy.
    by_service = written["store_commands_by_service"]
    # Per process: declaration's and media's consumers run in processes of their own.
    assert by_service.keys() == {
        "declaration",
        "media",
        "notifier",
        "labels",
        "declaration-consumers",
        "media-consumers",
    }, by_service
    assert by_service["declaration"]["all"] >= 1 and by_service["labels"]["all"] >= 1
    # Timed by each service's client, in the load and in the drain apart.
    pace = written["store_pace_by_service"]
    assert "declaration" in pace["load"] and "labels" in pace["load"].keys() | pace["drain"].keys()
    assert pace["load"]["declaration"]["mean_round_trip_ms"] > 0
    assert "store commands by service, per second and mean round trip" in report["summary"]
    assert len(load["journeys"]) == 6
    for plot in ("latency", "throughput"):
        assert _size(report["files"][plot]) > 0
