"""The four servers, in the order they start (and, reversed, stop)."""

from __future__ import annotations

from .base import Component
from .kafka import Kafka
from .mongo import Mongo
from .s3 import S3
from .smtp import Smtp

COMPONENT_TYPES: dict[str, type[Component]] = {cls.name: cls for cls in (Kafka, Mongo, S3, Smtp)}

__all__ = ["COMPONENT_TYPES", "S3", "Component", "Kafka", "Mongo", "Smtp"]
