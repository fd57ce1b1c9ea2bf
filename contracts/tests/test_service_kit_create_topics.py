"""The topics job of the production topology (deploy/compose's `topics`), on a real broker."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from returns_contracts import Topics
from returns_contracts.service_kit import create_topics

pytestmark = pytest.mark.integration


async def _topics_and_configs(
    bootstrap: str, names: list[str]
) -> tuple[set[str], dict[str, dict[str, str]]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        responses = await admin.describe_configs(
            [
                ConfigResource(ConfigResourceType.TOPIC, name, None)
                for name in names
                if name in existing
            ]
        )
    finally:
        await admin.close()
    configs: dict[str, dict[str, str]] = {}
    for response in responses:
        for resource in response.to_object()["resources"]:
            configs[resource["resource_name"]] = {
                entry["config_names"]: entry["config_value"] for entry in resource["config_entries"]
            }
    return existing, configs


def test_the_job_creates_every_topic_and_dlq_with_the_settings_replication(
    kafka_bootstrap_servers: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prefix = f"job-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", kafka_bootstrap_servers)
    monkeypatch.setenv("TOPIC_PREFIX", prefix)
    monkeypatch.setenv("KAFKA_REPLICATION_FACTOR", "1")
    monkeypatch.delenv("KAFKA_MIN_INSYNC_REPLICAS", raising=False)
    wanted = Topics(prefix).specs()

    create_topics.main()
    create_topics.main()  # a second run (every `up`) finds them there and changes nothing

    existing, configs = asyncio.run(
        _topics_and_configs(kafka_bootstrap_servers, [spec.name for spec in wanted])
    )
    assert {spec.name for spec in wanted} <= existing
    for spec in wanted:
        assert configs[spec.name]["cleanup.policy"] == spec.config["cleanup.policy"]
        assert configs[spec.name]["min.insync.replicas"] == "1"
    printed = capsys.readouterr().out
    assert all(spec.name in printed for spec in wanted)
