"""`returns-admin` against the real broker and the real labels service.

Commands run in-process through click's runner (one `--help` runs the installed script).
Tests that write to shared topics use their own merchant; those that need topics nobody else
reads (replay --all, lag) use their own topic prefix.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from click.testing import CliRunner, Result
from faststream.kafka import KafkaBroker

from returns_admin.cli import main
from returns_contracts import Message, ReturnSubmitted, Topics
from returns_contracts.examples import merchant_updated, return_submitted
from returns_contracts.service_kit.access import INTERNAL_TOKEN_HEADER
from returns_contracts.service_kit.kafka import publish, server_list
from returns_contracts.service_kit.kafka_topics import ensure_topics
from returns_contracts.service_kit.settings import ServiceSettings
from returns_infra.fixtures import RunningServices
from returns_infra.testing import eventually

pytestmark = pytest.mark.e2e

WAIT = 60.0
# The services of the test profile run with the internal token of the settings (demo default).
INTERNAL_TOKEN = ServiceSettings().internal_api_token


def admin(
    bootstrap: str,
    labels_url: str,
    *args: str,
    prefix: str = "",
    internal_token: str = INTERNAL_TOKEN,
) -> Result:
    runner = CliRunner()
    return runner.invoke(
        main,
        [
            "--bootstrap-servers",
            bootstrap,
            "--labels-url",
            labels_url,
            "--topic-prefix",
            prefix,
            "--internal-token",
            internal_token,
            *args,
        ],
        catch_exceptions=False,
    )


async def _publish(bootstrap: str, *messages: Message, topics: Topics | None = None) -> None:
    broker = KafkaBroker(server_list(bootstrap), enable_idempotence=True, acks="all", logger=None)
    await broker.start()
    try:
        for message in messages:
            await publish(broker, topics or Topics(), message)
    finally:
        await broker.stop()


async def _produce(
    bootstrap: str, topic: str, value: bytes, key: bytes, headers: list[tuple[str, bytes]]
) -> tuple[int, int]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        record = await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()
    return record.partition, record.offset


def _new_return(bootstrap: str, *, defective: bool) -> ReturnSubmitted:
    merchant_id = f"shop-{uuid.uuid4().hex[:10]}"
    event = return_submitted(
        merchant_id=merchant_id, return_id=f"r-{uuid.uuid4().hex[:12]}", defective=defective
    )
    asyncio.run(_publish(bootstrap, merchant_updated(merchant_id=merchant_id), event))
    return event


def _status(labels_url: str, event: ReturnSubmitted, wanted: str) -> dict[str, Any]:
    url = (
        f"{labels_url}/internal/v1/merchants/{event.merchant_id}"
        f"/returns/{event.payload.return_id}/label"
    )

    def probe() -> dict[str, Any] | None:
        answer = httpx.get(url, headers={INTERNAL_TOKEN_HEADER: INTERNAL_TOKEN}, timeout=10)
        if answer.status_code != 200 or answer.json()["status"] != wanted:
            return None
        found: dict[str, Any] = answer.json()
        return found

    return eventually(probe, WAIT, f"{event.payload.return_id} becoming {wanted}")


def _dead_letter_headers(source: str, consumer: str = "labels") -> list[tuple[str, bytes]]:
    return [
        ("x-message-type", b"ReturnSubmitted"),
        ("x-dlq-error", b"ConnectionError: S3 did not answer"),
        ("x-dlq-error-type", b"ConnectionError"),
        ("x-dlq-attempts", b"8"),
        ("x-dlq-source-topic", source.encode()),
        ("x-dlq-consumer", consumer.encode()),
    ]


def test_the_installed_command_explains_itself() -> None:
    script = Path(sys.executable).parent / "returns-admin"
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    assert "Exit codes" in done.stdout
    for command in ("label", "dlq", "lag"):
        assert command in done.stdout


def test_label_request_makes_the_label_then_regenerate_makes_a_new_one(
    kafka_bootstrap_servers: str, services: RunningServices
) -> None:
    labels_url = services.urls["labels"]
    event = _new_return(kafka_bootstrap_servers, defective=True)
    merchant_id, return_id = event.merchant_id, event.payload.return_id
    _status(labels_url, event, "awaiting_merchant")

    first = admin(
        kafka_bootstrap_servers,
        labels_url,
        "label",
        "request",
        merchant_id,
        return_id,
        "--operator",
        "alice",
    )
    assert first.exit_code == 0, first.output
    assert "Label lbl-" in first.output and "Download: http" in first.output

    status = admin(
        kafka_bootstrap_servers, labels_url, "label", "status", merchant_id, return_id, "--json"
    )
    assert status.exit_code == 0, status.output
    answer = json.loads(status.output)
    assert answer["status"] == "generated"
    assert answer["label"]["requested_by"] == {"kind": "cli", "id": "alice", "display_name": None}
    first_label = answer["label"]["label_id"]
    assert first_label in first.output

    again = admin(
        kafka_bootstrap_servers,
        labels_url,
        "label",
        "request",
        merchant_id,
        return_id,
        "--regenerate",
        "--operator",
        "alice",
    )
    assert again.exit_code == 0, again.output
    assert "New label lbl-" in again.output and first_label not in again.output

    shown = admin(kafka_bootstrap_servers, labels_url, "label", "status", merchant_id, return_id)
    assert shown.exit_code == 0, shown.output
    assert f"Voided labels: {first_label}" in shown.output
    assert f"Return {return_id} (defective): generated" in shown.output


def test_label_request_for_another_merchant_s_return_exits_3(
    kafka_bootstrap_servers: str, services: RunningServices
) -> None:
    labels_url = services.urls["labels"]
    event = _new_return(kafka_bootstrap_servers, defective=True)
    _status(labels_url, event, "awaiting_merchant")

    result = admin(
        kafka_bootstrap_servers,
        labels_url,
        "label",
        "request",
        "shop-intruder",
        event.payload.return_id,
    )

    assert result.exit_code == 3
    assert "rejected (wrong_merchant)" in result.output


def test_label_status_of_an_unknown_return_exits_3_and_a_dead_service_5(
    kafka_bootstrap_servers: str, services: RunningServices
) -> None:
    unknown = admin(
        kafka_bootstrap_servers, services.urls["labels"], "label", "status", "shop-x", "r-none"
    )
    assert unknown.exit_code == 3
    assert "has no return r-none" in unknown.output

    dead = admin(kafka_bootstrap_servers, "http://127.0.0.1:9", "label", "status", "a", "b")
    assert dead.exit_code == 5
    assert "cannot reach the labels service" in dead.output


def test_label_status_needs_the_internal_token(
    kafka_bootstrap_servers: str, services: RunningServices
) -> None:
    event = _new_return(kafka_bootstrap_servers, defective=True)
    _status(services.urls["labels"], event, "awaiting_merchant")
    args = ("label", "status", event.merchant_id, event.payload.return_id)

    refused = admin(
        kafka_bootstrap_servers, services.urls["labels"], *args, internal_token="not-the-token"
    )
    allowed = admin(kafka_bootstrap_servers, services.urls["labels"], *args)

    assert refused.exit_code == 3
    assert "refused the internal token" in refused.output
    assert allowed.exit_code == 0, allowed.output
    assert "awaiting_merchant" in allowed.output


def test_an_unreachable_broker_exits_5_with_the_address() -> None:
    result = admin("127.0.0.1:9", "http://127.0.0.1:9", "lag")
    assert result.exit_code == 5
    assert "cannot reach Kafka at 127.0.0.1:9" in result.output


def test_dlq_list_shows_a_poison_message_with_its_error(
    kafka_bootstrap_servers: str, services: RunningServices
) -> None:
    marker = uuid.uuid4().hex
    asyncio.run(
        _produce(
            kafka_bootstrap_servers,
            Topics().return_submitted,
            json.dumps({"marker": marker}).encode(),
            key=marker.encode(),
            headers=[],
        )
    )

    def listed() -> list[dict[str, Any]] | None:
        result = admin(
            kafka_bootstrap_servers,
            services.urls["labels"],
            "dlq",
            "list",
            "--topic",
            "returns.submitted",
            "--json",
        )
        assert result.exit_code == 0, result.output
        letters = [json.loads(line) for line in result.output.splitlines()]
        mine = [one for one in letters if marker in one["value"]]
        return mine if any(one["headers"]["x-dlq-consumer"] == "labels" for one in mine) else None

    [letter] = [
        one
        for one in eventually(listed, WAIT, "dead-lettering")
        if one["headers"]["x-dlq-consumer"] == "labels"
    ]
    assert letter["headers"]["x-dlq-source-topic"] == "returns.submitted"
    assert letter["headers"]["x-dlq-error-type"] == "MalformedMessageError"
    assert letter["id"] == f"returns.submitted.dlq:{letter['partition']}:{letter['offset']}"

    readable = admin(
        kafka_bootstrap_servers,
        services.urls["labels"],
        "dlq",
        "list",
        "--topic",
        "returns.submitted",
    )
    assert f"{letter['id']}" in readable.output
    assert "MalformedMessageError:" in readable.output


def test_dlq_replay_of_one_message_gets_it_handled(
    kafka_bootstrap_servers: str, services: RunningServices
) -> None:
    # A classic return whose handling once failed (S3 was down, say) sits in the DLQ.
    merchant_id = f"shop-{uuid.uuid4().hex[:10]}"
    asyncio.run(_publish(kafka_bootstrap_servers, merchant_updated(merchant_id=merchant_id)))
    event = return_submitted(merchant_id=merchant_id, return_id=f"r-{uuid.uuid4().hex[:12]}")
    dlq_topic = Topics.dlq(Topics().return_submitted)
    partition, offset = asyncio.run(
        _produce(
            kafka_bootstrap_servers,
            dlq_topic,
            event.model_dump_json().encode(),
            key=event.key(),
            headers=_dead_letter_headers(Topics().return_submitted),
        )
    )

    result = admin(
        kafka_bootstrap_servers,
        services.urls["labels"],
        "dlq",
        "replay",
        f"{dlq_topic}:{partition}:{offset}",
    )

    assert result.exit_code == 0, result.output
    assert f"Replayed {dlq_topic}:{partition}:{offset} -> returns.submitted" in result.output
    status = _status(services.urls["labels"], event, "generated")
    assert status["label"] is not None


def test_dlq_replay_all_sends_every_message_back_to_its_own_topic(
    kafka_bootstrap_servers: str,
) -> None:
    topics = Topics(prefix=f"t{uuid.uuid4().hex[:8]}")
    asyncio.run(ensure_topics(kafka_bootstrap_servers, topics))
    sent = []
    for number, source in enumerate(
        (topics.return_submitted, topics.return_submitted, topics.label_requested)
    ):
        value = json.dumps({"n": number}).encode()
        asyncio.run(
            _produce(
                kafka_bootstrap_servers,
                Topics.dlq(source),
                value,
                key=f"k{number}".encode(),
                headers=_dead_letter_headers(source),
            )
        )
        sent.append((source, value))

    result = admin(
        kafka_bootstrap_servers, "http://unused", "dlq", "replay", "--all", prefix=topics.prefix
    )

    assert result.exit_code == 0, result.output
    assert "3 message(s) replayed." in result.output
    back = asyncio.run(
        _read_all(kafka_bootstrap_servers, [topics.return_submitted, topics.label_requested], 3)
    )
    assert sorted((topic, value) for topic, value, _ in back) == sorted(sent)
    for _, _, headers in back:
        assert not any(name.startswith("x-dlq-") for name in headers)
        assert headers["x-message-type"] == "ReturnSubmitted"
        assert headers["x-replayed-from"].startswith(topics.prefix)


def test_lag_is_end_offset_minus_committed_offset_per_group_and_topic(
    kafka_bootstrap_servers: str, services: RunningServices
) -> None:
    topics = Topics(prefix=f"t{uuid.uuid4().hex[:8]}")
    asyncio.run(ensure_topics(kafka_bootstrap_servers, topics))
    for _ in range(3):
        asyncio.run(
            _produce(kafka_bootstrap_servers, topics.return_submitted, b"{}", b"same-key", [])
        )
    group = f"g-{uuid.uuid4().hex[:8]}"
    asyncio.run(_commit_first(kafka_bootstrap_servers, topics.return_submitted, group))

    result = admin(kafka_bootstrap_servers, "http://unused", "lag", "--group", group, "--json")

    assert result.exit_code == 0, result.output
    [row] = [json.loads(line) for line in result.output.splitlines()]
    assert row == {
        "group": group,
        "topic": topics.return_submitted,
        "committed": 1,
        "end": 3,
        "lag": 2,
        "partitions": 3,
    }
    everyone = admin(kafka_bootstrap_servers, "http://unused", "lag")
    assert everyone.exit_code == 0, everyone.output
    assert "labels" in everyone.output and "returns.label-requested" in everyone.output
    unknown = admin(kafka_bootstrap_servers, "http://unused", "lag", "--group", "nobody-here")
    assert unknown.exit_code == 3


def test_usage_mistakes_exit_2_with_the_reason() -> None:
    neither = admin("127.0.0.1:9", "http://unused", "dlq", "replay")
    assert neither.exit_code == 2
    assert "name messages" in neither.output
    malformed = admin("127.0.0.1:9", "http://unused", "dlq", "replay", "returns.submitted.dlq:x")
    assert malformed.exit_code == 2
    assert "topic:partition:offset" in malformed.output
    not_dlq = admin("127.0.0.1:9", "http://unused", "dlq", "replay", "returns.submitted:0:1")
    assert not_dlq.exit_code == 2
    assert "not a dead-letter topic" in not_dlq.output


async def _read_all(
    bootstrap: str, topics: list[str], count: int
) -> list[tuple[str, bytes, dict[str, str]]]:
    consumer = AIOKafkaConsumer(
        *topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[tuple[str, bytes, dict[str, str]]] = []
    try:
        async with asyncio.timeout(WAIT):
            while len(found) < count:
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    for record in records:
                        headers = {name: value.decode() for name, value in record.headers}
                        found.append((record.topic, record.value or b"", headers))
    finally:
        await consumer.stop()
    return found


async def _commit_first(bootstrap: str, topic: str, group: str) -> None:
    """Consume the first message of the one partition written to, and commit past it only."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), WAIT)
        where = TopicPartition(record.topic, record.partition)
        await consumer.commit({where: record.offset + 1})
    finally:
        await consumer.stop()
