"""Fixtures of the fault suite: the embedded servers it may kill, and the size of the run.

`make test-faults` sets RETURNS_FAULTS=full (500 returns, every part killed); `make test` runs
the short form (60 returns, every part but the store, see test_faults.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from returns_infra import Infra
from returns_infra.config import Settings
from returns_infra.fixtures import SmtpServer

from .plans import FULL_PLAN, SHORT_PLAN, Plan


@pytest.fixture(scope="session")
def fault_plan() -> Plan:
    return FULL_PLAN if os.environ.get("RETURNS_FAULTS") == "full" else SHORT_PLAN


@dataclass(frozen=True)
class OwnServers:
    """The test profile's embedded servers, which the suite may kill and start again."""

    infra: Infra
    settings: Settings


@pytest.fixture(scope="session")
def own_servers(
    kafka_bootstrap_servers: str, mongodb_url: str, smtp_server: SmtpServer
) -> OwnServers:
    infra = Infra.for_profile("test")
    env = infra.env()
    ours = {
        "kafka": env["KAFKA_BOOTSTRAP_SERVERS"] == kafka_bootstrap_servers,
        "mongo": env["MONGODB_URL"] == mongodb_url,
        "smtp": (env["SMTP_HOST"], env["SMTP_PORT"]) == (smtp_server.host, str(smtp_server.port)),
    }
    running = {status.name: status.running for status in infra.status(list(ours))}
    elsewhere = [name for name in ours if not (ours[name] and running.get(name))]
    if elsewhere:
        pytest.fail(
            f"the fault suite kills and restarts the test profile's embedded servers, but "
            f"{', '.join(elsewhere)} is not one of them (started by someone else?): run it "
            "with `make test-faults` or `make test`"
        )
    return OwnServers(infra, infra.settings)


@pytest.fixture
def report_paths(
    tmp_path: Path, own_servers: OwnServers, request: pytest.FixtureRequest
) -> list[Path]:
    """Where a test writes its tables: the pytest tmp dir and `.run/faults/` of the checkout."""
    name = f"{request.node.name}.txt"
    return [tmp_path / name, own_servers.settings.state_dir.parent / "faults" / name]


@pytest.fixture(autouse=True)
def _quiet_kafka_clients() -> Iterator[None]:
    """The suite's own Kafka readers log an error per attempt while the broker is down (on
    purpose): keep them out of the report of a failure, which starts with the tables."""
    logger = logging.getLogger("aiokafka")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)
