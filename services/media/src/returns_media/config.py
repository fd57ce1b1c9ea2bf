from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from returns_contracts.service_kit.s3 import S3Settings
from returns_contracts.service_kit.settings import ServiceSettings

MEGABYTE = 1024 * 1024


class MediaSettings(ServiceSettings, S3Settings):
    model_config = SettingsConfigDict(env_prefix="", extra="ignore")

    service_name: str = "media"
    http_port: int = 8002
    mongodb_database: str = "media"
    s3_bucket: str = "returns-media"

    # Links: built on the address browsers and e-mails reach media at, signed with a secret of
    # media's own (demo default: set a real one in production), valid long enough for a
    # customer-service e-mail to be read and acted on.
    media_base_url: str = "http://127.0.0.1:8002"
    media_link_secret: SecretStr = SecretStr("demo-media-link-secret-change-me")
    media_link_ttl_days: int = 30

    # R13: phone photos up to 15 MB. The pixel cap refuses decompression bombs before decoding
    # (50 megapixels is above every common phone's default output; RGB of it is ~150 MB).
    media_max_upload_bytes: int = 15 * MEGABYTE
    media_max_pixels: int = 50_000_000
    # The stored image: the long side of 2000 px lets JPEG draft mode decode a 12-megapixel
    # photo (4032 px) at half scale, and keeps cracks and labels readable for customer service.
    media_full_max_side: int = 2000
    media_thumbnail_max_side: int = 400
    media_jpeg_quality: int = 85
    # A JPEG whose pixels need no change is kept as sent, metadata stripped (lossless, a fifth
    # of the CPU). Its compressed data is then the sender's: turn this off to have every photo
    # re-encoded from decoded pixels, so a viewer only ever receives data media wrote.
    media_keep_sent_jpegs: bool = True
    # Decoding is CPU and memory heavy: at most this many images at once per process.
    media_image_workers: int = 2

    # R6: at most 5 photos per returned line; a draft gets this many uploads per window.
    media_photos_per_line: int = 5
    media_uploads_per_window: int = 30
    media_upload_window_seconds: int = 600

    # Origins whose pages may upload from the browser (comma-separated, e.g. the portal's);
    # empty: no cross-origin browser calls.
    media_cors_allow_origins: str = ""

    # Photos of a draft nobody submitted are deleted this long after its last upload.
    media_draft_retention_hours: float = 48.0
    media_cleanup_interval_seconds: float = 600.0
