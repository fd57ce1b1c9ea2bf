from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from returns_contracts.service_kit.settings import ServiceSettings


class DeclarationSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    service_name: str = "declaration"
    http_port: int = 8001
    mongodb_database: str = "declaration"
    # Where the back-office pages live; customer-service e-mails link to the return record.
    back_office_base_url: str = "http://127.0.0.1:8001/back-office"
    outbox_relay_enabled: bool = True
    outbox_poll_seconds: float = 2.0
