"""JSON log lines that carry the correlation id of the request or message being handled."""

from __future__ import annotations

import json
import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

correlation_id_var: ContextVar[str | None] = ContextVar("correlation_id", default=None)

# Attributes every LogRecord has; anything else was passed through `extra=` and is logged.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def current_correlation_id() -> str:
    """The id of the work in progress, or a fresh one when nothing set it."""
    return correlation_id_var.get() or uuid.uuid4().hex


@contextmanager
def correlation_scope(correlation_id: str | None) -> Iterator[str]:
    value = correlation_id or uuid.uuid4().hex
    token = correlation_id_var.set(value)
    try:
        yield value
    finally:
        correlation_id_var.reset(token)


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        correlation_id = correlation_id_var.get()
        if correlation_id:
            line["correlation_id"] = correlation_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route every logger (ours, uvicorn's, FastStream's) to one JSON stream on stdout."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "faststream", "aiokafka"):
        named = logging.getLogger(name)
        named.handlers[:] = []
        named.propagate = True
    # aiokafka is chatty at INFO about every coordinator step; httpx logs every call between
    # services, which the callee's access log already has (a line per photo lookup).
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
