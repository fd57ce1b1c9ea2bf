"""The composition root: the one place that builds the media service's use cases on their
adapters, from the settings.

`build_container` takes the adapters (the ports of `service/`), so the routes run on in-memory
fakes in unit tests; `connect` makes the real ones (MongoDB, S3, Pillow) around the kit's
`ServiceProcess`, which knows the order in which they start and stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from returns_contracts.service_kit.clock import Clock, utc_now
from returns_contracts.service_kit.process import ServiceProcess
from returns_media.adapters.imaging import PillowNormaliser
from returns_media.adapters.repository import MongoPhotoStore
from returns_media.adapters.s3 import PhotoBucket, PhotoObjects
from returns_media.config import MediaSettings
from returns_media.domain.model import UploadLimits
from returns_media.service.links import LinkSigner
from returns_media.service.ports import ImageNormaliser, ObjectStore, PhotoStore
from returns_media.service.use_cases import MediaService


@dataclass(frozen=True)
class Adapters:
    """What the use cases run on: the real adapters, or fakes in unit tests."""

    store: PhotoStore
    objects: ObjectStore
    normaliser: ImageNormaliser
    # None: the service's own clock (UTC).
    clock: Clock | None = None


@dataclass(frozen=True)
class Container:
    """The use cases, as the entrypoints (routes, consumer, clean-up loop) reach them."""

    settings: MediaSettings
    service: MediaService


def build_container(settings: MediaSettings, adapters: Adapters) -> Container:
    service = MediaService(
        store=adapters.store,
        objects=adapters.objects,
        normaliser=adapters.normaliser,
        signer=LinkSigner(
            settings.media_link_secret.get_secret_value(),
            settings.media_base_url,
            timedelta(days=settings.media_link_ttl_days),
        ),
        limits=UploadLimits(
            photos_per_line=settings.media_photos_per_line,
            uploads_per_window=settings.media_uploads_per_window,
            window=timedelta(seconds=settings.media_upload_window_seconds),
        ),
        portal_token_secret=settings.portal_token_secret,
        draft_retention=timedelta(hours=settings.media_draft_retention_hours),
        clock=adapters.clock or utc_now,
    )
    return Container(settings, service)


@dataclass(frozen=True)
class Runtime:
    """The real adapters of one process and what its lifespan prepares, checks and closes."""

    process: ServiceProcess
    container: Container
    store: MongoPhotoStore
    bucket: PhotoBucket
    normaliser: PillowNormaliser


def connect(settings: MediaSettings) -> Runtime:
    """The real adapters (clients only: nothing connects before the app starts)."""
    process = ServiceProcess.open(settings, settings.service_name)
    store = MongoPhotoStore(process.mongo[settings.mongodb_database])
    # One minio client for the process: the bucket's set-up and the objects share it.
    minio = settings.minio_client()
    normaliser = PillowNormaliser(
        max_pixels=settings.media_max_pixels,
        full_max_side=settings.media_full_max_side,
        thumbnail_max_side=settings.media_thumbnail_max_side,
        jpeg_quality=settings.media_jpeg_quality,
        keep_sent_jpegs=settings.media_keep_sent_jpegs,
        workers=settings.media_image_workers,
    )
    container = build_container(
        settings,
        Adapters(
            store=store,
            objects=PhotoObjects(minio, settings.s3_bucket),
            normaliser=normaliser,
        ),
    )
    return Runtime(
        process,
        container,
        store,
        PhotoBucket(minio, settings.s3_bucket, settings.s3_region),
        normaliser,
    )
