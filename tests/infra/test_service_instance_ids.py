"""Each service process started by returns-infra has a Kafka static-membership id: the same on
every restart of one instance (so a process restarted after kill -9 takes back its partitions
at once), different between two instances of a service (two members of one group)."""

from __future__ import annotations

from pathlib import Path

from returns_infra.services import SERVICES, service_spec


def _instance_id(name: str, state_dir: Path, port: int | None = None) -> str:
    spec = service_spec(
        name, "test", state_dir, {}, instance=None if port is None else "two", port=port
    )
    return str(spec.env["CONSUMER_INSTANCE_ID"])


def test_a_restarted_instance_keeps_its_id_and_two_instances_differ(tmp_path: Path) -> None:
    for service in SERVICES:
        first = _instance_id(service.name, tmp_path)
        assert first == _instance_id(service.name, tmp_path)
        assert first != _instance_id(service.name, tmp_path, port=service.port("test") + 100)


def test_every_service_has_an_id_of_its_own(tmp_path: Path) -> None:
    ids = {_instance_id(service.name, tmp_path) for service in SERVICES}
    assert len(ids) == len(SERVICES)
