from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from returns_contracts.service_kit.settings import ServiceSettings


class MediaSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    service_name: str = "media"
    http_port: int = 8002
    mongodb_database: str = "media"
    # The local S3 server of `make run`; its demo credentials protect nothing but 127.0.0.1.
    s3_endpoint: str = "http://127.0.0.1:7070"
    s3_access_key: str = "demo-access-key"
    s3_secret_key: SecretStr = SecretStr("demo-secret-key-change-me")
    s3_bucket: str = "returns-media"
    s3_region: str = "us-east-1"
    s3_connect_timeout_seconds: float = 5.0
    s3_read_timeout_seconds: float = 30.0
