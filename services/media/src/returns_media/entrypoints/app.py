"""The media process: photo upload, signed links, the internal lookup, the ReturnSubmitted
consumer that keeps submitted photos, and the clean-up of abandoned drafts."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse

from returns_contracts import CustomerAnswered, ReturnSubmitted
from returns_contracts.service_kit.errors import error_response
from returns_contracts.service_kit.kafka import Routes
from returns_contracts.service_kit.lifecycle import every
from returns_contracts.service_kit.process import ServiceProcess
from returns_media.adapters.imaging import PillowNormaliser
from returns_media.adapters.repository import MongoPhotoStore
from returns_media.adapters.s3 import PhotoBucket, PhotoObjects
from returns_media.config import MediaSettings
from returns_media.domain.errors import MediaError, TooManyUploads
from returns_media.domain.model import UploadLimits
from returns_media.entrypoints.http import media_router
from returns_media.service.links import LinkSigner
from returns_media.service.use_cases import MediaService


def create_app(settings: MediaSettings | None = None) -> FastAPI:
    settings = settings or MediaSettings()
    process = ServiceProcess.open(settings, settings.service_name)
    store = MongoPhotoStore(process.mongo[settings.mongodb_database])
    minio = settings.minio_client()
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

    process.subscribe(
        Routes()
        .on(ReturnSubmitted, service.record_submitted)
        .on(CustomerAnswered, service.record_answered),
        description="Keeps the photos of submitted returns and of customers' answers to a "
        "question; the others are deleted later.",
    )
    app = process.app(
        title="Returns - media",
        description="Photos of returned items: checked, upright, stripped of metadata, stored "
        "in a private S3 bucket and shared through signed, expiring links.",
        asyncapi="Consumes ReturnSubmitted and CustomerAnswered.",
        prepare=[bucket.ensure_exists, store.create_indexes],
        loops={
            "media-clean-up": every(
                settings.media_cleanup_interval_seconds,
                service.clean_up_abandoned,
                "clean-up of abandoned drafts",
            )
        },
        close=[normaliser.close],
        checks={"s3": bucket.check},
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
