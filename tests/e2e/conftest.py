"""Fixtures the end-to-end tests share (the servers and services come from returns_infra)."""

from __future__ import annotations

import os
import socket
import sys
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from returns_contracts import Topics
from returns_infra import processes
from returns_infra.fixtures import RunningServices
from returns_infra.services import SERVICES, service_env


@dataclass(frozen=True)
class OwnInstance:
    """A service process of the test's own: its own topics (a prefix), database and settings."""

    name: str
    url: str
    topics: Topics
    database: str
    log_path: Path
    pid_path: Path
    spec: processes.ProcessSpec

    def kill(self) -> None:
        """kill -9, as a crash would."""
        processes.kill(self.pid_path)

    def restart(self) -> None:
        """Start it again with the same command line and settings, until it answers."""
        processes.start(self.spec, _answers(self.url), 120)


StartInstance = Callable[..., OwnInstance]


@pytest.fixture
def own_instance(
    services: RunningServices, mongodb_url: str, tmp_path: Path
) -> Iterator[StartInstance]:
    """Start a service as its own process beside the shared ones, with settings of the test's.

    Its topics carry a prefix of their own and it keeps its own database, so what the test
    does to it (slow retries, a short poll interval, poison) reaches no other test, and no
    other test's messages reach it. Stopped and its database dropped at the end.
    """
    started: list[OwnInstance] = []
    base = int(os.environ.get("RETURNS_SERVICES_PORT_BASE", "18001"))

    def start(name: str, like: OwnInstance | None = None, **settings: str) -> OwnInstance:
        """`like`: a second instance of that one, in its consumer groups (same topics and
        database), as a scaled-out service runs."""
        service = next(one for one in SERVICES if one.name == name)
        tag = uuid.uuid4().hex[:8]
        topics = like.topics if like is not None else Topics(prefix=f"t{tag}")
        port = _free_port(base + 20)
        database = like.database if like is not None else f"{name}_{tag}"
        env = {
            **service_env("test", services.env),
            "TOPIC_PREFIX": topics.prefix,
            "MONGODB_DATABASE": database,
            "HTTP_HOST": "127.0.0.1",
            "HTTP_PORT": str(port),
            **{key.upper(): value for key, value in settings.items()},
        }
        spec = processes.ProcessSpec(
            name=f"{name}-{tag}",
            command=[str(Path(sys.executable).parent / service.console_script)],
            log_path=tmp_path / f"{name}-{tag}.log",
            pid_path=tmp_path / f"{name}-{tag}.pid",
            env=env,
        )
        instance = OwnInstance(
            name=name,
            url=f"http://127.0.0.1:{port}",
            topics=topics,
            database=database,
            log_path=spec.log_path,
            pid_path=spec.pid_path,
            spec=spec,
        )
        started.append(instance)
        processes.start(spec, _answers(instance.url), 120)
        return instance

    yield start
    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_url)
    try:
        for instance in started:
            processes.stop(instance.pid_path)
        for database in {instance.database for instance in started}:
            client.drop_database(database)
    finally:
        client.close()


def _free_port(start: int) -> int:
    """The first port from `start` (this run's own range) that nothing listens on."""
    for port in range(start, start + 50):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {start}..{start + 49}")


def _answers(url: str) -> processes.HealthCheck:
    def check() -> bool:
        with urllib.request.urlopen(f"{url}/readyz", timeout=3) as response:
            return bool(response.status == 200)

    return check
