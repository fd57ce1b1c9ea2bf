"""The four servers, in the order they start (and, reversed, stop), and the monitoring."""

from __future__ import annotations

from .base import Component
from .kafka import Kafka
from .mongo import Mongo
from .monitoring import LagExporter, Prometheus
from .s3 import S3
from .smtp import Smtp

COMPONENT_TYPES: dict[str, type[Component]] = {cls.name: cls for cls in (Kafka, Mongo, S3, Smtp)}
# Started with monitoring on (`make ops`) or by name; stopped with the rest.
MONITORING_TYPES: dict[str, type[Component]] = {cls.name: cls for cls in (Prometheus, LagExporter)}

__all__ = [
    "COMPONENT_TYPES",
    "MONITORING_TYPES",
    "S3",
    "Component",
    "Kafka",
    "LagExporter",
    "Mongo",
    "Prometheus",
    "Smtp",
]
