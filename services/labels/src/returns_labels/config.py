from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from returns_contracts.service_kit.s3 import S3Settings
from returns_contracts.service_kit.settings import ServiceSettings


class LabelsSettings(ServiceSettings, S3Settings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    service_name: str = "labels"
    http_port: int = 8004
    mongodb_database: str = "labels"
    # Label download links (`LabelGenerated.download_url`) point here.
    labels_base_url: str = "http://127.0.0.1:8004"
    # Signs the label download links; only this service issues and checks them. Demo value:
    # set a real one in production.
    label_link_secret: SecretStr = SecretStr("demo-label-link-secret-change-me")
    label_link_lifetime_days: int = 30
    # How long a label request may wait for its ReturnSubmitted (or the merchant's settings)
    # before it is rejected, and how often waiting work is looked at again.
    label_request_wait_seconds: float = 30.0
    waiting_sweep_seconds: float = 1.0
    # How long a merchant that can receive parcels is kept after it was read (every label
    # reads its merchant); 0 reads it for every label.
    merchant_cache_seconds: float = 1.0
    # A TrueType font prints every customer's name; without one, the built-in Latin-1 font.
    label_font_path: str | None = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    s3_bucket: str = "returns-labels"
