"""Profiles, ports, directories and credentials, with environment overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

COMPONENTS: tuple[str, ...] = ("kafka", "mongo", "s3", "smtp")
PROFILES: tuple[str, ...] = ("dev", "test", "bench")

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


# The test profile shifts every port so that `make run` (dev) and `make test` can run together;
# the bench profile (`make bench`) has its own as well, so a benchmark disturbs neither.
_DEFAULT_PORTS: dict[str, Ports] = {
    "dev": Ports(
        kafka=9092, kafka_controller=9093, mongo=27017, s3=7070, smtp=1025, mailpit_ui=8025
    ),
    "test": Ports(
        kafka=19092, kafka_controller=19093, mongo=27117, s3=17070, smtp=11025, mailpit_ui=18025
    ),
    "bench": Ports(
        kafka=29092, kafka_controller=29093, mongo=27217, s3=27070, smtp=21025, mailpit_ui=28025
    ),
}

_PORT_ENV: dict[str, str] = {
    "kafka": "RETURNS_KAFKA_PORT",
    "kafka_controller": "RETURNS_KAFKA_CONTROLLER_PORT",
    "mongo": "RETURNS_MONGO_PORT",
    "s3": "RETURNS_S3_PORT",
    "smtp": "RETURNS_SMTP_PORT",
    "mailpit_ui": "RETURNS_MAILPIT_UI_PORT",
}


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
        if len(set(vars(ports).values())) != len(_PORT_ENV):
            raise ConfigError(f"two servers of profile {name!r} would share a port: {ports}")
        state = env.get("RETURNS_STATE_DIR")
        state_dir = Path(state).expanduser().resolve() if state else repo_root() / ".run" / name
        return cls(
            profile=name,
            state_dir=state_dir,
            cache_dir=default_cache_dir(env),
            ports=ports,
            s3_access_key=env.get("S3_ACCESS_KEY") or DEFAULT_S3_ACCESS_KEY,
            s3_secret_key=env.get("S3_SECRET_KEY") or DEFAULT_S3_SECRET_KEY,
        )

    def component_dir(self, name: str) -> Path:
        return self.state_dir / name
