from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from returns_contracts.service_kit.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    service_name: str = "notifier"
    http_port: int = 8003
    mongodb_database: str = "notifier"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # STARTTLS is required when true and never attempted when false (local Mailpit has none).
    smtp_starttls: bool = False
    smtp_timeout: float = 10.0
    # How long one consumer may hold the right to send an e-mail: more than a send takes.
    send_lease_seconds: float = 60.0
    mail_from: str = "Returns <returns@demo-shop.example>"
    # Right-hand side of the Message-IDs this service makes: `<event_id.template@domain>`.
    message_id_domain: str = "returns.invalid"
    # Media signs the photo links of the customer-service e-mail; labels serves the label PDFs.
    # A LabelGenerated.download_url elsewhere than labels_base_url is refused, never fetched.
    media_base_url: str = "http://127.0.0.1:8002"
    labels_base_url: str = "http://127.0.0.1:8004"
    http_timeout_seconds: float = 10.0
