"""deploy/compose, the Dockerfiles and every YAML file of deploy/, offline: Debian's
docker-compose resolves the compose file, hadolint lints the images, yamllint the YAML, and the
project's own rules are checked on what docker-compose resolved."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from .settings import JOB_SETTINGS, SETTINGS, demo_credentials, env_names
from .topology import COMPOSE_FILE, DEPLOY, DOCKERFILES, SERVICES, run, tool, venv_tool


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """The compose file as docker-compose resolves it (anchors, merges, variables)."""
    resolved = run([tool("docker-compose"), "-f", str(COMPOSE_FILE), "config"])
    assert resolved.returncode == 0, resolved.stderr
    config: dict[str, Any] = yaml.safe_load(resolved.stdout)
    return config


def test_yamllint_passes_on_every_yaml_file_of_deploy() -> None:
    linted = run(
        [venv_tool("yamllint"), "--strict", "-c", str(DEPLOY / ".yamllint.yaml"), "deploy"]
    )

    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_docker_compose_accepts_the_compose_file() -> None:
    checked = run([tool("docker-compose"), "-f", str(COMPOSE_FILE), "config", "--quiet"])

    assert checked.returncode == 0, checked.stderr


def test_kafka_is_three_kraft_nodes_replicating_to_two_in_sync_without_auto_creation(
    compose: dict[str, Any],
) -> None:
    nodes = {name: service for name, service in compose["services"].items() if "kafka-" in name}

    assert sorted(nodes) == ["kafka-1", "kafka-2", "kafka-3"]
    voters = {node["environment"]["KAFKA_CONTROLLER_QUORUM_VOTERS"] for node in nodes.values()}
    assert voters == {"1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093"}
    assert {node["environment"]["KAFKA_NODE_ID"] for node in nodes.values()} == {"1", "2", "3"}
    for node in nodes.values():
        environment = node["environment"]
        assert environment["KAFKA_PROCESS_ROLES"] == "broker,controller"
        assert environment["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert environment["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3"
        assert environment["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
        assert environment["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert node["image"].startswith("apache/kafka:4.")
        assert "healthcheck" in node


def test_topics_are_created_by_the_services_own_path_before_any_service_starts(
    compose: dict[str, Any],
) -> None:
    job = compose["services"]["topics"]

    assert job["command"] == ["python", "-m", "returns_contracts.service_kit.create_topics"]
    assert job["environment"]["KAFKA_REPLICATION_FACTOR"] == "3"
    assert job["environment"]["KAFKA_MIN_INSYNC_REPLICAS"] == "2"
    assert set(job["environment"]) <= env_names(JOB_SETTINGS)
    for service in SERVICES:
        depends = compose["services"][service]["depends_on"]
        assert depends["topics"]["condition"] == "service_completed_successfully"
        assert depends["mongo-init"]["condition"] == "service_completed_successfully"


def test_mongodb_is_a_three_member_replica_set_initiated_by_a_job(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    members = [f"mongo-{number}" for number in (1, 2, 3)]
    script = services["mongo-init"]["command"][-1]

    for member in members:
        assert "--replSet" in services[member]["command"]
        assert f'host: "{member}:27017"' in script
        assert services["mongo-init"]["depends_on"][member]["condition"] == "service_healthy"
    for service in SERVICES:
        url = services[service]["environment"]["MONGODB_URL"]
        assert url.startswith("mongodb://mongo-1:27017,mongo-2:27017,mongo-3:27017/")
        assert "replicaSet=rs0" in url


def test_mailpit_runs_only_in_the_staging_profile(compose: dict[str, Any]) -> None:
    assert compose["services"]["mailpit"]["profiles"] == ["staging"]


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_built_scaled_health_checked_and_reads_real_settings(
    compose: dict[str, Any], service: str
) -> None:
    definition = compose["services"][service]
    environment = definition["environment"]

    assert definition["build"]["dockerfile"] == f"deploy/docker/{service}.Dockerfile"
    assert int(definition["scale"]) >= 2
    assert "/readyz" in " ".join(definition["healthcheck"]["test"])
    assert definition["stop_grace_period"] == "45s"
    unknown = set(environment) - env_names(SETTINGS[service])
    assert not unknown, f"{service} has no such settings: {sorted(unknown)}"
    # Every demo credential can be replaced from the deployment's env file.
    assert demo_credentials(SETTINGS[service]) <= set(environment)


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda path: path.name)
def test_hadolint_passes_on_each_dockerfile(dockerfile: Any) -> None:
    linted = run([venv_tool("hadolint"), "--failure-threshold", "info", str(dockerfile)])

    assert linted.returncode == 0, linted.stdout + linted.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_each_image_is_multi_stage_non_root_health_checked_and_installs_from_its_lock(
    service: str,
) -> None:
    text = (DEPLOY / "docker" / f"{service}.Dockerfile").read_text()
    copies = [line.split()[1:-1] for line in text.splitlines() if line.startswith("COPY ")]

    assert text.count("\nFROM ") == 2
    assert "USER 10001:10001" in text
    assert "HEALTHCHECK" in text and "/readyz" in text
    assert f"--require-hashes --no-deps -r locks/{service}.lock" in text
    assert (DEPLOY / "docker" / f"{service}.lock").is_file()
    # Only the locks, the shared contracts and the service's own package reach the build.
    sources = {source for copy in copies for source in copy if not source.startswith("--")}
    allowed = {
        "deploy/docker/build.lock",
        f"deploy/docker/{service}.lock",
        "contracts",
        f"services/{service}",
        "/opt/venv",
    }
    assert sources <= allowed
