from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from returns_contracts.service_kit.settings import ServiceSettings


class LabelsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    service_name: str = "labels"
    http_port: int = 8004
    mongodb_database: str = "labels"
