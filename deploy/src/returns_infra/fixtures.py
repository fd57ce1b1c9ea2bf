"""Pytest fixtures: one per server, and one for the four services.

Each server comes, in order of preference, from its environment variables (a server someone
already runs, or the one `make test` started), else from a testcontainer when a Docker engine
answers, else from the embedded default of this repository (started here, stopped at the end).
Loaded by the repository's root conftest.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from returns_infra.config import HOST, KAFKA_NODES_ENV, Settings
from returns_infra.health import port_is_free
from returns_infra.infra import Infra, InfraError
from returns_infra.services import start_services, stop_services


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    access_key: str
    secret_key: str


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    # Mailpit's REST API, to read what was sent.
    api_url: str


@dataclass(frozen=True)
class RunningServices:
    urls: dict[str, str]
    env: dict[str, str]


def _docker_answers() -> bool:
    if os.environ.get("RETURNS_NO_DOCKER") or shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class _Embedded:
    """Starts the embedded servers this session needs, and stops only those it started."""

    def __init__(self) -> None:
        from returns_infra import Infra

        self.infra = Infra.for_profile("test")
        self.started: list[str] = []

    def ensure(self, component: str) -> dict[str, str]:
        status = self.infra.status([component])
        if not all(entry.healthy for entry in status):
            self.infra.start([component])
            self.started.append(component)
        return self.infra.env()

    def close(self) -> None:
        if self.started:
            self.infra.stop(self.started)


@dataclass(frozen=True)
class KafkaCluster:
    """The test profile's three-node Kafka cluster: its bootstrap list, and the Infra that
    starts, stops and inspects each node (`kafka-1`, `kafka-2`, `kafka-3`)."""

    infra: Infra
    bootstrap_servers: str
    env: dict[str, str]

    def node_names(self) -> list[str]:
        return self.infra.settings.kafka_component_names()

    def start(self, names: list[str] | None = None, attempts: int = 3) -> None:
        """Start the named nodes (all by default) and wait until healthy; again when one of
        their ports was busy. Ports above 32767 lie in Linux's ephemeral range, where any
        client connection on the machine may hold one for a moment (seen: a connection from
        127.0.0.1:33294 to another run's broker as the cluster started)."""
        wanted = names or self.node_names()
        ports = [port for node in self.infra.components(wanted) for port in node.ports()]
        for attempt in range(1, attempts + 1):
            _wait_for_free_ports(ports)
            try:
                self.infra.start(wanted)
                return
            except InfraError as error:
                busy = "taken by a process" in str(error) or "Address already in use" in str(error)
                if attempt == attempts or not busy:
                    raise


def _wait_for_free_ports(ports: list[int], within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    while not all(port_is_free(HOST, port) for port in ports):
        if time.monotonic() > deadline:
            return  # the next attempt reports which
        time.sleep(0.5)


@pytest.fixture(scope="session")
def kafka_cluster() -> Iterator[KafkaCluster]:
    """The opt-in three-node cluster (RETURNS_KAFKA_NODES=3) of the test profile, on its own
    ports beside the single node; started here unless it already runs, and then stopped."""
    infra = Infra.for_profile("test", {**os.environ, KAFKA_NODES_ENV: "3"})
    names = infra.settings.kafka_component_names()
    started = not all(status.healthy for status in infra.status(names))
    env = infra.env()
    cluster = KafkaCluster(infra, env["KAFKA_BOOTSTRAP_SERVERS"], env)
    try:
        if started:
            cluster.start()
        yield cluster
    finally:
        if started:
            infra.stop(names)


@pytest.fixture(scope="session")
def _embedded() -> Iterator[_Embedded]:
    embedded = _Embedded()
    yield embedded
    embedded.close()


@pytest.fixture(scope="session")
def _containers() -> Iterator[list[Any]]:
    started: list[Any] = []
    yield started
    for container in reversed(started):
        container.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap_servers(request: pytest.FixtureRequest, _containers: list[Any]) -> str:
    if value := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        return value
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer

        container = KafkaContainer().with_kraft()
        container.start()
        _containers.append(container)
        return str(container.get_bootstrap_server())
    embedded: _Embedded = request.getfixturevalue("_embedded")
    return embedded.ensure("kafka")["KAFKA_BOOTSTRAP_SERVERS"]


@pytest.fixture(scope="session")
def mongodb_url(request: pytest.FixtureRequest, _containers: list[Any]) -> str:
    if value := os.environ.get("MONGODB_URL"):
        return value
    if _docker_answers():
        from testcontainers.mongodb import MongoDbContainer

        container = MongoDbContainer("mongo:7")
        container.start()
        _containers.append(container)
        return str(container.get_connection_url())
    embedded: _Embedded = request.getfixturevalue("_embedded")
    return embedded.ensure("mongo")["MONGODB_URL"]


@pytest.fixture(scope="session")
def s3_server(request: pytest.FixtureRequest, _containers: list[Any]) -> S3Server:
    if value := os.environ.get("S3_ENDPOINT"):
        return S3Server(value, os.environ["S3_ACCESS_KEY"], os.environ["S3_SECRET_KEY"])
    if _docker_answers():
        from testcontainers.minio import MinioContainer

        container = MinioContainer()
        container.start()
        _containers.append(container)
        config = container.get_config()
        return S3Server(f"http://{config['endpoint']}", config["access_key"], config["secret_key"])
    embedded: _Embedded = request.getfixturevalue("_embedded")
    env = embedded.ensure("s3")
    return S3Server(env["S3_ENDPOINT"], env["S3_ACCESS_KEY"], env["S3_SECRET_KEY"])


@pytest.fixture(scope="session")
def smtp_server(request: pytest.FixtureRequest, _containers: list[Any]) -> SmtpServer:
    if value := os.environ.get("SMTP_HOST"):
        return SmtpServer(value, int(os.environ["SMTP_PORT"]), os.environ["MAILPIT_URL"])
    if _docker_answers():
        from testcontainers.core.container import DockerContainer
        from testcontainers.core.waiting_utils import wait_for_logs

        container = DockerContainer("axllent/mailpit:v1.27").with_exposed_ports(1025, 8025)
        container.start()
        wait_for_logs(container, "accessible via")
        _containers.append(container)
        host = container.get_container_host_ip()
        return SmtpServer(
            host,
            int(container.get_exposed_port(1025)),
            f"http://{host}:{container.get_exposed_port(8025)}",
        )
    embedded: _Embedded = request.getfixturevalue("_embedded")
    env = embedded.ensure("smtp")
    return SmtpServer(env["SMTP_HOST"], int(env["SMTP_PORT"]), env["MAILPIT_URL"])


@pytest.fixture(scope="session")
def services(
    kafka_bootstrap_servers: str,
    mongodb_url: str,
    s3_server: S3Server,
    smtp_server: SmtpServer,
) -> Iterator[RunningServices]:
    """The four services as real processes, wired to the servers above."""
    settings = Settings.for_profile("test")
    env = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers,
        "MONGODB_URL": mongodb_url,
        "S3_ENDPOINT": s3_server.endpoint,
        "S3_ACCESS_KEY": s3_server.access_key,
        "S3_SECRET_KEY": s3_server.secret_key,
        "SMTP_HOST": smtp_server.host,
        "SMTP_PORT": str(smtp_server.port),
        "MAILPIT_URL": smtp_server.api_url,
    }
    urls = start_services("test", settings.state_dir, env)
    try:
        yield RunningServices(urls=urls, env=env)
    finally:
        stop_services(settings.state_dir)
