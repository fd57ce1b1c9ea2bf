"""Local infrastructure of the returns backend: Kafka, FerretDB, versitygw and Mailpit.

Fetched and built once into a cache outside the checkout, run as plain local processes.
"""

from .build import BuildError
from .config import COMPONENTS, PROFILES, ConfigError, Ports, Settings
from .infra import Infra, InfraError, ServerStatus
from .processes import ProcessError, ProcessSpec

__all__ = [
    "COMPONENTS",
    "PROFILES",
    "BuildError",
    "ConfigError",
    "Infra",
    "InfraError",
    "Ports",
    "ProcessError",
    "ProcessSpec",
    "ServerStatus",
    "Settings",
]
