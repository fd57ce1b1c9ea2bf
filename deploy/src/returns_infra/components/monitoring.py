"""Monitoring on one machine (`make ops`): Debian's Prometheus run as our own process, the
consumer-lag exporter of `tools/admin`, and the Prometheus JMX exporter javaagent that Kafka's
JVM carries when monitoring is on.

Prometheus comes from Debian's package (`make prometheus`); we never use the package's own
service: each profile runs /usr/bin/prometheus with its own port, config, rules, consoles and
data dir, written under the profile's state dir on every start.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..build import (
    BuildContext,
    BuildError,
    Say,
    file_lock,
    fresh_dir,
    is_complete,
    make_writable,
    require_tools,
    write_stamp,
)
from ..config import HOST, Settings, repo_root
from ..health import http_status_ok
from ..processes import ProcessError, ProcessSpec
from ..services import installed_script, ports_by_service
from .base import Component

JMX_EXPORTER_VERSION = "1.0.1"
JMX_EXPORTER = f"io.prometheus.jmx:jmx_prometheus_javaagent:{JMX_EXPORTER_VERSION}"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
# Where Prometheus's console libraries (prom.lib) are: Debian ships them as examples, the
# upstream tarball beside the binary.
CONSOLE_LIBRARY_DIRS = (
    Path("/usr/share/doc/prometheus/examples/console_libraries"),
    Path("/usr/share/prometheus/console_libraries"),
    Path("/etc/prometheus/console_libraries"),
)
# Short so that the demo's graphs move; production scrapes every 15 to 60 s.
SCRAPE_SECONDS = 5
RETENTION = "7d"


def monitoring_dir() -> Path:
    """`deploy/monitoring/` of the checkout: rules, their tests, consoles, the JMX rules."""
    return repo_root() / "deploy" / "monitoring"


def rules_file() -> Path:
    return monitoring_dir() / "rules" / "returns.rules.yml"


# -- the JMX exporter javaagent (a cached jar, no process of its own) ------------------------


def jmx_agent_dir(settings: Settings) -> Path:
    return settings.cache_dir / f"jmx-prometheus-javaagent-{JMX_EXPORTER_VERSION}"


def jmx_agent_jar(settings: Settings) -> Path:
    return jmx_agent_dir(settings) / f"jmx_prometheus_javaagent-{JMX_EXPORTER_VERSION}.jar"


def fetch_jmx_agent(settings: Settings, say: Say) -> bool:
    """Download the javaagent from Maven Central into the cache (once). True if it fetched."""
    target = jmx_agent_dir(settings)
    if is_complete(target):
        return False
    with file_lock(settings.cache_dir / "locks" / f"{target.name}.lock", say, "the JMX agent"):
        if is_complete(target):
            return False
        require_tools("kafka-jmx-exporter", ("mvn",))
        log = settings.cache_dir / "logs" / f"{target.name}-build.log"
        ctx = BuildContext("kafka-jmx-exporter", log, say)
        fresh_dir(target)
        ctx.step(f"fetching {JMX_EXPORTER} with Maven")
        ctx.run(
            [
                "mvn",
                "-B",
                "--no-transfer-progress",
                f"{DEPENDENCY_PLUGIN}:copy",
                f"-Dartifact={JMX_EXPORTER}",
                f"-DoutputDirectory={target}",
            ],
            cwd=target,
        )
        if not jmx_agent_jar(settings).is_file():
            raise BuildError(f"Maven finished but {jmx_agent_jar(settings)} is missing")
        write_stamp(target, {"component": "jmx-exporter", "version": JMX_EXPORTER_VERSION})
    return True


def jmx_agent_option(settings: Settings, port: int) -> str:
    """The JVM option that serves Kafka's MBeans on ``port`` with our rules."""
    rules = monitoring_dir() / "kafka-jmx.yml"
    return f"-javaagent:{jmx_agent_jar(settings)}={HOST}:{port}:{rules}"


# -- Prometheus --------------------------------------------------------------------------------


def prometheus_config(settings: Settings, service_ports: Mapping[str, Sequence[int]]) -> str:
    """prometheus.yml of a profile: the four services (a job each, a target per process of it),
    Kafka's JMX exporter(s), the lag exporter and Prometheus itself, with our alert rules."""
    ports = settings.ports

    def job(name: str, targets: Sequence[int], path: str = "/metrics") -> list[str]:
        listed = ", ".join(f"'{HOST}:{port}'" for port in targets)
        return [
            f"  - job_name: {name}",
            f"    metrics_path: {path}",
            "    static_configs:",
            f"      - targets: [{listed}]",
        ]

    lines = [
        "# Written by returns-infra on every start; edits are overwritten.",
        "global:",
        f"  scrape_interval: {SCRAPE_SECONDS}s",
        f"  evaluation_interval: {SCRAPE_SECONDS}s",
        "  external_labels:",
        f"    profile: {settings.profile}",
        "rule_files:",
        f"  - {rules_file()}",
        "scrape_configs:",
        *job("prometheus", [ports.prometheus]),
        *(line for service, targets in service_ports.items() for line in job(service, targets)),
        *job("kafka", [node.jmx_exporter_port for node in settings.kafka_node_list()]),
        *job("lag-exporter", [ports.lag_exporter]),
        "",
    ]
    return "\n".join(lines)


def console_libraries_source() -> Path:
    for directory in CONSOLE_LIBRARY_DIRS:
        if (directory / "prom.lib").is_file():
            return directory
    raise ProcessError(
        "prometheus: Prometheus's console library prom.lib is in none of "
        f"{', '.join(map(str, CONSOLE_LIBRARY_DIRS))}; run `make prometheus`"
    )


class Prometheus(Component):
    name = "prometheus"
    version = "debian"
    artifact = "prometheus-debian"
    build_tools = ("prometheus", "promtool")
    description = "Prometheus (Debian's package; our config, rules and consoles)"
    start_timeout = 60.0

    def is_built(self) -> bool:
        return shutil.which("prometheus") is not None and is_complete(jmx_agent_dir(self.settings))

    def build(self, say: Say) -> bool:
        """Nothing to build: the binary is Debian's; the JMX agent Kafka carries is fetched."""
        require_tools(self.name, self.build_tools)
        return fetch_jmx_agent(self.settings, say)

    def _build(self, ctx: BuildContext) -> None:  # pragma: no cover - build() is overridden
        raise NotImplementedError

    def ports(self) -> list[int]:
        return [self.settings.ports.prometheus]

    def address(self) -> str:
        return self.url

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.settings.ports.prometheus}"

    @property
    def config_path(self) -> Path:
        return self.state_dir / "prometheus.yml"

    @property
    def libraries_dir(self) -> Path:
        return self.state_dir / "console_libraries"

    def prepare(self, say: Say) -> None:
        super().prepare(say)
        (self.state_dir / "data").mkdir(exist_ok=True)
        ports = ports_by_service(self.settings.profile)
        self.config_path.write_text(prometheus_config(self.settings, ports))
        # One directory of libraries: Prometheus's prom.lib, and our menu in place of its
        # menu.lib (which links to node exporter consoles we do not have).
        if self.libraries_dir.exists():
            make_writable(self.libraries_dir)
            shutil.rmtree(self.libraries_dir)
        self.libraries_dir.mkdir()
        shutil.copyfile(console_libraries_source() / "prom.lib", self.libraries_dir / "prom.lib")
        ours = monitoring_dir() / "console_libraries"
        for library in sorted(ours.glob("*.lib")):
            shutil.copyfile(library, self.libraries_dir / library.name)

    def process_spec(self) -> ProcessSpec:
        command = [
            shutil.which("prometheus") or "/usr/bin/prometheus",
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.state_dir / 'data'}",
            f"--storage.tsdb.retention.time={RETENTION}",
            f"--web.listen-address={HOST}:{self.settings.ports.prometheus}",
            f"--web.console.templates={monitoring_dir() / 'consoles'}",
            f"--web.console.libraries={self.libraries_dir}",
            "--log.level=warn",
        ]
        return self._spec(command)

    def healthy(self, timeout: float = 3.0) -> bool:
        return http_status_ok(f"{self.url}/-/ready", timeout)


class LagExporter(Component):
    """`returns-lag-exporter` (tools/admin): consumer lag per group, topic and partition and
    the depth of each dead-letter topic, in Prometheus's text format."""

    name = "lag-exporter"
    version = "repo"
    artifact = "lag-exporter"
    build_tools = ()
    description = "consumer-lag and DLQ exporter (returns-lag-exporter)"

    def is_built(self) -> bool:
        return True

    def build(self, say: Say) -> bool:
        return False

    def _build(self, ctx: BuildContext) -> None:  # pragma: no cover - nothing to build
        raise NotImplementedError

    def ports(self) -> list[int]:
        return [self.settings.ports.lag_exporter]

    def address(self) -> str:
        return f"http://{HOST}:{self.settings.ports.lag_exporter}/metrics"

    def process_spec(self) -> ProcessSpec:
        bootstrap = ",".join(f"{HOST}:{node.port}" for node in self.settings.kafka_node_list())
        command = [
            installed_script("returns-lag-exporter"),
            "--bootstrap-servers",
            bootstrap,
            "--listen",
            f"{HOST}:{self.settings.ports.lag_exporter}",
        ]
        return self._spec(command)

    def healthy(self, timeout: float = 3.0) -> bool:
        return http_status_ok(self.address(), timeout)
