"""The servers' command lines and configuration files, from settings alone (nothing runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from returns_infra.build import BuildError
from returns_infra.components import kafka as kafka_module
from returns_infra.components import s3 as s3_module
from returns_infra.components.kafka import DEFAULT_JAVA_OPTS, Kafka
from returns_infra.components.mongo import FERRETDB_PATCHES, Mongo
from returns_infra.components.s3 import S3
from returns_infra.components.smtp import Smtp
from returns_infra.config import Settings

PORTS = {
    "RETURNS_KAFKA_PORT": "41001",
    "RETURNS_KAFKA_CONTROLLER_PORT": "41002",
    "RETURNS_MONGO_PORT": "41003",
    "RETURNS_S3_PORT": "41004",
    "RETURNS_SMTP_PORT": "41005",
    "RETURNS_MAILPIT_UI_PORT": "41006",
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.for_profile(
        "test",
        {
            **PORTS,
            "RETURNS_STATE_DIR": str(tmp_path / "state"),
            "RETURNS_CACHE_DIR": str(tmp_path / "cache"),
            "S3_ACCESS_KEY": "access-k",
            "S3_SECRET_KEY": "secret-s",
        },
    )


def test_ferretdb_listens_on_the_profile_port_with_one_sqlite_file_per_database(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FERRETDB_LISTEN_ADDR", "0.0.0.0:27017")
    mongo = Mongo(settings)
    spec = mongo.process_spec()

    assert spec.command[0] == str(settings.cache_dir / mongo.artifact / "ferretdb")
    assert "--listen-addr=127.0.0.1:41003" in spec.command
    data_dir = settings.state_dir / "mongo" / "data"
    # Commits are not fsynced one by one (see SQLITE_DURABILITY): the store's write ceiling.
    assert f"--sqlite-url=file:{data_dir}/?_pragma=synchronous(normal)" in spec.command
    assert "--debug-addr=-" in spec.command  # no fixed debug port shared by every instance
    # Fewer collections of the documents it decodes per request (see GO_GARBAGE_COLLECTION).
    assert (spec.env["GOGC"], spec.env["GOMEMLIMIT"]) == ("400", "1GiB")
    # A FERRETDB_ variable left in the shell would reconfigure the server: it is removed.
    assert spec.env["FERRETDB_LISTEN_ADDR"] is None
    assert spec.cwd == settings.state_dir / "mongo"
    assert mongo.address() == "mongodb://127.0.0.1:41003/"


def test_ferretdb_s_cache_folder_changes_with_its_patches() -> None:
    assert all(patch.is_file() for patch in FERRETDB_PATCHES)
    assert Mongo.artifact.startswith(f"ferretdb-{Mongo.version}-p")


def test_mailpit_takes_both_ports_and_keeps_its_database_in_the_state_dir(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MP_SMTP_AUTH_FILE", "/etc/passwd")
    smtp = Smtp(settings)
    spec = smtp.process_spec()
    command = list(spec.command)

    assert command[command.index("--smtp") + 1] == "127.0.0.1:41005"
    assert command[command.index("--listen") + 1] == "127.0.0.1:41006"
    assert command[command.index("--database") + 1] == str(
        settings.state_dir / "smtp" / "mailpit.db"
    )
    assert spec.env["MP_SMTP_AUTH_FILE"] is None
    assert smtp.ports() == [41005, 41006]
    assert smtp.ui_url == "http://127.0.0.1:41006"


@pytest.mark.parametrize("xattrs", [True, False])
def test_versitygw_gets_its_keys_from_the_environment_never_argv(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, xattrs: bool
) -> None:
    monkeypatch.setattr(s3_module, "_supports_user_xattrs", lambda directory: xattrs)
    s3 = S3(settings)
    spec = s3.process_spec()
    command = list(spec.command)

    assert command[command.index("--port") + 1] == "127.0.0.1:41004"
    assert "access-k" not in " ".join(command) and "secret-s" not in " ".join(command)
    assert spec.env["ROOT_ACCESS_KEY"] == "access-k"
    assert spec.env["ROOT_SECRET_KEY"] == "secret-s"
    # The gateway reads these too; a value from the shell must not win over ours.
    assert spec.env["ROOT_ACCESS_KEY_ID"] is None and spec.env["ROOT_SECRET_ACCESS_KEY"] is None
    assert command[-1] == str(s3.data_dir)
    # Without user xattrs the posix backend keeps metadata in a sidecar directory.
    assert ("--sidecar" in command) is not xattrs
    if not xattrs:
        assert command[command.index("--sidecar") + 1] == str(s3.meta_dir)


def test_kafka_s_properties_name_the_profile_ports_and_one_node(settings: Settings) -> None:
    properties = dict(
        line.split("=", 1)
        for line in Kafka(settings)._properties().splitlines()
        if line and not line.startswith("#")
    )

    assert properties["listeners"] == "PLAINTEXT://127.0.0.1:41001,CONTROLLER://127.0.0.1:41002"
    assert properties["advertised.listeners"] == "PLAINTEXT://127.0.0.1:41001"
    assert properties["controller.quorum.voters"] == "1@127.0.0.1:41002"
    assert properties["log.dirs"] == str(settings.state_dir / "kafka" / "data")
    assert properties["offsets.topic.replication.factor"] == "1"
    assert properties["group.initial.rebalance.delay.ms"] == "0"


def test_kafka_runs_the_broker_class_with_its_java_options(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kafka_module, "_java", lambda: "/opt/java/bin/java")
    monkeypatch.delenv("RETURNS_KAFKA_JAVA_OPTS", raising=False)
    kafka = Kafka(settings)
    command = list(kafka.process_spec().command)

    assert command[0] == "/opt/java/bin/java"
    assert command[1 : 1 + len(DEFAULT_JAVA_OPTS.split())] == DEFAULT_JAVA_OPTS.split()
    assert command[-2:] == ["kafka.Kafka", str(settings.state_dir / "kafka" / "server.properties")]
    assert command[command.index("-cp") + 1] == str(kafka.install_dir / "lib" / "*")

    monkeypatch.setenv("RETURNS_KAFKA_JAVA_OPTS", "-Xmx1g '-Dname=a b'")
    command = list(kafka.process_spec().command)
    assert command[1:3] == ["-Xmx1g", "-Dname=a b"]


def test_java_is_taken_from_java_home_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    java = tmp_path / "jdk" / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text("#!/bin/sh\n")
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    assert kafka_module._java() == str(java)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "nowhere"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BuildError, match="missing tool java"):
        kafka_module._java()
