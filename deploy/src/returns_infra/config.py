"""Profiles, ports, directories and credentials, with environment overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

COMPONENTS: tuple[str, ...] = ("kafka", "mongo", "s3", "smtp")
# Started only with monitoring on (`make ops`, --monitoring, RETURNS_MONITORING=1) or by name:
# Debian's Prometheus and our consumer-lag exporter; Kafka then also carries the JMX exporter.
MONITORING_COMPONENTS: tuple[str, ...] = ("prometheus", "lag-exporter")
MONITORING_ENV = "RETURNS_MONITORING"
PROFILES: tuple[str, ...] = ("dev", "test", "bench")
# One Kafka node (the default), or the opt-in three-node cluster: RETURNS_KAFKA_NODES=3.
KAFKA_NODE_COUNTS: tuple[int, ...] = (1, 3)
CLUSTER_SIZE = 3

# Demo values only: they protect nothing but a server bound to 127.0.0.1 on a developer machine.
DEFAULT_S3_ACCESS_KEY = "demo-access-key"
DEFAULT_S3_SECRET_KEY = "demo-secret-key-change-me"
S3_REGION = "us-east-1"

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Ports:
    kafka: int
    kafka_controller: int
    mongo: int
    s3: int
    smtp: int
    mailpit_ui: int
    prometheus: int
    lag_exporter: int
    # Kafka's JMX exporter (node k of the cluster: this port + k - 1).
    kafka_jmx_exporter: int


# The test profile shifts every port so that `make run` (dev) and `make test` can run together;
# the bench profile (`make bench`) has its own as well, so a benchmark disturbs neither.
_DEFAULT_PORTS: dict[str, Ports] = {
    "dev": Ports(
        kafka=9092,
        kafka_controller=9093,
        mongo=27017,
        s3=7070,
        smtp=1025,
        mailpit_ui=8025,
        # Not 9090: that is where the Debian package's own service would listen.
        prometheus=9190,
        lag_exporter=9191,
        kafka_jmx_exporter=9192,
    ),
    "test": Ports(
        kafka=19092,
        kafka_controller=19093,
        mongo=27117,
        s3=17070,
        smtp=11025,
        mailpit_ui=18025,
        prometheus=19190,
        lag_exporter=19191,
        kafka_jmx_exporter=19192,
    ),
    "bench": Ports(
        kafka=29092,
        kafka_controller=29093,
        mongo=27217,
        s3=27070,
        smtp=21025,
        mailpit_ui=28025,
        prometheus=29190,
        lag_exporter=29191,
        kafka_jmx_exporter=29192,
    ),
}

# The three-node cluster takes six consecutive ports from a base of its own (node k: broker at
# base + 2(k-1), controller at base + 2(k-1) + 1), apart from the single node's, so that
# switching between the two never finds a port still held by the other. By default the six
# above the single node's two (dev 9094-9099, test 19094-19099, bench 29094-29099), which follow
# a RETURNS_KAFKA_PORT override.
CLUSTER_PORT_BASE_ENV = "RETURNS_KAFKA_CLUSTER_PORT_BASE"
KAFKA_NODES_ENV = "RETURNS_KAFKA_NODES"

_PORT_ENV: dict[str, str] = {
    "kafka": "RETURNS_KAFKA_PORT",
    "kafka_controller": "RETURNS_KAFKA_CONTROLLER_PORT",
    "mongo": "RETURNS_MONGO_PORT",
    "s3": "RETURNS_S3_PORT",
    "smtp": "RETURNS_SMTP_PORT",
    "mailpit_ui": "RETURNS_MAILPIT_UI_PORT",
    "prometheus": "RETURNS_PROMETHEUS_PORT",
    "lag_exporter": "RETURNS_LAG_EXPORTER_PORT",
    "kafka_jmx_exporter": "RETURNS_KAFKA_JMX_EXPORTER_PORT",
}


@dataclass(frozen=True)
class KafkaNode:
    """One Kafka node's id and ports (the broker's for clients, the controller's for the quorum)."""

    node_id: int
    port: int
    controller_port: int
    # Where this node's JMX exporter serves /metrics when monitoring is on (not part of what
    # identifies the node in the quorum).
    jmx_exporter_port: int = field(default=0, compare=False)


class ConfigError(ValueError):
    """A profile name or an environment override is invalid."""


def repo_root() -> Path:
    """The checkout that holds this package, so state lands in the same place from any cwd.

    When the package is installed from a wheel rather than editable, there is no checkout
    next to it; the current directory is then the only sensible anchor.
    """
    here = Path(__file__).resolve()
    candidate = here.parents[3]
    if (candidate / "deploy" / "pyproject.toml").is_file():
        return candidate
    return Path.cwd()


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    explicit = environ.get("RETURNS_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    xdg = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return (Path(xdg).expanduser() / "returns-backend").resolve()


def _port(environ: Mapping[str, str], key: str, default: int) -> int:
    raw = environ.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{key}={raw!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise ConfigError(f"{key}={value} is outside 1..65535")
    return value


@dataclass(frozen=True)
class Settings:
    profile: str
    state_dir: Path
    cache_dir: Path
    ports: Ports
    s3_access_key: str
    s3_secret_key: str
    kafka_nodes: int = 1
    kafka_cluster_port_base: int = 9094
    # Prometheus, the lag exporter and Kafka's JMX exporter (`make ops`).
    monitoring: bool = False

    @classmethod
    def for_profile(
        cls, profile: str | None = None, environ: Mapping[str, str] | None = None
    ) -> Settings:
        env = os.environ if environ is None else environ
        name = profile or env.get("RETURNS_PROFILE") or "dev"
        if name not in _DEFAULT_PORTS:
            raise ConfigError(f"unknown profile {name!r}; choose one of {', '.join(PROFILES)}")
        defaults = _DEFAULT_PORTS[name]
        ports = Ports(
            **{field: _port(env, key, getattr(defaults, field)) for field, key in _PORT_ENV.items()}
        )
        kafka_nodes = _kafka_nodes(env)
        cluster_base = _port(env, CLUSTER_PORT_BASE_ENV, ports.kafka + 2)
        cluster_ports = list(range(cluster_base, cluster_base + 2 * CLUSTER_SIZE))
        if kafka_nodes > 1 and cluster_ports[-1] > 65535:
            raise ConfigError(
                f"{CLUSTER_PORT_BASE_ENV}={cluster_base} leaves no room for the cluster's "
                f"{len(cluster_ports)} ports below 65536"
            )
        jmx_ports = [ports.kafka_jmx_exporter + offset for offset in range(1, CLUSTER_SIZE)]
        taken = [
            *vars(ports).values(),
            *(cluster_ports + jmx_ports if kafka_nodes > 1 else []),
        ]
        if len(set(taken)) != len(taken):
            raise ConfigError(
                f"two servers of profile {name!r} would share a port: {ports}"
                + (
                    f", Kafka cluster {cluster_ports[0]}-{cluster_ports[-1]}"
                    if kafka_nodes > 1
                    else ""
                )
            )
        state = env.get("RETURNS_STATE_DIR")
        state_dir = Path(state).expanduser().resolve() if state else repo_root() / ".run" / name
        return cls(
            profile=name,
            state_dir=state_dir,
            cache_dir=default_cache_dir(env),
            ports=ports,
            s3_access_key=env.get("S3_ACCESS_KEY") or DEFAULT_S3_ACCESS_KEY,
            s3_secret_key=env.get("S3_SECRET_KEY") or DEFAULT_S3_SECRET_KEY,
            kafka_nodes=kafka_nodes,
            kafka_cluster_port_base=cluster_base,
            monitoring=_flag(env, MONITORING_ENV),
        )

    def component_dir(self, name: str) -> Path:
        return self.state_dir / name

    @property
    def clustered(self) -> bool:
        return self.kafka_nodes > 1

    def kafka_node_list(self) -> list[KafkaNode]:
        """The Kafka nodes of this profile: the single node, or the cluster's three."""
        jmx = self.ports.kafka_jmx_exporter
        if not self.clustered:
            return [KafkaNode(1, self.ports.kafka, self.ports.kafka_controller, jmx)]
        base = self.kafka_cluster_port_base
        return [
            KafkaNode(
                number, base + 2 * (number - 1), base + 2 * (number - 1) + 1, jmx + number - 1
            )
            for number in range(1, self.kafka_nodes + 1)
        ]

    def kafka_component_names(self) -> list[str]:
        """`kafka` for the single node; `kafka-1`, `kafka-2`, `kafka-3` for the cluster's."""
        if not self.clustered:
            return ["kafka"]
        return [f"kafka-{node.node_id}" for node in self.kafka_node_list()]

    def component_names(self) -> list[str]:
        """Every server of this profile, in start order (with monitoring, its two last)."""
        monitoring = list(MONITORING_COMPONENTS) if self.monitoring else []
        return [*self.kafka_component_names(), *COMPONENTS[1:], *monitoring]

    @property
    def kafka_replication_factor(self) -> int:
        """What the services create their topics with (KAFKA_REPLICATION_FACTOR)."""
        return CLUSTER_SIZE if self.clustered else 1

    @property
    def kafka_min_insync_replicas(self) -> int:
        """Replicas that must hold a record before it is acknowledged to an acks=all producer."""
        return 2 if self.clustered else 1


def _kafka_nodes(environ: Mapping[str, str]) -> int:
    raw = environ.get(KAFKA_NODES_ENV) or "1"
    choices = " or ".join(map(str, KAFKA_NODE_COUNTS))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{KAFKA_NODES_ENV}={raw!r} is not a number; choose {choices}") from None
    if value not in KAFKA_NODE_COUNTS:
        raise ConfigError(f"{KAFKA_NODES_ENV}={value}: choose {choices}")
    return value


def _flag(environ: Mapping[str, str], key: str) -> bool:
    raw = (environ.get(key) or "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{key}={raw!r}: choose 1 or 0")
