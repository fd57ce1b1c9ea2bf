"""Each service's settings class: the environment variables it reads, and its demo defaults."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from returns_contracts.service_kit.settings import ServiceSettings
from returns_declaration.config import DeclarationSettings
from returns_labels.config import LabelsSettings
from returns_media.config import MediaSettings
from returns_notifier.config import NotifierSettings

SETTINGS: dict[str, type[BaseSettings]] = {
    "declaration": DeclarationSettings,
    "media": MediaSettings,
    "notifier": NotifierSettings,
    "labels": LabelsSettings,
}


def env_names(settings: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads (no prefix, case-insensitive)."""
    return {name.upper() for name in settings.model_fields}


def demo_credentials(settings: type[BaseSettings]) -> set[str]:
    """The variables whose default is a demo credential that production must replace."""
    names = set()
    for name, field in settings.model_fields.items():
        default = field.default
        value = default.get_secret_value() if isinstance(default, SecretStr) else default
        if isinstance(value, str) and "change-me" in value:
            names.add(name.upper())
    return names


JOB_SETTINGS = ServiceSettings
