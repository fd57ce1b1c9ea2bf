"""Command-line options that returns-admin and returns-lag-exporter share."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click

F = TypeVar("F", bound=Callable[..., object])


def kafka_options(command: F) -> F:
    """--bootstrap-servers and --topic-prefix, from KAFKA_BOOTSTRAP_SERVERS and TOPIC_PREFIX."""
    command = click.option(
        "--topic-prefix",
        envvar="TOPIC_PREFIX",
        default="",
        help="Prefix of the deployment's topic names (env TOPIC_PREFIX).",
    )(command)
    return click.option(
        "--bootstrap-servers",
        envvar="KAFKA_BOOTSTRAP_SERVERS",
        default="127.0.0.1:9092",
        show_default=True,
        help="Kafka brokers (env KAFKA_BOOTSTRAP_SERVERS).",
    )(command)
