"""Turn the journeys, the events seen and the raw limits into figures, a JSON file and plots."""

from __future__ import annotations

import json
import math
import os
import platform
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from returns_bench.cpu import BENCH_PROCESS
from returns_bench.events import CUSTOMER_SERVICE_EMAIL, LABEL, SUBMITTED, Seen
from returns_bench.journey import JourneyResult
from returns_bench.stats import per_second, rate, summary


def machine() -> dict[str, Any]:
    """nproc, RAM, CPU model and load average of the machine the figures came from."""
    model = platform.processor() or platform.machine()
    memory_gb: float | None = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "ram_gb": memory_gb,
        "cpu_model": model,
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "python": platform.python_version(),
    }


def load_figures(
    results: Sequence[JourneyResult], start: float, seen: Seen, planned_seconds: float = 0.0
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the figures, the series to plot) of one load phase of `planned_seconds`.

    Sustained submissions/s divide the submissions by the planned duration, or by the time of
    the last submission when that came later: journeys that failed or timed out late in the
    run do not make the rate look higher than what was delivered."""
    ok = [result for result in results if result.ok]
    failed = [result for result in results if not result.ok]
    end = max((result.finished for result in results), default=start)
    last_submit = max((result.submit_done for result in ok), default=start)
    elapsed = max(end - start, 1e-9)
    requests = sum(result.requests for result in results)
    errors: dict[str, int] = {}
    for result in failed:
        # One entry per kind of error: the step and the error, without the varying numbers.
        key = re.sub(r"\d+(\.\d+)? s\b", "N s", result.error or "no return id")
        key = re.sub(r"/[0-9a-f]{8}-[0-9a-f-]{27}", "/<id>", key)  # the draft or return id
        key = re.sub(r"/bench-[0-9a-f]+/", "/<merchant>/", key)[:160]
        errors[key] = errors.get(key, 0) + 1

    def after_submit(stage: str, which: Sequence[JourneyResult]) -> list[float]:
        found = (seen.at(result.return_id or "", stage) for result in which)
        return [at - result.submit_sent for result, at in zip(which, found, strict=True) if at]

    defective = [result for result in ok if result.defective]
    classic = [result for result in ok if not result.defective]
    steps: dict[str, list[float]] = {}
    for result in ok:
        for step, seconds in result.steps.items():
            steps.setdefault(step, []).append(seconds)
    figures: dict[str, Any] = {
        "journeys_started": len(results),
        "journeys_ok": len(ok),
        "journeys_failed": len(failed),
        "defective_submitted": len(defective),
        "classic_submitted": len(classic),
        "errors": errors,
        "seconds": round(elapsed, 3),
        "submissions_per_second": rate(len(ok), max(last_submit - start, planned_seconds, 1e-9)),
        "journeys_per_second": rate(len(ok), elapsed),
        "http_requests_per_second": rate(requests, elapsed),
        "submit_latency_ms": summary(
            [result.submit_done - result.submit_due for result in ok], 1000.0
        ),
        "journey_latency_from_schedule_ms": summary(
            [result.finished - result.due for result in ok], 1000.0
        ),
        "start_lag_ms": summary([result.started - result.due for result in results], 1000.0),
        "step_latency_ms": {step: summary(values, 1000.0) for step, values in steps.items()},
        "submit_to_return_submitted_ms": summary(after_submit(SUBMITTED, ok), 1000.0),
        "submit_to_customer_service_email_ms": summary(
            after_submit(CUSTOMER_SERVICE_EMAIL, defective), 1000.0
        ),
        "submit_to_label_generated_ms": summary(after_submit(LABEL, classic), 1000.0),
    }
    figures["journeys"] = [journey_record(result, start) for result in results]
    seconds = math.ceil(elapsed)
    series: dict[str, Any] = {
        "submit_points": [
            (result.submit_done - start, (result.submit_done - result.submit_due) * 1000.0)
            for result in ok
        ],
        "journey_points": [
            (result.finished - start, (result.finished - result.due) * 1000.0) for result in ok
        ],
        "submits_per_second": per_second([r.submit_done for r in ok], start, seconds),
        "journeys_per_second": per_second([r.finished for r in ok], start, seconds),
    }
    later = max(
        [seconds]
        + [math.ceil(at - start) for stages in seen.times.values() for at in stages.values()]
    )
    for stage in (SUBMITTED, CUSTOMER_SERVICE_EMAIL, LABEL):
        times = [seen.at(result.return_id or "", stage) for result in ok]
        series[f"{stage}_per_second"] = per_second(
            [at for at in times if at is not None], start, later
        )
    return figures, series


def journey_record(result: JourneyResult, start: float) -> dict[str, Any]:
    """One journey in the report, its times in seconds since the start of the load."""

    def since(at: float) -> float | None:
        return round(at - start, 4) if at else None

    return {
        "index": result.index,
        "defective": result.defective,
        "due": since(result.due),
        "started": since(result.started),
        "submit_sent": since(result.submit_sent),
        "submit_done": since(result.submit_done),
        "finished": since(result.finished),
        "return_id": result.return_id,
        "error": result.error,
    }


# Which raw probe stands for each store command a submission sends. A delete, like an update,
# is one indexed write of one document; anything unknown is costed as the dearest probe.
_RAW_PROBE_OF_COMMAND = {
    "find": "find_by_id",
    "getMore": "find_by_id",
    "count": "find_by_id",
    "aggregate": "find_by_id",
    "insert": "insert",
    "update": "update_by_id",
    "delete": "update_by_id",
    "findAndModify": "update_by_id",
}


def _submissions_per_second_at(
    commands_per_submission: Mapping[str, float] | None, ms_per_command: Mapping[str, float]
) -> float | None:
    """1 s over the milliseconds one submission's store commands take, each command at the
    cost of its raw probe."""
    if not commands_per_submission or not ms_per_command:
        return None
    dearest = max(ms_per_command.values())
    ms = sum(
        count * ms_per_command.get(_RAW_PROBE_OF_COMMAND.get(command, ""), dearest)
        for command, count in commands_per_submission.items()
        if command != "all"
    )
    return float(f"{1000.0 / ms:.4g}") if ms > 0 else None


def _store_probes(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    store = raw.get("store") or {}
    return {
        name: figures
        for name, figures in store.items()
        if isinstance(figures, dict) and figures.get("per_second")
    }


def store_bound_submissions_per_second(
    commands_per_submission: Mapping[str, float] | None, raw: dict[str, Any]
) -> float | None:
    """Submissions/s if the store did nothing but the commands one submission costs, each at
    the rate its raw probe reached (8 clients by default). Writes are one at a time in the
    embedded store, so for them this rate is a limit; finds would go faster with more clients."""
    probes = _store_probes(raw)
    return _submissions_per_second_at(
        commands_per_submission,
        {name: 1000.0 / float(figures["per_second"]) for name, figures in probes.items()},
    )


def store_cpu_bound_submissions_per_second(
    commands_per_submission: Mapping[str, float] | None, raw: dict[str, Any], cores: int
) -> float | None:
    """Submissions/s if every core did nothing but the store commands one submission costs:
    each command at the CPU its raw probe cost the store and its client (the bench, a Python
    client as the services are). Above it, a target needs fewer commands, not less CPU
    elsewhere."""
    costs = {
        name: sum(figures["cpu_ms_per_operation"].values()) / max(cores, 1)
        for name, figures in _store_probes(raw).items()
        if figures.get("cpu_ms_per_operation")
    }
    return _submissions_per_second_at(commands_per_submission, costs)


def cpu_bound_submissions_per_second(
    cpu_ms_per_submission: Mapping[str, float] | None, cores: int, *, with_load_generator: bool
) -> float | None:
    """Submissions/s if every core did nothing but what this run's submissions cost every
    process (load and drain, so their events, e-mails and labels too): the most the machine
    can sustain at this cost, whatever the latencies. Declaration groups the store commands of
    requests that overlap, so a submission costs less under more load: a run at a low rate
    understates the ceiling, a run near it is the one to read. None when only the bench's own
    CPU was measured (a bench against servers whose processes it does not know)."""
    figures = dict(cpu_ms_per_submission or {})
    ms = figures.pop("all", None)
    if not figures.keys() - {BENCH_PROCESS}:
        return None
    if ms is not None and not with_load_generator:
        ms -= figures.get(BENCH_PROCESS, 0.0)
    return float(f"{cores * 1000.0 / ms:.4g}") if ms and ms > 0 else None


def ratios(
    load: dict[str, Any],
    raw: dict[str, Any],
    commands_per_submission: Mapping[str, float] | None = None,
    cores: int = 1,
    cpu_ms_per_submission: Mapping[str, float] | None = None,
) -> dict[str, float | None]:
    """The system's rates against the raw rates of the servers it stands on."""

    def get(tree: dict[str, Any], *path: str) -> float | None:
        node: Any = tree
        for key in path:
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return float(node) if isinstance(node, int | float) else None

    def ratio(a: float | None, b: float | None) -> float | None:
        # Four significant digits: a submit rate against Kafka's is a very small number.
        return float(f"{a / b:.4g}") if a is not None and b else None

    submits = get(load, "submissions_per_second")
    return {
        "submissions_per_store_insert": ratio(submits, get(raw, "store", "insert", "per_second")),
        "submissions_per_store_find_by_id": ratio(
            submits, get(raw, "store", "find_by_id", "per_second")
        ),
        "submissions_per_store_find_in_returns": ratio(
            submits, get(raw, "store", "find_by_id_in_returns", "per_second")
        ),
        "submissions_per_kafka_produce_batched": ratio(
            submits, get(raw, "kafka", "produce_batched", "per_second")
        ),
        "journey_requests_per_healthz": ratio(
            get(load, "http_requests_per_second"), get(raw, "http", "per_second")
        ),
        "submit_p50_in_store_finds_p50": ratio(
            get(load, "submit_latency_ms", "p50"),
            get(raw, "store", "find_by_id", "latency_ms", "p50"),
        ),
        "store_bound_submissions_per_second": store_bound_submissions_per_second(
            commands_per_submission, raw
        ),
        "store_cpu_bound_submissions_per_second": store_cpu_bound_submissions_per_second(
            commands_per_submission, raw, cores
        ),
        "cpu_bound_submissions_per_second": cpu_bound_submissions_per_second(
            cpu_ms_per_submission, cores, with_load_generator=True
        ),
        "cpu_bound_submissions_per_second_without_load_generator": (
            cpu_bound_submissions_per_second(
                cpu_ms_per_submission, cores, with_load_generator=False
            )
        ),
    }


def plot(series: dict[str, Any], folder: Path, title: str) -> list[Path]:
    """latency.png (each submit and journey over time) and throughput.png (per second)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: list[Path] = []
    figure, axis = plt.subplots(figsize=(10, 5))
    for key, label, marker in (
        ("journey_points", "whole journey (from its scheduled time)", "x"),
        ("submit_points", "submit", "."),
    ):
        points = series[key]
        if points:
            axis.scatter(
                [p[0] for p in points],
                [p[1] for p in points],
                s=8,
                marker=marker,
                label=label,
                alpha=0.6,
            )
    axis.set_xlabel("seconds since the start of the load")
    axis.set_ylabel("latency (ms)")
    if series["submit_points"]:
        axis.set_yscale("log")
    axis.set_title(f"Latency over time - {title}")
    axis.legend(loc="upper left")
    axis.grid(True, alpha=0.3)
    path = folder / "latency.png"
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    written.append(path)

    figure, axis = plt.subplots(figsize=(10, 5))
    # Submissions wide and journeys dashed: in a closed loop both lines are often the same.
    for key, label, width, style in (
        ("submits_per_second", "submissions", 3.0, "-"),
        ("journeys_per_second", "whole journeys", 1.2, "--"),
        (f"{SUBMITTED}_per_second", "ReturnSubmitted on Kafka", 1.2, "-"),
        (f"{CUSTOMER_SERVICE_EMAIL}_per_second", "customer-service e-mails", 1.2, "-"),
        (f"{LABEL}_per_second", "LabelGenerated", 1.2, "-"),
    ):
        values = series[key]
        axis.plot(
            range(len(values)),
            values,
            label=label,
            drawstyle="steps-post",
            linewidth=width,
            linestyle=style,
        )
    axis.set_xlabel("seconds since the start of the load")
    axis.set_ylabel("per second")
    axis.set_title(f"Throughput - {title}")
    axis.legend(loc="upper right")
    axis.grid(True, alpha=0.3)
    path = folder / "throughput.png"
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    written.append(path)
    return written


def write_json(report: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.json"
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


def _ms(figures: dict[str, Any] | None) -> str:
    if not figures or not figures.get("count"):
        return "-"
    return (
        f"p50 {figures['p50']:.1f}  p95 {figures['p95']:.1f}  p99 {figures['p99']:.1f}  "
        f"max {figures['max']:.1f} ms  (n={figures['count']})"
    )


def text(report: dict[str, Any]) -> str:
    """The figures a person reads at the end of a run."""
    load = report["load"]
    raw = report.get("raw") or {}
    host = report["machine"]
    lines = [
        "",
        f"== returns-bench: {report['scenario']}",
        f"machine: {host['nproc']} CPUs, {host['ram_gb']} GB, {host['cpu_model']}, "
        f"load average {host['load_average']}",
        f"stored returns before the load: {report['stored']['count']}",
        f"journeys: {load['journeys_ok']} ok, {load['journeys_failed']} failed in "
        f"{load['seconds']} s",
        f"submissions/s: {load['submissions_per_second']}   whole journeys/s: "
        f"{load['journeys_per_second']}   HTTP requests/s: {load['http_requests_per_second']}",
        f"submit latency:                 {_ms(load['submit_latency_ms'])}",
        f"journey latency from schedule:  {_ms(load['journey_latency_from_schedule_ms'])}",
        f"submit -> ReturnSubmitted:      {_ms(load['submit_to_return_submitted_ms'])}",
        f"submit -> customer-service mail:{_ms(load['submit_to_customer_service_email_ms'])}",
        f"submit -> LabelGenerated:       {_ms(load['submit_to_label_generated_ms'])}",
        f"lost after {report['drain']['waited_seconds']} s of drain: {report['drain']['lost']}",
    ]
    if load["errors"]:
        lines.append(f"errors: {load['errors']}")
    store = raw.get("store", {})
    for name in ("insert", "find_by_id", "update_by_id", "find_by_id_in_returns"):
        if name in store:
            lines.append(
                f"raw store {name:<22} {store[name]['per_second']:>9}/s  "
                f"{_ms(store[name]['latency_ms'])}"
            )
    kafka = raw.get("kafka", {})
    if kafka:
        lines.append(
            f"raw kafka ({kafka['message_bytes']} B): produce one by one "
            f"{kafka['produce_one_by_one']['per_second']}/s, batched "
            f"{kafka['produce_batched']['per_second']}/s, consume "
            f"{kafka['consume']['per_second']}/s"
        )
    if "http" in raw:
        lines.append(
            f"raw HTTP /healthz: {raw['http']['per_second']}/s  {_ms(raw['http']['latency_ms'])}"
        )
    if report.get("cpu_percent_during_load"):
        lines.append(f"CPU % of one core during the load: {report['cpu_percent_during_load']}")
    if report.get("cpu_ms_per_submission"):
        lines.append(f"CPU ms per submission, load and drain: {report['cpu_ms_per_submission']}")
    if report.get("store_commands_per_submission"):
        lines.append(
            "store commands per submission, every service, load and drain: "
            f"{report['store_commands_per_submission']}"
        )
    for service, figures in (report.get("store_commands_by_service") or {}).items():
        busiest = ", ".join(f"{key} {value}" for key, value in figures.items() if key != "all")
        lines.append(f"  {service}: {figures['all']} ({busiest})")
    paces = report.get("store_pace_by_service") or {}
    if paces.get("load"):
        lines.append("store commands by service, per second and mean round trip, load -> drain:")
        for service, during in paces["load"].items():
            after = paces.get("drain", {}).get(service)
            then = (
                f"{after['commands_per_second']}/s {after['mean_round_trip_ms']} ms"
                if after
                else "none"
            )
            lines.append(
                f"  {service}: {during['commands_per_second']}/s "
                f"{during['mean_round_trip_ms']} ms -> {then}"
            )
    found = report.get("ratios") or {}
    if found.get("store_bound_submissions_per_second"):
        lines.append(
            "store-bound ceilings, this run's store commands per submission with nothing else "
            f"to run: {found['store_bound_submissions_per_second']} submissions/s at the raw "
            f"probes' rates, {found.get('store_cpu_bound_submissions_per_second')} at their "
            "CPU cost (store and client) on every core"
        )
    if found.get("cpu_bound_submissions_per_second"):
        lines.append(
            "CPU-bound ceiling, this run's CPU per submission on every core with nothing else to "
            f"run: {found['cpu_bound_submissions_per_second']} submissions/s, "
            f"{found.get('cpu_bound_submissions_per_second_without_load_generator')} without "
            "the bench's own CPU"
        )
    lines.append(f"ratios: {report['ratios']}")
    return "\n".join(lines)
