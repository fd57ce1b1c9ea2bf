"""Profiles, ports, directories and credentials of the embedded servers, read from a given
environment (never the real one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from returns_infra.config import (
    DEFAULT_S3_ACCESS_KEY,
    DEFAULT_S3_SECRET_KEY,
    ConfigError,
    Ports,
    Settings,
    default_cache_dir,
    repo_root,
)


def test_each_profile_has_ports_of_its_own() -> None:
    ports = [Settings.for_profile(name, {}).ports for name in ("dev", "test", "bench")]
    used = [set(vars(one).values()) for one in ports]
    assert all(len(one) == 9 for one in used)
    assert not used[0] & used[1] and not used[0] & used[2] and not used[1] & used[2]
    assert ports[0] == Ports(
        kafka=9092,
        kafka_controller=9093,
        mongo=27017,
        s3=7070,
        smtp=1025,
        mailpit_ui=8025,
        prometheus=9190,
        lag_exporter=9191,
        kafka_jmx_exporter=9192,
    )


def test_the_profile_comes_from_the_argument_then_the_environment_then_dev() -> None:
    assert Settings.for_profile(None, {}).profile == "dev"
    assert Settings.for_profile(None, {"RETURNS_PROFILE": "bench"}).profile == "bench"
    assert Settings.for_profile("test", {"RETURNS_PROFILE": "bench"}).profile == "test"
    with pytest.raises(ConfigError, match="unknown profile 'prod'"):
        Settings.for_profile("prod", {})


def test_a_port_from_the_environment_replaces_the_profile_s() -> None:
    settings = Settings.for_profile(
        "test", {"RETURNS_KAFKA_PORT": "32492", "RETURNS_SMTP_PORT": ""}
    )
    assert settings.ports.kafka == 32492
    assert settings.ports.smtp == 11025  # empty means unset


@pytest.mark.parametrize(
    ("value", "reason"),
    [("abc", "is not a port number"), ("0", "outside 1..65535"), ("70000", "outside 1..65535")],
)
def test_a_bad_port_is_refused_with_the_variable_named(value: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=f"RETURNS_MONGO_PORT.*{reason}"):
        Settings.for_profile("test", {"RETURNS_MONGO_PORT": value})


def test_the_monitoring_ports_are_per_profile_and_overridable() -> None:
    settings = Settings.for_profile(
        "test",
        {
            "RETURNS_PROMETHEUS_PORT": "24450",
            "RETURNS_LAG_EXPORTER_PORT": "24451",
            "RETURNS_KAFKA_JMX_EXPORTER_PORT": "24455",
        },
    )
    assert (settings.ports.prometheus, settings.ports.lag_exporter) == (24450, 24451)
    assert [node.jmx_exporter_port for node in settings.kafka_node_list()] == [24455]
    assert Settings.for_profile("bench", {}).ports.prometheus == 29190
    with pytest.raises(ConfigError, match="would share a port"):
        Settings.for_profile("test", {"RETURNS_PROMETHEUS_PORT": "19191"})  # the lag exporter's


def test_monitoring_is_off_unless_asked_for() -> None:
    assert not Settings.for_profile("dev", {}).monitoring
    assert Settings.for_profile("dev", {"RETURNS_MONITORING": "1"}).monitoring
    with pytest.raises(ConfigError, match="RETURNS_MONITORING"):
        Settings.for_profile("dev", {"RETURNS_MONITORING": "maybe"})


def test_two_servers_on_one_port_are_refused() -> None:
    with pytest.raises(ConfigError, match="would share a port"):
        Settings.for_profile("test", {"RETURNS_S3_PORT": "19092"})  # the test Kafka's


def test_state_lives_in_the_checkout_unless_moved(tmp_path: Path) -> None:
    assert Settings.for_profile("test", {}).state_dir == repo_root() / ".run" / "test"
    moved = Settings.for_profile("test", {"RETURNS_STATE_DIR": str(tmp_path / "state")})
    assert moved.state_dir == (tmp_path / "state").resolve()
    assert moved.component_dir("kafka") == (tmp_path / "state" / "kafka").resolve()


def test_the_build_cache_is_outside_the_checkout(tmp_path: Path) -> None:
    explicit = default_cache_dir({"RETURNS_CACHE_DIR": str(tmp_path / "c")})
    assert explicit == (tmp_path / "c").resolve()
    xdg = default_cache_dir({"XDG_CACHE_HOME": str(tmp_path / "xdg")})
    assert xdg == (tmp_path / "xdg" / "returns-backend").resolve()
    assert default_cache_dir({}) == (Path.home() / ".cache" / "returns-backend").resolve()


def test_s3_keys_are_demo_values_unless_given() -> None:
    demo = Settings.for_profile("dev", {})
    assert (demo.s3_access_key, demo.s3_secret_key) == (
        DEFAULT_S3_ACCESS_KEY,
        DEFAULT_S3_SECRET_KEY,
    )
    given = Settings.for_profile("dev", {"S3_ACCESS_KEY": "k", "S3_SECRET_KEY": "s"})
    assert (given.s3_access_key, given.s3_secret_key) == ("k", "s")
