"""Which class reads which message, and parsing raw messages into them."""

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from pydantic import ValidationError

from returns_contracts.envelope import ENVELOPE_FIELDS, Message
from returns_contracts.information import CustomerAnswered, InformationRequested
from returns_contracts.messages import (
    LabelGenerated,
    LabelRejected,
    LabelRequested,
    MerchantUpdated,
    NotificationSent,
    ReturnSubmitted,
)
from returns_contracts.resolution import ReturnResolved

MESSAGE_CLASSES: tuple[type[Message], ...] = (
    ReturnSubmitted,
    LabelRequested,
    LabelGenerated,
    LabelRejected,
    NotificationSent,
    MerchantUpdated,
    ReturnResolved,
    InformationRequested,
    CustomerAnswered,
)
"""Every message class of every version; a class for a new version is added, never swapped."""


def _by_type_and_version(
    classes: tuple[type[Message], ...],
) -> dict[tuple[str, int], type[Message]]:
    registry: dict[tuple[str, int], type[Message]] = {}
    for cls in classes:
        key = (cls.type_name(), cls.type_version())
        if key in registry:
            raise TypeError(f"{key[0]} v{key[1]} is registered twice")
        registry[key] = cls
    return registry


MESSAGE_VERSIONS: Mapping[tuple[str, int], type[Message]] = MappingProxyType(
    _by_type_and_version(MESSAGE_CLASSES)
)
"""(type, version) -> message class."""

MESSAGE_TYPES: Mapping[str, type[Message]] = MappingProxyType(
    {
        type_name: MESSAGE_VERSIONS[type_name, version]
        for type_name, version in sorted(MESSAGE_VERSIONS)
    }
)
"""Type name -> class of its newest version."""


TOLERATED_EXTRA: Final = "ignore"
"""What `parse_message` does with unknown fields: drop them. Not "allow": the models' serialisers
are built for their strict config and would not write kept extras back out anyway."""


class MessageError(ValueError):
    """A raw message that cannot be read; a consumer sends it to the dead-letter topic."""


class MalformedMessageError(MessageError):
    """Not JSON, not an object, or without a usable envelope."""


class UnknownMessageTypeError(MessageError):
    """A `type` no class is registered for."""


class UnknownMessageVersionError(MessageError):
    """A known `type` with a `version` no class is registered for."""


class InvalidMessageError(MessageError):
    """A known type and version whose content fails validation (see `__cause__`)."""


def parse_message(raw: bytes | bytearray | str | Mapping[str, Any]) -> Message:
    """Read a message (JSON bytes or text, or a decoded object) into its registered class.

    Dispatches on `type` and `version`, requires every envelope field to be present (defaults are
    for building messages, not for reading them) and raises a `MessageError` subclass otherwise.

    Reading is tolerant: fields the class does not know, at the top level or at any depth of the
    payload, are ignored, so a newer producer that adds an optional field does not dead-letter
    its messages on a consumer still on the older contract during a rolling deploy. Building is
    strict: a message constructed in Python (or validated with `model_validate`) still rejects
    unknown fields, so a producer cannot send what its schema does not state.
    """
    data: object
    if isinstance(raw, bytes | bytearray | str):
        try:
            data = json.loads(raw)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
            raise MalformedMessageError(f"message is not valid JSON: {exc}") from exc
    else:
        data = raw
    if not isinstance(data, Mapping):
        raise MalformedMessageError(f"message must be a JSON object, not {type(data).__name__}")

    type_name = data.get("type")
    version = data.get("version")
    if not isinstance(type_name, str):
        raise MalformedMessageError("message has no string 'type'")
    if type_name not in MESSAGE_TYPES:
        known = ", ".join(sorted(MESSAGE_TYPES))
        raise UnknownMessageTypeError(f"unknown message type {type_name!r}; known types: {known}")
    if isinstance(version, bool) or not isinstance(version, int):
        raise MalformedMessageError(f"{type_name} message has no integer 'version'")
    message_class = MESSAGE_VERSIONS.get((type_name, version))
    if message_class is None:
        known_versions = ", ".join(str(v) for (n, v) in sorted(MESSAGE_VERSIONS) if n == type_name)
        raise UnknownMessageVersionError(
            f"unknown version {version} of {type_name}; known versions: {known_versions}"
        )
    missing = [field for field in ENVELOPE_FIELDS if field not in data]
    if missing:
        raise MalformedMessageError(
            f"{type_name} v{version} message lacks envelope field(s): {', '.join(missing)}"
        )
    try:
        return message_class.model_validate(data, extra=TOLERATED_EXTRA)
    except ValidationError as exc:
        raise InvalidMessageError(f"invalid {type_name} v{version} message: {exc}") from exc
