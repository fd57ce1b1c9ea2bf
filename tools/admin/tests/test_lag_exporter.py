"""`returns-lag-exporter`: its Prometheus text (unit), and its figures against the real broker
(integration: topics of its own prefix, a group of its own)."""

from __future__ import annotations

import socket
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from returns_admin.kafka_ops import Kafka, PartitionLag
from returns_admin.lag_exporter import Snapshot, poll, render
from returns_contracts import Topics
from returns_contracts.service_kit.kafka_topics import ensure_topics
from returns_infra.testing import eventually

WAIT = 60.0


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus text, by name and sorted labels (the format must parse)."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


# --- formatting (unit) -----------------------------------------------------------------------


def test_each_partition_of_each_group_is_one_sample_with_its_labels() -> None:
    snapshot = Snapshot(
        lags=[
            PartitionLag("notifier", "returns.submitted", 0, 7, 10, 3),
            PartitionLag("labels", "returns.submitted", 2, 10, 10, 0),
        ],
        dlq_depth={"returns.submitted.dlq": 2, "labels.generated.dlq": 0},
        up=True,
        last_success=1_700_000_000.0,
        poll_seconds=0.25,
    )

    text = render(snapshot)
    samples = _samples(text)

    where = (("group", "notifier"), ("partition", "0"), ("topic", "returns.submitted"))
    assert samples["kafka_consumergroup_lag", where] == 3
    assert samples["kafka_consumergroup_committed_offset", where] == 7
    assert samples["kafka_partition_end_offset", where] == 10
    idle = (("group", "labels"), ("partition", "2"), ("topic", "returns.submitted"))
    assert samples["kafka_consumergroup_lag", idle] == 0
    assert samples["kafka_dlq_messages", (("topic", "returns.submitted.dlq"),)] == 2
    assert samples["kafka_dlq_messages", (("topic", "labels.generated.dlq"),)] == 0
    assert samples["lag_exporter_up", ()] == 1
    assert samples["lag_exporter_last_success_timestamp_seconds", ()] == 1_700_000_000.0
    assert "# TYPE kafka_consumergroup_lag gauge" in text
    assert "# HELP kafka_dlq_messages" in text


def test_label_values_are_escaped() -> None:
    odd = 'group "with" quotes\\and\nnewline'
    text = render(Snapshot(lags=[PartitionLag(odd, "t", 0, 0, 1, 1)], up=True))

    assert r'group="group \"with\" quotes\\and\nnewline"' in text
    [(_, labels)] = [key for key in _samples(text) if key[0] == "kafka_consumergroup_lag"]
    assert dict(labels)["group"] == odd


def test_before_any_answer_the_exporter_says_down_and_shows_no_lag() -> None:
    samples = _samples(render(Snapshot()))

    assert samples["lag_exporter_up", ()] == 0
    assert not [key for key in samples if key[0] == "kafka_consumergroup_lag"]


async def test_a_failed_poll_keeps_the_last_figures_and_says_down() -> None:
    before = Snapshot([PartitionLag("g", "t", 0, 1, 4, 3)], {"t.dlq": 1}, True, 5.0, 0.1)
    unreachable = Kafka("127.0.0.1:9", Topics())

    after = await poll(unreachable, before)

    assert not after.up
    assert after.lags == before.lags and after.dlq_depth == before.dlq_depth
    assert after.last_success == 5.0


# --- against the real broker (integration) ----------------------------------------------------


async def _produce(bootstrap: str, topic: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for _ in range(count):
            await producer.send_and_wait(topic, b"{}", key=b"same-key", partition=0)
    finally:
        await producer.stop()


async def _commit(bootstrap: str, topic: str, group: str, offset: int) -> None:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        where = TopicPartition(topic, 0)
        consumer.assign([where])
        await consumer.commit({where: offset})
    finally:
        await consumer.stop()


@pytest.mark.integration
async def test_the_exporter_reports_the_lag_and_dlq_depth_kafka_has(
    kafka_bootstrap_servers: str,
) -> None:
    topics = Topics(prefix=f"lx{uuid.uuid4().hex[:8]}")
    await ensure_topics(kafka_bootstrap_servers, topics)
    await _produce(kafka_bootstrap_servers, topics.return_submitted, 5)
    await _produce(kafka_bootstrap_servers, Topics.dlq(topics.return_submitted), 2)
    group = f"lx-{uuid.uuid4().hex[:8]}"
    await _commit(kafka_bootstrap_servers, topics.return_submitted, group, 1)

    snapshot = await poll(Kafka(kafka_bootstrap_servers, topics), Snapshot())
    samples = _samples(render(snapshot))

    assert snapshot.up
    where = (("group", group), ("partition", "0"), ("topic", topics.return_submitted))
    assert samples["kafka_consumergroup_lag", where] == 4
    assert samples["kafka_consumergroup_committed_offset", where] == 1
    assert samples["kafka_partition_end_offset", where] == 5
    dlq = Topics.dlq(topics.return_submitted)
    assert samples["kafka_dlq_messages", (("topic", dlq),)] == 2
    assert samples["kafka_dlq_messages", (("topic", Topics.dlq(topics.label_generated)),)] == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.integration
def test_the_installed_exporter_serves_metrics_over_http(kafka_bootstrap_servers: str) -> None:
    port = _free_port()
    script = Path(sys.executable).parent / "returns-lag-exporter"
    process = subprocess.Popen(
        [
            str(script),
            "--bootstrap-servers",
            kafka_bootstrap_servers,
            "--listen",
            f"127.0.0.1:{port}",
            "--interval",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def answered() -> str | None:
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
            except httpx.HTTPError:
                return None
            return text if "lag_exporter_up 1.0" in text else None

        text = eventually(answered, WAIT, "the exporter's first answered poll")
        assert "kafka_dlq_messages" in text
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_the_exporter_refuses_a_bad_listen_address() -> None:
    script = Path(sys.executable).parent / "returns-lag-exporter"
    done = subprocess.run(
        [str(script), "--listen", "nowhere"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "HOST:PORT" in done.stderr
