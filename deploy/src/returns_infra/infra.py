"""The Python API: build, start, stop and inspect the servers of one profile."""

from __future__ import annotations

import contextlib
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from .build import Say, file_lock, make_writable, say_stderr
from .components import COMPONENT_TYPES, MONITORING_TYPES, Component, Kafka, Prometheus, Smtp
from .components.monitoring import jmx_agent_dir
from .config import (
    CLUSTER_PORT_BASE_ENV,
    COMPONENTS,
    HOST,
    KAFKA_NODES_ENV,
    MONITORING_COMPONENTS,
    Settings,
)
from .health import port_is_free
from .processes import (
    ProcessError,
    ProcessSpec,
    kill,
    read_pid,
    spawn,
    stop,
    tail,
    wait_healthy,
)
from .services import SERVICES_DIR, stop_services

_PORT_ENV_HINT: dict[str, str] = {
    "kafka": "RETURNS_KAFKA_PORT / RETURNS_KAFKA_CONTROLLER_PORT",
    "mongo": "RETURNS_MONGO_PORT",
    "s3": "RETURNS_S3_PORT",
    "smtp": "RETURNS_SMTP_PORT / RETURNS_MAILPIT_UI_PORT",
    "prometheus": "RETURNS_PROMETHEUS_PORT",
    "lag-exporter": "RETURNS_LAG_EXPORTER_PORT",
}
_LOCK_NAME = ".returns-infra.lock"
# State dirs of the opt-in cluster's nodes, removed by `clean` whichever layout is configured.
_CLUSTER_DIRS = ("kafka-1", "kafka-2", "kafka-3")


class InfraError(RuntimeError):
    """One or more servers failed to start, stop or build."""


@dataclass(frozen=True)
class ServerStatus:
    name: str
    description: str
    running: bool
    pid: int | None
    address: str
    healthy: bool
    detail: str = ""


class Infra:
    """The servers of one profile (``dev`` or ``test``).

    >>> infra = Infra.for_profile("test")
    >>> infra.start()                     # builds what is missing first
    >>> os.environ.update(infra.env())    # KAFKA_BOOTSTRAP_SERVERS, MONGODB_URL, ...
    >>> infra.stop()
    """

    def __init__(self, settings: Settings, say: Say = say_stderr) -> None:
        self.settings = settings
        self._say = say
        self._components: dict[str, Component] = {}
        for name, cls in COMPONENT_TYPES.items():
            if name == "kafka":
                for node in settings.kafka_node_list():
                    kafka = Kafka(settings, node)
                    self._components[kafka.name] = kafka
            else:
                self._components[name] = cls(settings)
        for name, cls in MONITORING_TYPES.items():
            self._components[name] = cls(settings)

    @classmethod
    def for_profile(
        cls,
        profile: str | None = None,
        environ: Mapping[str, str] | None = None,
        say: Say = say_stderr,
    ) -> Infra:
        """Settings of ``profile`` (default: $RETURNS_PROFILE, else dev) with env overrides."""
        return cls(Settings.for_profile(profile, environ), say)

    def components(
        self, names: Iterable[str] | None = None, every: bool = False
    ) -> list[Component]:
        """The named servers; without names, those of the profile (with monitoring on, also
        Prometheus and the lag exporter); ``every``: all of them, for a stop."""
        monitoring = every or self.settings.monitoring
        default = [*COMPONENTS, *(MONITORING_COMPONENTS if monitoring else ())]
        wanted = list(names) if names else default
        if "kafka" in wanted:
            # In the cluster, `kafka` names its three nodes together.
            wanted += self.settings.kafka_component_names()
        unknown = [name for name in wanted if name not in self._components and name != "kafka"]
        if unknown:
            choices = ", ".join(dict.fromkeys([*COMPONENTS, *self._components]))
            raise InfraError(f"unknown component(s) {', '.join(unknown)}; choose from {choices}")
        # Keep the canonical order whatever order the caller used, and drop duplicates.
        return [component for name, component in self._components.items() if name in wanted]

    def _dormant_kafka_pid_paths(self) -> list[Path]:
        """Pid files of the Kafka nodes of the other layout (single node or cluster), which a
        stop of the whole profile must not leave running."""
        current = set(self.settings.kafka_component_names())
        names = ["kafka", *_CLUSTER_DIRS]
        return [
            self.settings.component_dir(name) / f"{name}.pid"
            for name in names
            if name not in current
        ]

    def _profile_lock(self) -> contextlib.AbstractContextManager[None]:
        return file_lock(
            self.settings.state_dir / _LOCK_NAME,
            self._say,
            f"the {self.settings.profile} profile",
        )

    # -- build -------------------------------------------------------------------------------

    def build(self, names: Iterable[str] | None = None) -> list[str]:
        """Fetch and build what is missing from the cache. Returns the names it built.

        Sequential on purpose: each Go or Maven build already uses both cores of a small
        machine, and interleaved output would be harder to follow.
        """
        built = []
        for component in self.components(names):
            if component.build(self._say):
                built.append(component.name)
        return built

    # -- start / stop ------------------------------------------------------------------------

    def _failure(self, component: Component, message: str) -> str:
        parts = [message]
        for log in component.extra_logs():
            text = tail(log, 25)
            if text:
                parts.append(f"last lines of {log}:\n{text}")
        return "\n".join(parts)

    def start(
        self, names: Iterable[str] | None = None, timeout: float | None = None
    ) -> list[ServerStatus]:
        """Start every named server that is not running yet and wait until all are healthy.

        Servers already running are left alone. All are launched before any is waited for,
        so the whole start takes about as long as the slowest server (Kafka).
        """
        components = self.components(names)
        self.build(name.name for name in components)
        failures: list[str] = []
        launched: list[tuple[Component, ProcessSpec, int, float, bool]] = []
        with self._profile_lock():
            for component in components:
                pid = read_pid(component.pid_path)
                if pid is not None:
                    spec = component.process_spec()
                    launched.append((component, spec, pid, time.monotonic(), False))
                    continue
                busy = [port for port in component.ports() if not port_is_free(HOST, port)]
                if busy:
                    failures.append(
                        f"{component.name}: port(s) {', '.join(map(str, busy))} on {HOST} are "
                        "taken by a process that returns-infra did not start "
                        f"(stop it, or choose other ports with {_port_hint(component.name)})"
                    )
                    continue
                try:
                    component.prepare(self._say)
                    spec = component.process_spec()
                    self._say(f"[{component.name}] starting, log {component.log_path}")
                    pid = spawn(spec)
                except (OSError, ProcessError) as exc:
                    failures.append(self._failure(component, f"{component.name}: {exc}"))
                    continue
                launched.append((component, spec, pid, time.monotonic(), True))

            statuses: list[ServerStatus] = []
            for component, spec, pid, started, fresh in launched:
                limit = timeout if timeout is not None else component.start_timeout
                try:
                    wait_healthy(spec, pid, component.healthy, limit)
                except ProcessError as exc:
                    if fresh:
                        # A server that never became healthy is not left behind half-alive.
                        stop(component.pid_path, timeout=10.0)
                    failures.append(self._failure(component, str(exc)))
                    continue
                detail = (
                    f"started in {time.monotonic() - started:.1f}s" if fresh else "already running"
                )
                statuses.append(
                    ServerStatus(
                        component.name,
                        component.description,
                        True,
                        pid,
                        component.address(),
                        True,
                        detail,
                    )
                )
        if failures:
            raise InfraError("\n\n".join(failures))
        return statuses

    def stop(self, names: Iterable[str] | None = None) -> list[str]:
        """Stop the named servers (SIGTERM, then SIGKILL after a grace period).

        Returns the names of those that were running.
        """
        stopped: list[str] = []
        failures: list[str] = []
        with self._profile_lock():
            # Without names, Prometheus and the lag exporter too, whether monitoring is on now.
            for component in reversed(self.components(names, every=names is None)):
                try:
                    if stop(component.pid_path, component.stop_timeout):
                        stopped.append(component.name)
                except ProcessError as exc:
                    failures.append(f"{component.name}: {exc}")
            if names is None:
                for pid_path in self._dormant_kafka_pid_paths():
                    try:
                        if stop(pid_path, Kafka.stop_timeout):
                            stopped.append(pid_path.stem)
                    except ProcessError as exc:
                        failures.append(f"{pid_path.stem}: {exc}")
        if failures:
            raise InfraError("\n".join(failures))
        return stopped

    def kill(self, names: Iterable[str] | None = None) -> list[str]:
        """SIGKILL the named servers, every process of each, as a crash would (fault tests).

        `start` later runs them again with the same command line. Returns those that ran.
        """
        return [
            component.name
            for component in self.components(names)
            if kill(component.pid_path) is not None
        ]

    def status(self, names: Iterable[str] | None = None) -> list[ServerStatus]:
        result = []
        for component in self.components(names):
            pid = read_pid(component.pid_path)
            healthy = pid is not None and component.healthy(timeout=3.0)
            detail = ""
            if pid is None:
                if not component.is_built():
                    detail = "not built yet"
                elif any(not port_is_free(HOST, port) for port in component.ports()):
                    detail = "its port is taken by a process returns-infra did not start"
            elif not healthy:
                detail = f"not answering; see {component.log_path}"
            result.append(
                ServerStatus(
                    component.name,
                    component.description,
                    pid is not None,
                    pid,
                    component.address(),
                    healthy,
                    detail,
                )
            )
        return result

    def env(self) -> dict[str, str]:
        """Connection settings for the services and tests, as environment variables."""
        ports = self.settings.ports
        smtp = self._components["smtp"]
        assert isinstance(smtp, Smtp)
        bootstrap = ",".join(f"{HOST}:{node.port}" for node in self.settings.kafka_node_list())
        monitoring: dict[str, str] = {}
        if self.settings.monitoring:
            prometheus = self._components["prometheus"]
            assert isinstance(prometheus, Prometheus)
            monitoring["PROMETHEUS_URL"] = prometheus.url
        return {
            **monitoring,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            # What the services create their topics with (settings of the service kit).
            "KAFKA_REPLICATION_FACTOR": str(self.settings.kafka_replication_factor),
            "KAFKA_MIN_INSYNC_REPLICAS": str(self.settings.kafka_min_insync_replicas),
            "MONGODB_URL": f"mongodb://{HOST}:{ports.mongo}/",
            "S3_ENDPOINT": f"http://{HOST}:{ports.s3}",
            "S3_ACCESS_KEY": self.settings.s3_access_key,
            "S3_SECRET_KEY": self.settings.s3_secret_key,
            "SMTP_HOST": HOST,
            "SMTP_PORT": str(ports.smtp),
            "MAILPIT_URL": smtp.ui_url,
        }

    # -- clean -------------------------------------------------------------------------------

    def clean(self, cache: bool = False) -> None:
        """Stop the profile and delete its state; with ``cache`` also the built servers.

        Only folders this package creates are removed, so a state or cache dir pointed at a
        shared folder by an environment variable does not take its neighbours with it.
        """
        stop_services(self.settings.state_dir)
        self.stop()
        state = self.settings.state_dir
        with self._profile_lock():
            for name in (*COMPONENTS, *MONITORING_COMPONENTS, *_CLUSTER_DIRS, SERVICES_DIR):
                _remove_tree(state / name)
            (state / "kafka-cluster.id").unlink(missing_ok=True)
        (state / _LOCK_NAME).unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            state.rmdir()
        self._say(f"removed the {self.settings.profile} state in {state}")
        if not cache:
            return
        root = self.settings.cache_dir
        for component in self._components.values():
            lock = root / "locks" / f"{component.artifact}.lock"
            with file_lock(lock, self._say, f"the {component.name} build"):
                _remove_tree(component.install_dir)
        _remove_tree(jmx_agent_dir(self.settings))
        _remove_tree(root / "logs")
        _remove_tree(root / "locks")
        with contextlib.suppress(OSError):
            root.rmdir()
        self._say(f"removed the built servers in {root}")


def _port_hint(name: str) -> str:
    if name.startswith("kafka-"):
        return f"{CLUSTER_PORT_BASE_ENV} (the cluster's six ports), or {KAFKA_NODES_ENV}=1"
    return _PORT_ENV_HINT[name]


def _remove_tree(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        make_writable(path)
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
