"""Settings every service shares; each service subclasses this once with its own fields."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

from returns_contracts.topics import Topics


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    topic_prefix: str = ""
    mongodb_url: str = "mongodb://127.0.0.1:27017/"
    log_level: str = "INFO"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # Bounded retries before a message goes to its dead-letter topic. About a minute in the
    # worst case: long enough for a merchant snapshot racing its first return on another topic.
    consumer_max_attempts: int = 8
    consumer_retry_base_seconds: float = 0.5
    readiness_timeout_seconds: float = 2.0
    # Shared between services (declaration issues draft tokens, media checks them; internal
    # endpoints check the internal token). The defaults are demo values: set real ones in
    # production, the same in every service.
    portal_token_secret: str = "demo-portal-token-secret-change-me"
    internal_api_token: str = "demo-internal-token-change-me"

    @property
    def topics(self) -> Topics:
        return Topics(prefix=self.topic_prefix)
