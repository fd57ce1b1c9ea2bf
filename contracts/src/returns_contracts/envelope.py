"""The envelope every Kafka message carries, and the field types the messages share."""

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID, uuid4

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from pydantic.config import JsonDict


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def utc_now() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_to_utc)]
"""An aware datetime, normalised to UTC; a naive datetime is rejected."""

NonEmptyStr = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]
"""A string with at least one character that is not whitespace."""

Email = Annotated[str, StringConstraints(max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
"""An e-mail address, checked only for the shape `local@domain` (no DNS, no IDNA)."""

Locale = Literal["fr", "en"]
"""Language of e-mails and pages (R15); French is the default."""

MessageKind = Literal["event", "command"]

ENVELOPE_FIELDS: tuple[str, ...] = (
    "event_id",
    "type",
    "version",
    "occurred_at",
    "merchant_id",
    "correlation_id",
    "producer",
    "payload",
)
"""Fields every message has on the wire. Defaults exist only to build messages in Python."""


def _envelope_always_on_the_wire(schema: JsonDict, model_class: type[Any]) -> None:
    """List the envelope fields as required in the JSON Schema.

    A producer always writes them (pydantic serialises defaults too), and a consumer needs them
    all: a missing `event_id` would otherwise get a fresh default and defeat de-duplication.
    `parse_message` enforces the same rule.
    """
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    required = schema.get("required")
    already = set(required) if isinstance(required, list) else set()
    schema["required"] = [name for name in properties if name in ENVELOPE_FIELDS or name in already]


class Payload(BaseModel):
    """Base of every payload and nested model: immutable, unknown fields rejected when built.

    `parse_message` overrides that when reading (unknown fields ignored): strict writers,
    tolerant readers.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class Message(BaseModel):
    """The envelope of a Kafka message. Concrete messages fix `type`, `version` and `payload`.

    Building a message rejects unknown fields (`extra="forbid"`); reading one goes through
    `parse_message`, which ignores them (see there).
    """

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        use_attribute_docstrings=True,
        json_schema_extra=_envelope_always_on_the_wire,
    )

    topic_base: ClassVar[str]
    """Base name of the topic this message goes to (see `Topics.for_message`)."""
    key_path: ClassVar[str]
    """Dotted path of the field whose value is the Kafka key, for documentation."""
    kind: ClassVar[MessageKind]
    """Whether the message states a fact (event) or asks for something (command)."""

    event_id: UUID = Field(default_factory=uuid4)
    """Unique id of this message; consumers de-duplicate on it."""
    type: str
    """Message type name, e.g. `ReturnSubmitted`."""
    version: int
    """Version of the message type; an incompatible change makes a new version."""
    occurred_at: UtcDatetime = Field(default_factory=utc_now)
    """When the fact happened or the command was issued (UTC)."""
    merchant_id: NonEmptyStr
    """Merchant the message belongs to; every consumer scopes its work by it (R12)."""
    correlation_id: NonEmptyStr = Field(default_factory=lambda: uuid4().hex)
    """Id shared by a chain of messages caused by one action, for tracing."""
    producer: NonEmptyStr
    """Name of the service (or tool) that produced the message."""
    payload: Payload
    """Message-specific content."""

    @classmethod
    def type_name(cls) -> str:
        """The `type` this message class fixes."""
        default = cls.model_fields["type"].default
        if not isinstance(default, str):
            raise TypeError(f"{cls.__name__} does not fix its message type")
        return default

    @classmethod
    def type_version(cls) -> int:
        """The `version` this message class fixes."""
        default = cls.model_fields["version"].default
        if isinstance(default, bool) or not isinstance(default, int):
            raise TypeError(f"{cls.__name__} does not fix its message version")
        return default

    def key(self) -> bytes:
        """The Kafka key (UTF-8 bytes, ready for the producer): see `key_path`."""
        raise NotImplementedError(f"{type(self).__name__} defines no Kafka key")
