"""How many store commands the whole system sends per submission, from the server's counters,
and which service and collection sends them, from each service's `/metrics`.

Every process (declaration and its relay, notifier, labels) talks to the same store, so the
server's own per-command totals (`serverStatus.metrics.commands`, kept by MongoDB and by
FerretDB alike) count what a submission costs end to end. Each service also counts what its
own client sends (`store_commands_total{collection,command}`, service_kit.store_metrics): the
breakdown says where a round trip comes from.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from returns_contracts.service_kit.mongo import CONNECTION_UPKEEP_COMMANDS

# Connection upkeep of the clients (and this count's own reads), not work a submission asks for.
_UPKEEP = CONNECTION_UPKEEP_COMMANDS | {"serverStatus"}


def command_totals(mongodb_url: str) -> dict[str, int] | None:
    """The server's count of each command so far, or None when it does not tell."""
    try:
        client: MongoClient[dict[str, Any]] = MongoClient(
            mongodb_url, serverSelectionTimeoutMS=3000
        )
        with client:
            status: Mapping[str, Any] = client.admin.command("serverStatus")
    except PyMongoError:  # the figure is optional: a server without it leaves the report whole
        return None
    commands = status.get("metrics", {}).get("commands", {})
    totals: dict[str, int] = {}
    for name, counts in commands.items():
        if name not in _UPKEEP and isinstance(counts, Mapping):
            totals[name] = int(counts.get("total", 0))
    return totals


def per_submission(
    before: Mapping[str, int] | None, after: Mapping[str, int] | None, submissions: int
) -> dict[str, float]:
    """Commands per submission between two snapshots, by command and in all (`all`)."""
    if before is None or after is None or submissions <= 0:
        return {}
    used = {name: total - before.get(name, 0) for name, total in after.items()}
    per = {name: round(count / submissions, 2) for name, count in used.items() if count > 0}
    per["all"] = round(sum(count for count in used.values() if count > 0) / submissions, 2)
    return dict(sorted(per.items(), key=lambda item: -item[1]))


ServiceCounts = dict[str, dict[str, float]]


def metrics_pages(service_urls: Mapping[str, str]) -> dict[str, str]:
    """Each service's `/metrics` page, read once for both `service_totals` and
    `service_round_trips`; a service that does not answer is left out."""
    pages: dict[str, str] = {}
    for service, url in service_urls.items():
        try:
            pages[service] = httpx.get(f"{url}/metrics", timeout=5.0).text
        except httpx.HTTPError:
            continue
    return pages


def service_totals(pages: Mapping[str, str]) -> ServiceCounts:
    """Each service's count of its store commands so far (its `metrics_pages` page), by
    `<command> <collection>`."""
    return {service: store_counts(page) for service, page in pages.items()}


def store_counts(metrics: str) -> dict[str, float]:
    """`store_commands_total` of one `/metrics` page, by `<command> <collection>`."""
    counts: dict[str, float] = {}
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == "store_commands_total":
                labels = sample.labels
                counts[f"{labels['command']} {labels['collection']}"] = sample.value
    return counts


def per_submission_by_service(
    before: ServiceCounts, after: ServiceCounts, submissions: int, top: int = 6
) -> dict[str, dict[str, float]]:
    """Per service: its commands per submission in all (`all`) and its `top` busiest."""
    if submissions <= 0:
        return {}
    figures: dict[str, dict[str, float]] = {}
    for service, counts in after.items():
        earlier = before.get(service, {})
        used = {key: value - earlier.get(key, 0.0) for key, value in counts.items()}
        used = {key: value for key, value in used.items() if value > 0}
        busiest = sorted(used.items(), key=lambda item: -item[1])[:top]
        figures[service] = {
            "all": round(sum(used.values()) / submissions, 2),
            **{key: round(value / submissions, 2) for key, value in busiest},
        }
    return dict(sorted(figures.items(), key=lambda item: -item[1]["all"]))


# Per service: its store commands so far and the seconds they took, as its driver timed them.
RoundTrips = dict[str, tuple[float, float]]


def service_round_trips(pages: Mapping[str, str]) -> RoundTrips:
    """Each service's `store_command_duration_seconds` so far (its `metrics_pages` page), as
    (commands, seconds)."""
    return {service: round_trips(page) for service, page in pages.items()}


def round_trips(metrics: str) -> tuple[float, float]:
    """The commands one `/metrics` page timed, and their seconds, every command together."""
    commands = seconds = 0.0
    for family in text_string_to_metric_families(metrics):
        for sample in family.samples:
            if sample.name == "store_command_duration_seconds_count":
                commands += sample.value
            elif sample.name == "store_command_duration_seconds_sum":
                seconds += sample.value
    return commands, seconds


def pace(before: RoundTrips, after: RoundTrips, seconds: float) -> dict[str, dict[str, float]]:
    """Per service, between two snapshots `seconds` apart: its store commands per second and
    their mean round trip in ms. A consumer under SCHED_IDLE slows down while the front door
    is busy: the load's pace against the drain's says by how much, and its round trips how long
    the store (and its own CPU) kept it waiting."""
    if seconds <= 0:
        return {}
    figures: dict[str, dict[str, float]] = {}
    for service, (commands, spent) in after.items():
        earlier_commands, earlier_spent = before.get(service, (0.0, 0.0))
        timed = commands - earlier_commands
        if timed <= 0:
            continue
        figures[service] = {
            "commands_per_second": round(timed / seconds, 1),
            "mean_round_trip_ms": round(1000 * (spent - earlier_spent) / timed, 2),
        }
    return dict(sorted(figures.items()))
