"""How many replicas the services give their topics: from settings only, never guessed."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from returns_contracts import Topics
from returns_contracts.service_kit.app import new_broker
from returns_contracts.service_kit.kafka_topics import min_insync_for, new_topics
from returns_contracts.service_kit.settings import ServiceSettings


def test_a_service_creates_single_replica_topics_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KAFKA_REPLICATION_FACTOR", raising=False)
    monkeypatch.delenv("KAFKA_MIN_INSYNC_REPLICAS", raising=False)
    # Several bootstrap servers are no reason to guess: a list may name one broker twice.
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092,localhost:9092")

    settings = ServiceSettings()

    assert settings.kafka_replication_factor == 1
    created = new_topics(
        Topics().specs(), settings.kafka_replication_factor, settings.kafka_min_insync_replicas
    )
    assert {topic.replication_factor for topic in created} == {1}
    assert {topic.topic_configs["min.insync.replicas"] for topic in created} == {"1"}


def test_the_cluster_settings_give_every_topic_and_dlq_three_replicas_two_in_sync(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_REPLICATION_FACTOR", "3")
    monkeypatch.delenv("KAFKA_MIN_INSYNC_REPLICAS", raising=False)
    settings = ServiceSettings()
    specs = Topics("t1").specs()

    created = new_topics(
        specs, settings.kafka_replication_factor, settings.kafka_min_insync_replicas
    )

    assert [topic.name for topic in created] == [spec.name for spec in specs]
    assert any(topic.name.endswith(".dlq") for topic in created)
    for topic, spec in zip(created, specs, strict=True):
        assert topic.replication_factor == 3
        assert topic.num_partitions == spec.partitions
        assert topic.topic_configs == {**spec.config, "min.insync.replicas": "2"}


def test_min_insync_replicas_follows_the_factor_unless_set() -> None:
    assert [min_insync_for(factor) for factor in (1, 2, 3, 5)] == [1, 1, 2, 4]
    assert min_insync_for(3, 3) == 3
    with pytest.raises(ValueError, match="between 1 and the replication factor 3"):
        min_insync_for(3, 4)
    with pytest.raises(ValueError, match="not possible"):
        min_insync_for(0)


def test_a_service_refuses_more_in_sync_replicas_than_replicas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KAFKA_REPLICATION_FACTOR", "1")
    monkeypatch.setenv("KAFKA_MIN_INSYNC_REPLICAS", "2")

    with pytest.raises(ValidationError, match=r"min\.insync\.replicas=2"):
        ServiceSettings()


def test_the_services_producer_states_acks_all_and_idempotence() -> None:
    # aiokafka's own defaults are acks=1 without idempotence: a record acknowledged by the
    # leader alone is lost when it dies, and a retried send can be written twice. The kit says
    # both explicitly rather than rely on a default that could change under it. FastStream keeps
    # the producer's arguments in `_connection_kwargs` until it connects.
    broker = new_broker(ServiceSettings(), "declaration")

    producer = broker._connection_kwargs

    assert producer["acks"] == "all"
    assert producer["enable_idempotence"] is True
