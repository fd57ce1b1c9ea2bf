"""`returns-lag-exporter`: consumer lag and dead-letter depth for Prometheus.

Every `--interval` seconds it asks Kafka (the admin client `returns-admin lag` uses) for each
consumer group's committed offsets and each partition's end offset, and for what each
dead-letter topic holds; `/metrics` serves the last answer in Prometheus's text format:

    kafka_consumergroup_lag{group, topic, partition}              messages not yet committed
    kafka_consumergroup_committed_offset{group, topic, partition}
    kafka_partition_end_offset{group, topic, partition}
    kafka_dlq_messages{topic}                                     messages the DLQ holds
    lag_exporter_up                                               1 if the last poll answered
    lag_exporter_last_success_timestamp_seconds
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import click
from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from returns_admin.errors import AdminError
from returns_admin.kafka_ops import Kafka, PartitionLag
from returns_admin.options import kafka_options
from returns_contracts.topics import Topics

logger = logging.getLogger("returns_admin.lag_exporter")


@dataclass(frozen=True)
class Snapshot:
    """What one poll of Kafka found (or, with `up` False, that it found nothing)."""

    lags: Sequence[PartitionLag] = ()
    dlq_depth: dict[str, int] = field(default_factory=dict)
    up: bool = False
    last_success: float = 0.0
    poll_seconds: float = 0.0


class SnapshotCollector(Collector):
    """Turns the latest snapshot into metric families; the poller swaps `snapshot` whole."""

    def __init__(self, snapshot: Snapshot | None = None) -> None:
        self.snapshot = snapshot or Snapshot()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snapshot = self.snapshot
        where = ["group", "topic", "partition"]
        lag = GaugeMetricFamily(
            "kafka_consumergroup_lag",
            "Messages of the partition the group has not committed yet",
            labels=where,
        )
        committed = GaugeMetricFamily(
            "kafka_consumergroup_committed_offset",
            "The group's committed offset (the first offset when it never committed)",
            labels=where,
        )
        end = GaugeMetricFamily(
            "kafka_partition_end_offset", "End offset of a partition the group reads", labels=where
        )
        for row in snapshot.lags:
            labels = [row.group, row.topic, str(row.partition)]
            lag.add_metric(labels, row.lag)
            committed.add_metric(labels, row.committed)
            end.add_metric(labels, row.end)
        dlq = GaugeMetricFamily(
            "kafka_dlq_messages",
            "Messages a dead-letter topic holds (replayed ones too, until retention)",
            labels=["topic"],
        )
        for topic, depth in sorted(snapshot.dlq_depth.items()):
            dlq.add_metric([topic], depth)
        yield lag
        yield committed
        yield end
        yield dlq
        yield GaugeMetricFamily(
            "lag_exporter_up", "1 if the last poll of Kafka answered", value=int(snapshot.up)
        )
        yield GaugeMetricFamily(
            "lag_exporter_last_success_timestamp_seconds",
            "When a poll of Kafka last answered (Unix time)",
            value=snapshot.last_success,
        )
        yield GaugeMetricFamily(
            "lag_exporter_poll_seconds", "How long the last poll took", value=snapshot.poll_seconds
        )


def render(snapshot: Snapshot) -> str:
    """The snapshot in Prometheus's text format, as /metrics serves it."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot))
    return generate_latest(registry).decode()


async def poll(kafka: Kafka, previous: Snapshot) -> Snapshot:
    """One look at Kafka. A failure keeps the last figures and says `up` 0."""
    started = time.monotonic()
    try:
        lags = await kafka.partition_lag()
        depth = await kafka.dlq_depth()
    except (AdminError, OSError, TimeoutError) as error:
        logger.warning("polling Kafka failed: %s", error)
        return Snapshot(
            previous.lags,
            previous.dlq_depth,
            up=False,
            last_success=previous.last_success,
            poll_seconds=time.monotonic() - started,
        )
    return Snapshot(lags, depth, True, time.time(), time.monotonic() - started)


async def serve(kafka: Kafka, collector: SnapshotCollector, interval: float) -> None:
    while True:
        collector.snapshot = await poll(kafka, collector.snapshot)
        await asyncio.sleep(interval)


def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"{value!r} is not HOST:PORT", param_hint="--listen")
    return host, int(port)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@kafka_options
@click.option(
    "--listen", default="127.0.0.1:9191", show_default=True, help="HOST:PORT of /metrics."
)
@click.option(
    "--interval",
    type=click.FloatRange(min=1.0),
    default=5.0,
    show_default=True,
    help="Seconds between two polls of Kafka.",
)
def main(bootstrap_servers: str, topic_prefix: str, listen: str, interval: float) -> None:
    """Serve consumer lag per group, topic and partition, and dead-letter depth, on /metrics."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        topics = Topics(prefix=topic_prefix)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--topic-prefix") from error
    host, port = _listen(listen)
    collector = SnapshotCollector()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    start_http_server(port, addr=host, registry=registry)
    logger.info("serving http://%s:%d/metrics for Kafka at %s", host, port, bootstrap_servers)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(Kafka(bootstrap_servers, topics), collector, interval))
