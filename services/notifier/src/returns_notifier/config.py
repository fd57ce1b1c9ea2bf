from __future__ import annotations

from functools import cached_property
from uuid import uuid4

from pydantic import Field, SecretStr
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
    # E-mails on their way at once, each on a connection of its own (kept open between them).
    smtp_connections: int = Field(default=4, ge=1, le=64)
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
    # How long a merchant is kept after it was read (every e-mail reads its merchant); a
    # snapshot this process saves replaces it at once, one another process saves shows after
    # at most this. 0 reads it for every e-mail.
    merchant_cache_seconds: float = Field(default=1.0, ge=0)

    @cached_property
    def send_lease_owner(self) -> str:
        """Who holds this process's send leases: its stable instance id (`CONSUMER_INSTANCE_ID`,
        the same on every restart of this instance), else a random id, drawn once per process.

        The same instance restarted after kill -9 takes back a lease its previous life held at
        once (it cannot be sending any more); another instance waits for the lease to end. A
        random id makes a restarted process wait out its own dead lease (60 s) while the
        e-mail's partition waits behind it."""
        return self.consumer_instance_id or f"notifier-{uuid4().hex}"
