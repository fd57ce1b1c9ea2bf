"""Kafka topic names, with an optional prefix, and what a service needs to create them."""

import re
from dataclasses import dataclass

from returns_contracts.envelope import Message

RETURN_SUBMITTED = "returns.submitted"
LABEL_REQUESTED = "returns.label-requested"
LABEL_GENERATED = "returns.label-generated"
LABEL_REJECTED = "returns.label-rejected"
NOTIFICATION_SENT = "returns.notification-sent"
MERCHANT_UPDATED = "merchants.updated"
RETURN_RESOLVED = "returns.resolved"
INFORMATION_REQUESTED = "returns.information-requested"
CUSTOMER_ANSWERED = "returns.customer-answered"

BASE_TOPICS: tuple[str, ...] = (
    RETURN_SUBMITTED,
    LABEL_REQUESTED,
    LABEL_GENERATED,
    LABEL_REJECTED,
    NOTIFICATION_SENT,
    MERCHANT_UPDATED,
    RETURN_RESOLVED,
    INFORMATION_REQUESTED,
    CUSTOMER_ANSWERED,
)
COMPACTED_TOPICS: frozenset[str] = frozenset({MERCHANT_UPDATED})
"""Base names of the topics kept by key (log compaction) rather than by time."""

DLQ_SUFFIX = ".dlq"
DEFAULT_PARTITIONS = 3

_TOPIC_CHARS = re.compile(r"^[A-Za-z0-9._-]*$")
_MAX_TOPIC_LENGTH = 249


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """What is needed to create one topic."""

    name: str
    partitions: int = DEFAULT_PARTITIONS
    compacted: bool = False

    @property
    def config(self) -> dict[str, str]:
        """Topic-level Kafka configuration for this topic."""
        return {"cleanup.policy": "compact" if self.compacted else "delete"}


@dataclass(frozen=True, slots=True)
class Topics:
    """Topic names for one deployment.

    `prefix` isolates deployments or test runs sharing a broker. It is joined with a `.` unless
    it already ends with `.`, `-` or `_`: `Topics("t1").return_submitted == "t1.returns.submitted"`.
    """

    prefix: str = ""

    def __post_init__(self) -> None:
        if not _TOPIC_CHARS.match(self.prefix):
            raise ValueError(
                f"topic prefix {self.prefix!r} may only contain ASCII letters, digits and . _ -"
            )
        longest = self.dlq(self.name(max(BASE_TOPICS, key=len)))
        if len(longest) > _MAX_TOPIC_LENGTH:
            raise ValueError(f"topic prefix {self.prefix!r} makes topic names too long for Kafka")

    def name(self, base: str) -> str:
        """The full name of the topic with base name `base`."""
        if not self.prefix:
            return base
        if self.prefix.endswith((".", "-", "_")):
            return f"{self.prefix}{base}"
        return f"{self.prefix}.{base}"

    @property
    def return_submitted(self) -> str:
        return self.name(RETURN_SUBMITTED)

    @property
    def label_requested(self) -> str:
        return self.name(LABEL_REQUESTED)

    @property
    def label_generated(self) -> str:
        return self.name(LABEL_GENERATED)

    @property
    def label_rejected(self) -> str:
        return self.name(LABEL_REJECTED)

    @property
    def notification_sent(self) -> str:
        return self.name(NOTIFICATION_SENT)

    @property
    def merchant_updated(self) -> str:
        return self.name(MERCHANT_UPDATED)

    @property
    def return_resolved(self) -> str:
        return self.name(RETURN_RESOLVED)

    @property
    def information_requested(self) -> str:
        return self.name(INFORMATION_REQUESTED)

    @property
    def customer_answered(self) -> str:
        return self.name(CUSTOMER_ANSWERED)

    @staticmethod
    def dlq(topic: str) -> str:
        """The dead-letter topic of `topic` (a full name)."""
        return f"{topic}{DLQ_SUFFIX}"

    def for_message(self, message: type[Message] | Message) -> str:
        """The topic a message class (or message) is published to."""
        message_class = message if isinstance(message, type) else type(message)
        base = getattr(message_class, "topic_base", None)
        if base not in BASE_TOPICS:
            raise ValueError(f"{message_class.__name__} has no known topic")
        return self.name(base)

    def all(self) -> list[str]:
        """Every topic name, without the dead-letter topics."""
        return [self.name(base) for base in BASE_TOPICS]

    def specs(self, partitions: int = DEFAULT_PARTITIONS) -> list[TopicSpec]:
        """Every topic to create, each followed by its dead-letter topic.

        A dead-letter topic is never compacted: compaction would drop the older failures of a
        merchant as soon as a newer one arrives.
        """
        if partitions < 1:
            raise ValueError("a topic needs at least one partition")
        specs: list[TopicSpec] = []
        for base in BASE_TOPICS:
            name = self.name(base)
            specs.append(TopicSpec(name, partitions, compacted=base in COMPACTED_TOPICS))
            specs.append(TopicSpec(self.dlq(name), partitions, compacted=False))
        return specs
