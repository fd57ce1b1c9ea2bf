"""What a service asks of its store, counted at `/metrics`: commands by collection and kind,
their failures and their latency, as the driver saw them.

The store's own counters (`serverStatus`) add up every service; these say which service and
which collection a command came from, so an SRE can see a service's hot path (finds on
`orders`, updates on `sent_emails`) and a developer can count a change's round trips under
real load, not only in the round-trip tests.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from pymongo import monitoring

from returns_contracts.service_kit.mongo import CONNECTION_UPKEEP_COMMANDS

# Store commands take a millisecond or so on a local store and seconds when it is restarting.
_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)


class StoreCommandMetrics(monitoring.CommandListener):
    """A PyMongo command listener; the driver calls it on the event loop, so it only counts.

    Each labelled series is looked up once and kept: `labels()` on every command cost about
    as much as the driver's own event machinery (tens of microseconds a command).
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.commands = Counter(
            "store_commands_total",
            "Commands sent to the store, by collection and command",
            ["collection", "command"],
            registry=registry,
        )
        self.failures = Counter(
            "store_command_failures_total",
            "Store commands answered with an error or not at all (timeout, lost connection);"
            " a write refused inside an answer (a duplicate key) is not one",
            ["command"],
            registry=registry,
        )
        self.latency = Histogram(
            "store_command_duration_seconds",
            "Time from a store command sent to its answer, as the driver measured it",
            ["command"],
            buckets=_LATENCY_BUCKETS,
            registry=registry,
        )
        self._counted: dict[tuple[str, str], Any] = {}
        self._timed: dict[str, Any] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        if name in CONNECTION_UPKEEP_COMMANDS:
            return
        target = event.command.get(name)
        # A getMore names its cursor, and its collection beside it.
        collection = str(target if isinstance(target, str) else event.command.get("collection", ""))
        series = self._counted.get((collection, name))
        if series is None:
            series = self._counted[(collection, name)] = self.commands.labels(collection, name)
        series.inc()

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.command_name not in CONNECTION_UPKEEP_COMMANDS:
            self._time(event.command_name, event.duration_micros)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        if event.command_name not in CONNECTION_UPKEEP_COMMANDS:
            self.failures.labels(event.command_name).inc()
            self._time(event.command_name, event.duration_micros)

    def _time(self, name: str, duration_micros: int) -> None:
        series = self._timed.get(name)
        if series is None:
            series = self._timed[name] = self.latency.labels(name)
        series.observe(duration_micros / 1_000_000)
