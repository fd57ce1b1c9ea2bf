"""The media process: photo upload, signed links, the internal lookup, the ReturnSubmitted
consumer that keeps submitted photos, and the clean-up of abandoned drafts."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry

from returns_contracts import ReturnSubmitted
from returns_contracts.service_kit.app import (
    install_asyncapi,
    kafka_check,
    mongo_check,
    new_broker,
    new_mongo_client,
)
from returns_contracts.service_kit.errors import error_response
from returns_contracts.service_kit.http import install_operations
from returns_contracts.service_kit.kafka import Routes, ensure_topics, subscribe
from returns_contracts.service_kit.logging import configure_logging
from returns_contracts.service_kit.s3 import new_minio_client
from returns_media.adapters.imaging import PillowNormaliser
from returns_media.adapters.repository import MongoPhotoStore
from returns_media.adapters.s3 import PhotoBucket, PhotoObjects
from returns_media.config import MediaSettings
from returns_media.domain.errors import MediaError, TooManyUploads
from returns_media.domain.model import UploadLimits
from returns_media.entrypoints.http import media_router
from returns_media.service.links import LinkSigner
from returns_media.service.use_cases import MediaService

logger = logging.getLogger(__name__)


def create_app(settings: MediaSettings | None = None) -> FastAPI:
    settings = settings or MediaSettings()
    configure_logging(settings.service_name, settings.log_level)
    registry = CollectorRegistry()
    broker = new_broker(settings, settings.service_name)
    mongo = new_mongo_client(settings)
    store = MongoPhotoStore(mongo[settings.mongodb_database])
    minio = new_minio_client(
        endpoint=settings.s3_endpoint,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        region=settings.s3_region,
        connect_timeout=settings.s3_connect_timeout_seconds,
        read_timeout=settings.s3_read_timeout_seconds,
    )
    bucket = PhotoBucket(minio, settings.s3_bucket, settings.s3_region)
    normaliser = PillowNormaliser(
        max_pixels=settings.media_max_pixels,
        full_max_side=settings.media_full_max_side,
        thumbnail_max_side=settings.media_thumbnail_max_side,
        jpeg_quality=settings.media_jpeg_quality,
        workers=settings.media_image_workers,
    )
    service = MediaService(
        store=store,
        objects=PhotoObjects(minio, settings.s3_bucket),
        normaliser=normaliser,
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
    )

    subscribe(
        broker,
        consumer=settings.service_name,
        topics=settings.topics,
        retry=settings.consumer_retry(),
        routes=Routes().on(ReturnSubmitted, service.record_submitted),
        description="Keeps the photos of submitted returns; the others are deleted later.",
    )

    async def clean_up_forever() -> None:
        while True:
            try:
                await service.clean_up_abandoned()
            except Exception:
                logger.exception("clean-up of abandoned drafts failed; trying again later")
            await asyncio.sleep(settings.media_cleanup_interval_seconds)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await bucket.ensure_exists()
        await store.create_indexes()
        await ensure_topics(
            settings.kafka_bootstrap_servers,
            settings.topics,
            settings.kafka_replication_factor,
            settings.kafka_min_insync_replicas,
        )
        await broker.start()
        cleaner = asyncio.create_task(clean_up_forever(), name="media-clean-up")
        try:
            yield
        finally:
            cleaner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await cleaner
            await broker.stop()
            normaliser.close()
            await mongo.close()

    app = FastAPI(
        title="Returns - media",
        version="0.1.0",
        description="Photos of returned items: checked, upright, stripped of metadata, stored "
        "in a private S3 bucket and shared through signed, expiring links.",
        lifespan=lifespan,
    )
    install_asyncapi(app, broker, "Returns - media", "Consumes ReturnSubmitted.")
    install_operations(
        app,
        checks={
            "mongodb": mongo_check(mongo),
            "s3": bucket.check,
            "kafka": kafka_check(broker),
        },
        registry=registry,
        timeout_seconds=settings.readiness_timeout_seconds,
    )

    origins = [origin.strip() for origin in settings.media_cors_allow_origins.split(",")]
    if any(origins):
        app.add_middleware(
            CORSMiddleware,
            allow_origins=[origin for origin in origins if origin],
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Correlation-ID"],
        )

    @app.exception_handler(MediaError)
    async def media_error(request: Request, error: MediaError) -> JSONResponse:
        response = error_response(error.status_code, error.code, error.message)
        if isinstance(error, TooManyUploads):
            response.headers["Retry-After"] = str(error.retry_after_seconds)
        if error.status_code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    app.include_router(
        media_router(
            service,
            internal_token=settings.internal_api_token,
            max_upload_bytes=settings.media_max_upload_bytes,
        )
    )
    return app
