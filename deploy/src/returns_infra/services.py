"""Start and stop the project's four services as local processes, like the servers they use.

`make run` and the end-to-end test fixture both go through here, so the services a test talks
to are started exactly the way a person's are.
"""

from __future__ import annotations

import os
import shutil
import sys
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from returns_infra import processes

HOST = "127.0.0.1"
SERVICES_DIR = "services"


# The services take consecutive ports from a base: 8001.. for dev, 18001.. for test, 28001..
# for bench, or
# RETURNS_SERVICES_PORT_BASE, so several test runs on one machine keep apart.
_PORT_BASE = {"dev": 8001, "test": 18001, "bench": 28001}


@dataclass(frozen=True)
class Service:
    """One process of a service: its name (also of its log, pid file and Prometheus target),
    the service's console script, its port's offset, its priority and what it runs
    (`PROCESS_ROLE`: "all", or the service's "api" or "consumers" alone)."""

    name: str
    console_script: str
    offset: int
    niceness: int = 0
    role: str = "all"

    def port(self, profile: str) -> int:
        base = os.environ.get("RETURNS_SERVICES_PORT_BASE")
        return (int(base) if base else _PORT_BASE.get(profile, _PORT_BASE["dev"])) + self.offset

    @property
    def service(self) -> str:
        """The service this process is of ("declaration" for "declaration-consumers")."""
        return self.console_script.removeprefix("returns-")


# Declaration and media answer people and also consume topics (the timeline; the photos of
# submitted returns): their consumers run in a process of their own, on the CPU the others leave
# (processes.BACKGROUND_NICENESS), like the notifier and labels, which only consume.
SERVICES: tuple[Service, ...] = (
    Service("declaration", "returns-declaration", 0, role="api"),
    Service("media", "returns-media", 1, role="api"),
    Service("notifier", "returns-notifier", 2, niceness=processes.BACKGROUND_NICENESS),
    Service("labels", "returns-labels", 3, niceness=processes.BACKGROUND_NICENESS),
    Service(
        "declaration-consumers",
        "returns-declaration",
        4,
        niceness=processes.BACKGROUND_NICENESS,
        role="consumers",
    ),
    Service(
        "media-consumers",
        "returns-media",
        5,
        niceness=processes.BACKGROUND_NICENESS,
        role="consumers",
    ),
)


# The first port offset past every process above: where extra instances take theirs (the
# scale-out test, the start-up bench).
EXTRA_PORT_OFFSET = max(process.offset for process in SERVICES) + 1


def ports_by_service(profile: str) -> dict[str, list[int]]:
    """Each service's processes' ports (declaration: its API's and its consumers')."""
    ports: dict[str, list[int]] = {}
    for process in SERVICES:
        ports.setdefault(process.service, []).append(process.port(profile))
    return ports


def service_urls(profile: str) -> dict[str, str]:
    return {service.name: f"http://{HOST}:{service.port(profile)}" for service in SERVICES}


def installed_script(name: str) -> str:
    # The console scripts sit beside the interpreter of the virtualenv that installed us.
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise processes.ProcessError(
            f"{name} is not installed; run `make venv` to install the services"
        )
    return found


def listening(port: int) -> bool:
    """Whether a socket listens on TCP `port` of this machine (Linux: /proc/net/tcp, tcp6)."""
    suffix = f":{port:04X}"
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            # local address, remote address, state (0A: LISTEN)
            if len(fields) > 3 and fields[1].endswith(suffix) and fields[3] == "0A":
                return True
    return False


def _ready(url: str) -> processes.HealthCheck:
    port = urllib.parse.urlsplit(url).port

    def check() -> bool:
        # No connection before the service listens: the service ports are in Linux's range of
        # ephemeral ports, and a connect to a port nobody listens on can be given that very
        # port as its source and connect to itself, which then holds the port: the service
        # failed to bind it ("address already in use") once its start-up was done.
        if port is not None and not listening(port):
            return False
        with urllib.request.urlopen(f"{url}/readyz", timeout=3) as response:
            return bool(response.status == 200)

    return check


def service_env(profile: str, infra_env: Mapping[str, str]) -> dict[str, str]:
    """What every service reads: the servers' addresses plus the links between services."""
    urls = service_urls(profile)
    return {
        **infra_env,
        "MEDIA_BASE_URL": urls["media"],
        "LABELS_BASE_URL": urls["labels"],
        "BACK_OFFICE_BASE_URL": f"{urls['declaration']}/back-office",
        "PORTAL_BASE_URL": f"{urls['declaration']}/portal",
        "LOG_LEVEL": "INFO",
    }


def _spec(
    service: Service,
    profile: str,
    state_dir: Path,
    env: Mapping[str, str],
    instance: str | None = None,
    port: int | None = None,
) -> processes.ProcessSpec:
    name = instance or service.name
    directory = state_dir / SERVICES_DIR / name
    http_port = port or service.port(profile)
    return processes.ProcessSpec(
        name=name,
        command=[installed_script(service.console_script)],
        log_path=directory / f"{name}.log",
        pid_path=directory / f"{name}.pid",
        niceness=service.niceness,
        env={
            **env,
            "HTTP_HOST": HOST,
            "HTTP_PORT": str(http_port),
            # The same on every restart of this instance, unique among the instances of one
            # machine: the restarted process takes back its partitions without a rebalance.
            "CONSUMER_INSTANCE_ID": f"{service.name}-{http_port}",
            "PROCESS_ROLE": service.role,
        },
    )


def service_spec(
    name: str,
    profile: str,
    state_dir: Path,
    infra_env: Mapping[str, str],
    *,
    instance: str | None = None,
    port: int | None = None,
) -> processes.ProcessSpec:
    """How service `name` is run: the same command line and environment as `start_services`.

    `instance` and `port` describe one more instance of it (another HTTP port, its own log and
    pid file under `<state dir>/services/<instance>/`), in the same consumer groups.
    """
    env = service_env(profile, infra_env)
    return _spec(_service(name), profile, state_dir, env, instance, port)


def ready_check(url: str) -> processes.HealthCheck:
    """True once the service at `url` answers /readyz with 200 (its servers answer it)."""
    return _ready(url)


SERVICE_NAMES: tuple[str, ...] = tuple(service.name for service in SERVICES)


def _service(name: str) -> Service:
    for service in SERVICES:
        if service.name == name:
            return service
    raise processes.ProcessError(f"unknown service {name!r}; choose from {SERVICE_NAMES}")


def service_pid_path(state_dir: Path, name: str) -> Path:
    return state_dir / SERVICES_DIR / name / f"{name}.pid"


def start_services(
    profile: str, state_dir: Path, infra_env: Mapping[str, str], timeout: float = 90.0
) -> dict[str, str]:
    """Start every service that is not running and wait until each answers /readyz.

    All are launched before any is waited for, so the whole start takes about as long as the
    slowest service rather than the sum of the four.
    """
    env = service_env(profile, infra_env)
    urls = service_urls(profile)
    launched: list[tuple[processes.ProcessSpec, int, bool]] = []
    for service in SERVICES:
        spec = _spec(service, profile, state_dir, env)
        pid = processes.read_pid(spec.pid_path)
        fresh = pid is None
        launched.append((spec, pid if pid is not None else processes.spawn(spec), fresh))
    try:
        for spec, pid, _ in launched:
            processes.wait_healthy(spec, pid, _ready(urls[spec.name]), timeout, interval=0.1)
    except processes.ProcessError:
        # A failed start leaves nothing it started running.
        for spec, _, fresh in launched:
            if fresh:
                processes.stop(spec.pid_path, timeout=10.0)
        raise
    return urls


def start_service(
    name: str, profile: str, state_dir: Path, infra_env: Mapping[str, str], timeout: float = 90.0
) -> int:
    """Start one service (unless it runs) the way start_services does; wait until ready."""
    service = _service(name)
    spec = _spec(service, profile, state_dir, service_env(profile, infra_env))
    return processes.start(spec, _ready(service_urls(profile)[name]), timeout, interval=0.1)


def service_ready(profile: str, name: str) -> bool:
    try:
        return _ready(service_urls(profile)[name])()
    except OSError:
        return False


def stop_service(state_dir: Path, name: str) -> bool:
    return processes.stop(service_pid_path(state_dir, _service(name).name))


def stop_services(state_dir: Path) -> None:
    for service in reversed(SERVICES):
        processes.stop(service_pid_path(state_dir, service.name))


def service_logs(state_dir: Path) -> dict[str, Path]:
    return {
        service.name: state_dir / SERVICES_DIR / service.name / f"{service.name}.log"
        for service in SERVICES
    }
