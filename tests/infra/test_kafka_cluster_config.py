"""The opt-in three-node Kafka cluster as configured, before any JVM runs: each node's
properties, ports, shared cluster id, and what `returns-infra env` hands the services."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from returns_infra import cli, fixtures
from returns_infra.components import kafka
from returns_infra.config import ConfigError, KafkaNode, Settings
from returns_infra.fixtures import KafkaCluster
from returns_infra.infra import Infra, InfraError


def _settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.for_profile("test", {"RETURNS_STATE_DIR": str(tmp_path), **env})


def _cluster(tmp_path: Path, **env: str) -> Settings:
    return _settings(tmp_path, RETURNS_KAFKA_NODES="3", **env)


def _properties(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))
    return {key: value for key, value in pairs}


def test_the_cluster_takes_six_ports_from_its_own_base_apart_from_the_single_node(
    tmp_path: Path,
) -> None:
    settings = _cluster(tmp_path, RETURNS_KAFKA_CLUSTER_PORT_BASE="33294")

    assert settings.kafka_node_list() == [
        KafkaNode(1, 33294, 33295),
        KafkaNode(2, 33296, 33297),
        KafkaNode(3, 33298, 33299),
    ]
    assert settings.component_names() == ["kafka-1", "kafka-2", "kafka-3", "mongo", "s3", "smtp"]
    assert (settings.kafka_replication_factor, settings.kafka_min_insync_replicas) == (3, 2)
    single = _settings(tmp_path)
    assert single.kafka_node_list() == [KafkaNode(1, 19092, 19093)]
    assert single.component_names() == ["kafka", "mongo", "s3", "smtp"]
    assert (single.kafka_replication_factor, single.kafka_min_insync_replicas) == (1, 1)


def test_by_default_the_cluster_takes_the_six_ports_above_the_single_nodes(
    tmp_path: Path,
) -> None:
    assert _cluster(tmp_path).kafka_node_list()[0] == KafkaNode(1, 19094, 19095)
    moved = _cluster(tmp_path, RETURNS_KAFKA_PORT="33292", RETURNS_KAFKA_CONTROLLER_PORT="33293")
    assert [node.port for node in moved.kafka_node_list()] == [33294, 33296, 33298]
    assert moved.kafka_node_list()[-1].controller_port == 33299


@pytest.mark.parametrize("nodes", ["2", "5", "three", "0"])
def test_only_one_node_or_a_three_node_cluster_can_be_asked_for(tmp_path: Path, nodes: str) -> None:
    with pytest.raises(ConfigError, match="RETURNS_KAFKA_NODES"):
        _settings(tmp_path, RETURNS_KAFKA_NODES=nodes)


def test_a_cluster_port_shared_with_another_server_is_refused(tmp_path: Path) -> None:
    # The store's port (27117 in the test profile) falls inside 27114..27119.
    with pytest.raises(ConfigError, match="share a port"):
        _cluster(tmp_path, RETURNS_KAFKA_CLUSTER_PORT_BASE="27114")
    # Without the cluster, its ports are not reserved.
    _settings(tmp_path, RETURNS_KAFKA_CLUSTER_PORT_BASE="27114")
    with pytest.raises(ConfigError, match="below 65536"):
        _cluster(tmp_path, RETURNS_KAFKA_CLUSTER_PORT_BASE="65533")
    # A single node high up is no reason to refuse: the cluster's ports are not wanted then.
    _settings(tmp_path, RETURNS_KAFKA_PORT="65530", RETURNS_KAFKA_CONTROLLER_PORT="65531")


def test_each_node_is_broker_and_controller_with_the_same_static_voters(tmp_path: Path) -> None:
    settings = _cluster(tmp_path, RETURNS_KAFKA_CLUSTER_PORT_BASE="33294")
    voters = "1@127.0.0.1:33295,2@127.0.0.1:33297,3@127.0.0.1:33299"
    nodes = Infra(settings).components(["kafka"])

    assert [node.name for node in nodes] == ["kafka-1", "kafka-2", "kafka-3"]
    seen_dirs = set()
    for number, node in enumerate(nodes, start=1):
        assert isinstance(node, kafka.Kafka)
        props = _properties(node_text := node._properties())
        broker, controller = 33294 + 2 * (number - 1), 33295 + 2 * (number - 1)
        assert props["node.id"] == str(number)
        assert props["process.roles"] == "broker,controller"
        assert props["controller.quorum.voters"] == voters
        assert props["listeners"] == (
            f"PLAINTEXT://127.0.0.1:{broker},CONTROLLER://127.0.0.1:{controller}"
        )
        assert props["advertised.listeners"] == f"PLAINTEXT://127.0.0.1:{broker}"
        assert node.ports() == [broker, controller]
        assert node.address() == f"127.0.0.1:{broker}"
        # Each node keeps its own data, log and pid apart from the others'.
        assert props["log.dirs"] == str(tmp_path / f"kafka-{number}" / "data")
        assert node.pid_path == tmp_path / f"kafka-{number}" / f"kafka-{number}.pid"
        assert node.log_path == tmp_path / f"kafka-{number}" / f"kafka-{number}.log"
        seen_dirs.add(props["log.dirs"])
        # Topics and the internal topics at three replicas, two of which must hold a write.
        for key in (
            "default.replication.factor",
            "offsets.topic.replication.factor",
            "transaction.state.log.replication.factor",
            "share.coordinator.state.topic.replication.factor",
        ):
            assert props[key] == "3", key
        for key in (
            "min.insync.replicas",
            "transaction.state.log.min.isr",
            "share.coordinator.state.topic.min.isr",
        ):
            assert props[key] == "2", key
        assert props["unclean.leader.election.enable"] == "false"
        assert "node 2 of 3" in nodes[1].description
        assert node_text.endswith("\n")
    assert len(seen_dirs) == 3


def test_the_single_node_keeps_one_replica_and_its_own_ports(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    [node] = Infra(settings).components(["kafka"])
    props = _properties(node._properties())  # type: ignore[attr-defined]

    assert node.name == "kafka"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["default.replication.factor"] == "1"
    assert props["min.insync.replicas"] == "1"
    assert props["offsets.topic.replication.factor"] == "1"
    assert "unclean.leader.election.enable" not in props
    assert props["log.dirs"] == str(tmp_path / "kafka" / "data")


def test_every_node_is_formatted_with_one_cluster_id_drawn_once(tmp_path: Path) -> None:
    settings = _cluster(tmp_path)

    first = kafka.cluster_id(settings)

    assert kafka.cluster_id(settings) == first
    assert kafka.cluster_id(_cluster(tmp_path)) == first
    assert not first.startswith("-") and len(first) == 22
    assert kafka.cluster_id(_cluster(tmp_path / "other")) != first


def test_components_name_one_node_or_all_three(tmp_path: Path) -> None:
    infra = Infra(_cluster(tmp_path))

    assert [c.name for c in infra.components(["kafka-2"])] == ["kafka-2"]
    assert [c.name for c in infra.components(["smtp", "kafka"])] == [
        "kafka-1",
        "kafka-2",
        "kafka-3",
        "smtp",
    ]
    with pytest.raises(InfraError, match="kafka-4"):
        infra.components(["kafka-4"])
    with pytest.raises(InfraError, match="kafka-1"):
        Infra(_settings(tmp_path)).components(["kafka-1"])


def test_env_lists_every_node_and_the_replication_the_services_create_topics_with(
    tmp_path: Path,
) -> None:
    env = Infra(_cluster(tmp_path, RETURNS_KAFKA_CLUSTER_PORT_BASE="33294")).env()

    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:33294,127.0.0.1:33296,127.0.0.1:33298"
    assert env["KAFKA_REPLICATION_FACTOR"] == "3"
    assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
    single = Infra(_settings(tmp_path)).env()
    assert single["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:19092"
    assert single["KAFKA_REPLICATION_FACTOR"] == "1"


def test_the_cli_option_asks_for_the_cluster(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RETURNS_STATE_DIR", str(tmp_path))
    monkeypatch.setenv("RETURNS_KAFKA_NODES", "1")
    monkeypatch.setenv("RETURNS_KAFKA_CLUSTER_PORT_BASE", "33294")

    assert cli.main(["--profile", "test", "--kafka-nodes", "3", "env"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert "KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:33294,127.0.0.1:33296,127.0.0.1:33298" in lines
    assert "KAFKA_REPLICATION_FACTOR=3" in lines


class _FlakyPortsInfra(Infra):
    """Fails its first start as when a client connection held a node's port for a moment."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.starts: list[list[str]] = []

    def start(self, names: Iterable[str] | None = None, timeout: float | None = None) -> list[Any]:
        self.starts.append(list(names or []))
        if len(self.starts) == 1:
            raise InfraError("kafka-2: port(s) 19096 on 127.0.0.1 are taken by a process ...")
        return []


def test_the_cluster_fixture_starts_again_when_a_port_was_busy_for_a_moment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The wait for free ports before each attempt passes at once.
    monkeypatch.setattr(fixtures, "port_is_free", lambda host, port: True)
    infra = _FlakyPortsInfra(_cluster(tmp_path, RETURNS_KAFKA_CLUSTER_PORT_BASE="33294"))
    cluster = KafkaCluster(infra, "unused", {})

    cluster.start(["kafka-2"])

    assert infra.starts == [["kafka-2"], ["kafka-2"]]
    with pytest.raises(InfraError, match="taken by a process"):
        KafkaCluster(_FlakyPortsInfra(infra.settings), "unused", {}).start(attempts=1)
