"""The monitoring of `make ops`, checked with Debian's own tools: the alert rules with
`promtool test rules` (and each rule's test proven to fail without the rule), the generated
Prometheus config with `promtool check config`, the runbook covering every alert, the consoles
served by a real Prometheus, and Kafka carrying the JMX exporter only when monitoring is on."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
from pathlib import Path

import httpx
import pytest

from returns_infra.components import Kafka, LagExporter, Prometheus
from returns_infra.components.monitoring import (
    jmx_agent_jar,
    monitoring_dir,
    prometheus_config,
    rules_file,
)
from returns_infra.config import Settings, repo_root
from returns_infra.processes import start, stop
from returns_infra.services import ports_by_service

RULES_TESTS = monitoring_dir() / "rules" / "returns.rules.test.yml"
RUNBOOK = repo_root() / "docs" / "ops" / "RUNBOOK.md"


def _promtool() -> str:
    found = shutil.which("promtool")
    assert found, "promtool is missing: `make prometheus` installs Debian's prometheus"
    return found


def _alerts(rules_text: str) -> list[str]:
    return re.findall(r"^\s*- alert: (\w+)$", rules_text, flags=re.MULTILINE)


def _without_alert(rules_text: str, alert: str) -> str:
    """The rules file minus one rule (its `- alert:` item up to the next item or group)."""
    lines = rules_text.splitlines()
    start_at = lines.index(next(line for line in lines if line.strip() == f"- alert: {alert}"))
    indent = len(lines[start_at]) - len(lines[start_at].lstrip())
    end = start_at + 1
    while end < len(lines) and (
        not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent
    ):
        end += 1
    return "\n".join(lines[:start_at] + lines[end:]) + "\n"


def _settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.for_profile("test", {"RETURNS_STATE_DIR": str(tmp_path), **env})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_every_alert_rule_passes_its_promtool_unit_tests() -> None:
    done = subprocess.run(
        [_promtool(), "test", "rules", str(RULES_TESTS)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_the_rules_cover_what_the_issue_asks_for() -> None:
    alerts = set(_alerts(rules_file().read_text()))
    assert {
        "DeadLetterQueueNotEmpty",
        "ConsumerLagHigh",
        "ServiceNotReady",
        "ServiceDown",
        "OutboxBacklog",
        "SmtpFailures",
    } <= alerts


@pytest.mark.parametrize("alert", _alerts(rules_file().read_text()))
def test_each_rule_is_really_tested_its_tests_fail_without_it(alert: str, tmp_path: Path) -> None:
    (tmp_path / "returns.rules.yml").write_text(_without_alert(rules_file().read_text(), alert))
    shutil.copyfile(RULES_TESTS, tmp_path / RULES_TESTS.name)
    done = subprocess.run(
        [_promtool(), "test", "rules", str(tmp_path / RULES_TESTS.name)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert alert not in _alerts((tmp_path / "returns.rules.yml").read_text())
    assert done.returncode != 0, f"the tests still pass without {alert}"
    assert alert in done.stdout + done.stderr


def test_the_runbook_answers_every_alert() -> None:
    runbook = RUNBOOK.read_text()
    for alert in _alerts(rules_file().read_text()):
        assert f"\n## {alert}\n" in runbook, f"{RUNBOOK} has no section for {alert}"
        assert f"RUNBOOK.md#{alert.lower()}" in rules_file().read_text()


def test_the_generated_prometheus_config_passes_promtool(tmp_path: Path) -> None:
    settings = _settings(tmp_path, RETURNS_MONITORING="1")
    ports = ports_by_service("test")
    config = tmp_path / "prometheus.yml"
    config.write_text(prometheus_config(settings, ports))

    done = subprocess.run(
        [_promtool(), "check", "config", str(config)], capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stdout + done.stderr
    text = config.read_text()
    # One job per service, whatever processes it runs as: the alerts and consoles name them.
    assert sorted(ports) == ["declaration", "labels", "media", "notifier"]
    for service, its_ports in ports.items():
        assert f"job_name: {service}" in text
        listed = ", ".join(f"'127.0.0.1:{port}'" for port in its_ports)
        assert f"targets: [{listed}]" in text
    # Declaration's consumers run in a process of their own, scraped in declaration's job.
    assert len(ports["declaration"]) == 2
    assert f"'127.0.0.1:{settings.ports.kafka_jmx_exporter}'" in text
    assert f"'127.0.0.1:{settings.ports.lag_exporter}'" in text
    assert str(rules_file()) in text


def test_the_cluster_s_three_nodes_are_scraped_each_on_its_own_port(tmp_path: Path) -> None:
    settings = _settings(tmp_path, RETURNS_MONITORING="1", RETURNS_KAFKA_NODES="3")
    base = settings.ports.kafka_jmx_exporter
    text = prometheus_config(settings, ports_by_service("test"))
    assert f"'127.0.0.1:{base}', '127.0.0.1:{base + 1}', '127.0.0.1:{base + 2}'" in text


def test_kafka_carries_the_jmx_exporter_only_with_monitoring_on(tmp_path: Path) -> None:
    plain = Kafka(_settings(tmp_path)).process_spec().command
    assert not [part for part in plain if part.startswith("-javaagent")]

    settings = _settings(tmp_path, RETURNS_MONITORING="1", RETURNS_KAFKA_JMX_EXPORTER_PORT="24455")
    kafka = Kafka(settings)
    [agent] = [part for part in kafka.process_spec().command if part.startswith("-javaagent")]
    assert agent == (
        f"-javaagent:{jmx_agent_jar(settings)}=127.0.0.1:24455:{monitoring_dir() / 'kafka-jmx.yml'}"
    )
    assert 24455 in kafka.ports()
    # The agent comes before the main class: options after it would be the broker's arguments.
    command = kafka.process_spec().command
    assert command.index(agent) < command.index("kafka.Kafka")


def test_the_lag_exporter_is_started_against_the_profile_s_brokers(tmp_path: Path) -> None:
    settings = _settings(tmp_path, RETURNS_LAG_EXPORTER_PORT="24451")
    command = LagExporter(settings).process_spec().command
    assert command[0].endswith("returns-lag-exporter")
    assert command[1:] == [
        "--bootstrap-servers",
        f"127.0.0.1:{settings.ports.kafka}",
        "--listen",
        "127.0.0.1:24451",
    ]


def test_prometheus_serves_the_dashboards_with_our_rules_loaded(tmp_path: Path) -> None:
    """A real Prometheus (Debian's binary, as returns-infra runs it), scraping nothing that
    answers: the console templates must render (a template error is a 500), the rules load."""
    port = _free_port()
    settings = _settings(tmp_path, RETURNS_PROMETHEUS_PORT=str(port))
    prometheus = Prometheus(settings)
    prometheus.prepare(lambda line: None)
    spec = prometheus.process_spec()
    assert f"--web.console.templates={monitoring_dir() / 'consoles'}" in spec.command
    assert (prometheus.libraries_dir / "prom.lib").is_file()
    start(spec, prometheus.healthy, timeout=60)
    try:
        base = prometheus.url
        for page, heading in (("returns.html", "Returns flow"), ("kafka.html", "consumer lag")):
            answer = httpx.get(f"{base}/consoles/{page}", timeout=10)
            assert answer.status_code == 200, answer.text[:500]
            assert heading in answer.text
            assert "PromConsole.Graph" in answer.text
        alerts_page = httpx.get(f"{base}/classic/alerts", timeout=10)
        assert alerts_page.status_code == 200
        assert "DeadLetterQueueNotEmpty" in alerts_page.text
        groups = httpx.get(f"{base}/api/v1/rules", timeout=10).json()["data"]["groups"]
        loaded = {rule["name"] for group in groups for rule in group["rules"]}
        assert loaded == set(_alerts(rules_file().read_text()))
    finally:
        stop(prometheus.pid_path, timeout=20)
